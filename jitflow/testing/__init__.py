"""Helpers that start jitflow's real local dependencies (Temporal, moto, the Aptible emulator).

Used by the test suite, the benchmarks and ``jitflow dev``; none of them patch code.
"""
