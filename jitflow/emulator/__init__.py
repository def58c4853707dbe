"""A local stand-in for Aptible's auth API (``auth.aptible.com``): tests, benchmarks, the demo.

It serves the calls described in ``aptible-api.md`` with the same HAL bodies and status codes, keeps
its data in a JSON state file, and adds an admin API under ``/_emulator/`` for injected faults,
per-endpoint request counters and state inspection. See :func:`jitflow.emulator.app.create_app`.
"""

from jitflow.emulator.app import ADMIN_PREFIX, create_app
from jitflow.emulator.faults import FaultConfig, ScriptedFault
from jitflow.emulator.settings import EmulatorSettings
from jitflow.emulator.state import EmulatorState, StateError

__all__ = [
    "ADMIN_PREFIX",
    "EmulatorSettings",
    "EmulatorState",
    "FaultConfig",
    "ScriptedFault",
    "StateError",
    "create_app",
]
