"""Everything one running emulator holds: its state, settings, faults and request counters."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from jitflow.emulator.faults import FaultConfig, FaultInjector
from jitflow.emulator.settings import EmulatorSettings
from jitflow.emulator.state import EmulatorState


class EmulatorRuntime:
    """Mutable holder shared by the Aptible handlers, the admin handlers and the fault middleware.

    The server runs on one event loop and no handler awaits between reading and changing the
    state, so changes need no lock.
    """

    def __init__(
        self,
        state: EmulatorState,
        *,
        settings: EmulatorSettings | None = None,
        faults: FaultConfig | None = None,
        state_path: Path | None = None,
    ) -> None:
        self.state = state
        self.settings = settings or EmulatorSettings()
        self.faults = FaultInjector(faults)
        self.counters: Counter[str] = Counter()
        self.state_path = state_path

    def changed(self) -> None:
        """Persist the state after a change, when the emulator was started with a state file."""
        if self.state_path is not None:
            self.state.save(self.state_path)
