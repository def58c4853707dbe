"""Fixtures: a real Aptible emulator on a loopback port, and a client pointed at it.

One emulator serves a whole test module (starting and stopping one costs ~0.2 s); each test gets
it back in its initial condition: the example state, no faults, zeroed counters, default settings.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from aptible_test_support import FAST_RETRIES

from activities.aptible.client import AptibleClient
from activities.aptible.credentials import AptibleCredentials
from jitflow.emulator.settings import EmulatorSettings
from jitflow.testing.aptible_emulator import (
    EXAMPLE_BOT_EMAIL,
    EXAMPLE_BOT_PASSWORD,
    RunningAptibleEmulator,
    aptible_emulator,
    example_state,
)


@pytest.fixture(scope="module")
def module_emulator() -> Iterator[RunningAptibleEmulator]:
    with aptible_emulator() as running:
        yield running


@pytest.fixture
def emulator(module_emulator: RunningAptibleEmulator) -> RunningAptibleEmulator:
    admin = module_emulator.admin
    admin.clear_faults()
    admin.update_settings(**EmulatorSettings().model_dump())
    admin.load_state(example_state())
    admin.reset_counters()
    return module_emulator


@pytest.fixture
def bot() -> AptibleCredentials:
    return AptibleCredentials(EXAMPLE_BOT_EMAIL, EXAMPLE_BOT_PASSWORD)


@pytest.fixture
async def client(emulator: RunningAptibleEmulator) -> AsyncIterator[AptibleClient]:
    async with AptibleClient(emulator.base_url, timeout=2.0, retry_delays=FAST_RETRIES) as api:
        yield api
