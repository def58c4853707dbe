"""Temporal activities: every side effect jitflow has (Aptible, Secrets Manager, the identity store, user code)."""
