"""Session-wide servers for the access-workflow and security tests: moto, the emulator, Temporal.

They start once (a few seconds) and are stopped at the end; the emulator's memberships are then
compared with its starting state, so a scenario that leaves access behind fails the suite.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from access_stack import Stack, running_worker
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from jitflow.devstack.binaries import temporal_cli, temporal_test_server
from jitflow.search_attributes import dev_server_args
from jitflow.temporal import ensure_search_attributes
from jitflow.testing.aptible_emulator import RunningAptibleEmulator, start_aptible_emulator
from jitflow.testing.moto_server import MotoServer


def _memberships(emulator: RunningAptibleEmulator) -> set[tuple[str, str]]:
    state = emulator.admin.state()
    return {(row["role_id"], row["user_id"]) for row in state["memberships"]}


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    with MotoServer() as server:
        yield server.url


@pytest.fixture(scope="session")
def emulator() -> Iterator[RunningAptibleEmulator]:
    running = start_aptible_emulator()
    before = _memberships(running)
    try:
        yield running
        after = _memberships(running)
        leftover = after - before
        missing = before - after
        assert not leftover, f"memberships left behind by the tests: {sorted(leftover)}"
        assert not missing, f"standing memberships removed by the tests: {sorted(missing)}"
    finally:
        running.stop()


@pytest.fixture(scope="session")
def session_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("workflows")


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(temporal_test_server()),
        data_converter=pydantic_data_converter,
    )
    try:
        await ensure_search_attributes(env.client)
        yield env
    finally:
        await env.shutdown()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_cli()),
        dev_server_extra_args=dev_server_args(),
        data_converter=pydantic_data_converter,
        ui=False,
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def dev_stack(
    dev_env: WorkflowEnvironment,
    emulator: RunningAptibleEmulator,
    moto_url: str,
    session_tmp: Path,
) -> AsyncIterator[Stack]:
    """A worker on the dev server: every end-to-end scenario, the ``temporal`` CLI, listing."""
    (session_tmp / "dev").mkdir()
    async with running_worker(dev_env.client, emulator, moto_url, session_tmp / "dev") as running:
        yield running
