"""Local stand-ins for the APIs jitflow calls: tests, benchmarks, the demo.

Mostly Aptible's auth API (``auth.aptible.com``, the modules below); ``pagerduty``, ``okta``,
``knowbe4`` and ``lambda_api`` serve the endpoints reducers' integration calls use, on the small
shared base of ``service``.

The Aptible emulator serves the calls described in ``aptible-api.md`` with the same HAL bodies and status codes, keeps
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
