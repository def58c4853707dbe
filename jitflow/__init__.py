"""jitflow: just-in-time privileged access for Aptible, on Temporal.

This package holds everything that is neither a workflow, an activity nor a reducer:
configuration, the identity store, the CLI, the local stack and the Aptible emulator.
"""

__version__ = "0.1.0"
