"""Write benchmarks/RESULTS.md from benchmarks/results/*.json: `.venv/bin/python -m benchmarks.report`."""

import sys

from benchmarks.harness.report import main

if __name__ == "__main__":
    sys.exit(main())
