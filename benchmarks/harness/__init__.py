"""What every benchmark shares, one concern a module: benchmarks/README.md says which does what."""
