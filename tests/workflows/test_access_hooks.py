"""on_escalate / on_deescalate run at their steps; after_* messages land in the timeline.

On the dev server (real time): a cancelled activity still sleeping in a worker thread keeps the
time-skipping test server from skipping time for the tests that follow.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from access_stack import Stack, running_worker, wait_for
from access_stack import test_config as example_test_config
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import CancelledError
from temporalio.testing import WorkflowEnvironment

from jitflow.config.models import Implementation
from jitflow.contracts.access import Decision
from jitflow.testing.aptible_emulator import EXAMPLE_READONLY_ROLE_ID, RunningAptibleEmulator
from workflows.access_request import AccessRequestWorkflow

HOOKS = Path(__file__).with_name("hooks_impl.py")

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest_asyncio.fixture(loop_scope="session")
async def hooks_stack(
    dev_env: WorkflowEnvironment,
    emulator: RunningAptibleEmulator,
    moto_url: str,
    tmp_path: Path,
) -> AsyncIterator[Stack]:
    config = example_test_config()
    plain = config.flows["plain"]
    hooked = plain.model_copy(
        update={
            "key": "hooked",
            "name": "hooked",
            "implementation": Implementation(kind="file", path=str(HOOKS)),
        }
    )
    config = config.model_copy(update={"flows": {**config.flows, "hooked": hooked}})
    async with running_worker(dev_env.client, emulator, moto_url, tmp_path, config) as stack:
        yield stack


async def test_on_escalate_can_call_the_grant_off(hooks_stack: Stack) -> None:
    handle = await hooks_stack.start(flow="hooked", target="admin_ro", reason="change freeze")
    await wait_for(handle, lambda s: s.ready_for_decision)
    await handle.execute_update(
        AccessRequestWorkflow.approve, Decision(approver="dave@example.com")
    )
    final = await handle.result()
    assert final.status == "deescalated"
    assert final.escalated_at is None
    assert [e.event for e in final.timeline][-1] == "deescalate"
    assert final.timeline[-1].message == "no grants during the change freeze"
    assert "alice@example.com" not in hooks_stack.members(EXAMPLE_READONLY_ROLE_ID)


async def test_hooks_run_around_a_grant_and_after_messages_are_kept(hooks_stack: Stack) -> None:
    handle = await hooks_stack.start(flow="hooked", target="admin_ro", duration=5)
    await wait_for(handle, lambda s: s.ready_for_decision)
    await handle.execute_update(
        AccessRequestWorkflow.approve, Decision(approver="dave@example.com")
    )
    final = await handle.result()
    assert final.status == "deescalated"
    events = [(e.event, e.message) for e in final.timeline]
    assert ("after_escalate", "granted main-aptible-admin-ro-role") in events
    assert [e for e, _ in events].index("after_escalate") < [e for e, _ in events].index(
        "deescalate"
    )
    hooks = []
    async for event in handle.fetch_history_events():
        if event.HasField("activity_task_scheduled_event_attributes"):
            attributes = event.activity_task_scheduled_event_attributes
            if attributes.activity_type.name == "reducer_run_hook":
                hooks.append(event.user_metadata.summary.data.decode())
    assert any("on_escalate" in h for h in hooks)
    assert any("on_deescalate" in h for h in hooks)
    assert "alice@example.com" not in hooks_stack.members(EXAMPLE_READONLY_ROLE_ID)


async def test_cancel_during_a_hook_cancels_the_run_and_grants_nothing(hooks_stack: Stack) -> None:
    handle = await hooks_stack.start(flow="hooked", target="admin_ro", reason="slow approval")
    await wait_for(handle, lambda s: s.ready_for_decision)
    await handle.execute_update(
        AccessRequestWorkflow.approve, Decision(approver="dave@example.com")
    )
    await asyncio.sleep(1)  # after_approve is sleeping now
    await handle.cancel()
    with pytest.raises(WorkflowFailureError) as failure:
        await handle.result()
    assert isinstance(failure.value.cause, CancelledError)
    state = await handle.query(AccessRequestWorkflow.status)
    assert state.status == "cancelled"
    assert state.escalated_at is None
    assert "alice@example.com" not in hooks_stack.members(EXAMPLE_READONLY_ROLE_ID)
