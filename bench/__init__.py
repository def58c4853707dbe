"""Benchmarks of jitflow on a local stack (issue 9): ``make bench`` / ``make bench-quick``.

Not tests: nothing here runs under pytest. ``bench/README.md`` explains every figure.
"""
