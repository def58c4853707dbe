"""A membership owner stays open for a while after its removal (``JITFLOW_OWNER_LINGER``).

When many grants end together, each owner's removal used to close the owner in the same workflow
task, and the server's visibility write for that close ran between the removals still due (on
the dev server, the costliest write of a removal: ``bench/README.md``). An owner that lingers
only removes in that task, and closes later, unless a new lease for the same membership comes
first: then it adds the membership back itself, as the same run.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from access_stack import ADMIN_ROLE, Stack, keep_history, running_worker, wait_for
from temporalio.api.enums.v1 import EventType
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from jitflow.contracts.access import AccessState, Decision
from jitflow.contracts.membership import RoleMembershipState
from jitflow.testing.aptible_emulator import RunningAptibleEmulator
from workflows.access_request import AccessRequestWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")

LINGER = timedelta(seconds=8)
REQUESTER = "carol@example.com"


async def _granted(stack: Stack, duration: int) -> tuple[WorkflowHandle[Any, AccessState], str]:
    handle = await stack.start(target="admin_prod", requester=REQUESTER, duration=duration)
    await wait_for(handle, lambda s: s.ready_for_decision)
    await handle.execute_update(
        AccessRequestWorkflow.approve, Decision(approver="dave@example.com")
    )
    state = await wait_for(handle, lambda s: s.status == "escalated")
    assert state.membership_workflow_id is not None
    return handle, state.membership_workflow_id


def _completions_after_removals(events: list[Any]) -> list[bool]:
    """For each workflow task that ran a removal: whether its commands closed the run."""
    closes: list[bool] = []
    for index, event in enumerate(events):
        attributes = event.marker_recorded_event_attributes
        if event.event_type != EventType.EVENT_TYPE_MARKER_RECORDED:
            continue
        if "remove" not in str(attributes.details):
            continue
        following = events[index + 1 : index + 3]
        closes.append(
            any(
                e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED for e in following
            )
        )
    return closes


async def test_an_owner_closes_a_while_after_its_removal_and_a_new_grant_meanwhile_reuses_it(
    dev_env: WorkflowEnvironment,
    emulator: RunningAptibleEmulator,
    moto_url: str,
    session_tmp: Path,
) -> None:
    tmp = session_tmp / f"linger-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    async with running_worker(dev_env.client, emulator, moto_url, tmp, linger=LINGER) as stack:
        first, owner_id = await _granted(stack, duration=5)
        owner = stack.client.get_workflow_handle(owner_id, result_type=RoleMembershipState)
        described = await owner.describe()
        # Another stack's owner of this membership would take the lease and not linger.
        assert described.task_queue == stack.task_queue
        run_id = described.run_id
        assert (await first.result()).status == "deescalated"
        assert REQUESTER not in stack.members(ADMIN_ROLE)
        # Removed, and still open: the removal's workflow task did not close it.
        lingering = await owner.describe()
        assert lingering.status == WorkflowExecutionStatus.RUNNING
        metadata = await owner.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
        assert "Membership removed: closes at" in metadata.current_details

        # A grant while it lingers is the same run's: it adds the membership back.
        second, second_owner = await _granted(stack, duration=5)
        assert second_owner == owner_id
        assert (await owner.describe()).run_id == run_id
        assert REQUESTER in stack.members(ADMIN_ROLE)
        assert (await second.result()).status == "deescalated"
        assert REQUESTER not in stack.members(ADMIN_ROLE)

        # With no new lease, it closes once the linger is over, removals long done.
        final = await owner.result()
        assert final.membership is None and not final.leases
        events = [event async for event in owner.fetch_history_events()]
        assert _completions_after_removals(events) == [False, False]
        lingered = [
            event.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
            for event in events
            if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED
        ]
        assert lingered.count(LINGER) == 2  # one after each removal; the first was cancelled
        assert any(e.event_type == EventType.EVENT_TYPE_TIMER_CANCELED for e in events)
        await keep_history(owner, "membership_owner_lingers_then_serves_a_new_grant")
