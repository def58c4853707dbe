"""Benchmarks of jitflow on a local stack (issue 9): ``make bench`` / ``make bench-quick``, and
``make bench-smoke`` (CI: does the benchmark still work?).

Not tests: no benchmark runs under pytest (``tests/bench/`` checks only this package's own code).
``bench/README.md`` explains every figure.
"""
