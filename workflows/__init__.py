"""Temporal workflows. Deterministic code only: no I/O, clocks, randomness or threads here."""
