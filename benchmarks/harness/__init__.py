"""What every benchmark shares, one concern a module.

``results`` (the command line, the JSON without machine paths), ``measure`` (percentiles, CPU,
memory), ``fakeapi`` (the fake Bot API, timing and counting), ``bots`` (the bots under test and
the launcher that waits for ``/readyz``), ``load`` (people pressing buttons), ``profiling``
(py-spy, pyinstrument) and ``report`` (RESULTS.md).
"""
