"""A grant that ends on its timer is told so by its membership's owner (``LeaseEnded``).

Before, each ending request released its lease with an activity whose update waited for the
owner's removal: two more activities' worth of round trips, an update and two owner workflow
tasks per removal. Now the removal activity signals the request once the membership is gone (the
owner signals it itself when the membership stays, for another grant or standing access), and the
request records the end in one workflow task. News is no proof: it counts only after the grant's
own end and from the grant's owner; the owner removes on its own timer whatever a signal says.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from access_stack import ADMIN_ROLE, DEVELOPERS_ROLE, Stack, keep_history, status, wait_for
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle

from jitflow.contracts import activities as contract
from jitflow.contracts.access import AccessState, Decision, Revocation
from jitflow.contracts.membership import LeaseEnded
from jitflow.contracts.names import LEASE_ENDED_SIGNAL, RELEASE_LEASE_UPDATE
from workflows.access_request import AccessRequestWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
def stack(dev_stack: Stack) -> Stack:
    """The dev server's stack (real time; see ``test_access_paths``)."""
    return dev_stack


async def _escalated(
    stack: Stack, approver: str = "dave@example.com", **request: Any
) -> tuple[WorkflowHandle[Any, AccessState], str]:
    handle = await stack.start(target="admin_prod", **request)
    await wait_for(handle, lambda s: s.ready_for_decision)
    await handle.execute_update(AccessRequestWorkflow.approve, Decision(approver=approver))
    state = await wait_for(handle, lambda s: s.status == "escalated")
    assert state.membership_workflow_id is not None
    return handle, state.membership_workflow_id


async def _events(handle: WorkflowHandle[Any, Any]) -> list[Any]:
    return [event async for event in handle.fetch_history_events()]


def _activity_types(events: list[Any]) -> list[str]:
    return [
        event.activity_task_scheduled_event_attributes.activity_type.name
        for event in events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]


def _signals(events: list[Any]) -> list[str]:
    return [
        event.workflow_execution_signaled_event_attributes.signal_name
        for event in events
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    ]


def _updates(events: list[Any]) -> list[str]:
    return [
        event.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
        for event in events
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    ]


async def test_an_ending_grant_is_told_by_the_removal_and_releases_nothing(stack: Stack) -> None:
    handle, owner_id = await _escalated(stack, requester="bob@example.com", duration=5)
    final: AccessState = await handle.result()
    assert final.status == "deescalated"
    assert "bob@example.com" not in stack.members(ADMIN_ROLE)
    assert final.deescalated_at is not None and final.expires_at is not None
    # Recorded right after the removal, not at the end of the fallback grace.
    assert (final.deescalated_at - final.expires_at).total_seconds() < 30
    events = await _events(handle)
    assert LEASE_ENDED_SIGNAL in _signals(events)
    assert contract.RELEASE_LEASE.name not in _activity_types(events)
    owner = stack.client.get_workflow_handle(owner_id)
    assert RELEASE_LEASE_UPDATE not in _updates(await _events(owner))
    await keep_history(handle, "expiry_told_by_the_removal")
    await keep_history(owner, "membership_owner_removal_tells_the_request")


async def test_news_before_the_grant_ends_is_ignored(stack: Stack) -> None:
    """Anyone can signal: early news neither ends the request nor touches the membership."""
    handle, owner_id = await _escalated(stack, requester="carol@example.com", duration="1h")
    forged = LeaseEnded(
        membership_workflow_id=owner_id, membership_removed=True, remaining_leases=0
    )
    await stack.raw_client.get_workflow_handle(handle.id).signal(LEASE_ENDED_SIGNAL, forged)
    await asyncio.sleep(1)
    assert (await status(handle)).status == "escalated"
    assert "carol@example.com" in stack.members(ADMIN_ROLE)
    await handle.execute_update(AccessRequestWorkflow.revoke, Revocation(by="carol@example.com"))
    final: AccessState = await handle.result()
    assert final.status == "deescalated"
    assert contract.RELEASE_LEASE.name in _activity_types(await _events(handle))
    assert "carol@example.com" not in stack.members(ADMIN_ROLE)


async def test_the_owner_tells_a_grant_that_ends_while_another_keeps_the_membership(
    stack: Stack,
) -> None:
    short, owner_id = await _escalated(stack, requester="bob@example.com", duration=5)
    long, _ = await _escalated(stack, requester="bob@example.com", duration=10)
    final: AccessState = await asyncio.wait_for(short.result(), timeout=30)
    assert final.status == "deescalated"
    assert "bob@example.com" in stack.members(ADMIN_ROLE), "the later grant still covers it"
    assert contract.RELEASE_LEASE.name not in _activity_types(await _events(short))
    owner = stack.client.get_workflow_handle(owner_id)
    owner_events = await _events(owner)
    assert any(
        event.event_type == EventType.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED
        for event in owner_events
    )
    await long.execute_update(AccessRequestWorkflow.revoke, Revocation(by="bob@example.com"))
    assert (await long.result()).status == "deescalated"
    assert "bob@example.com" not in stack.members(ADMIN_ROLE)
    await keep_history(short, "overlap_short_told_by_the_owner")
    await keep_history(owner, "membership_owner_tells_an_overlapped_request")


async def test_standing_access_ends_the_grant_with_the_owner_s_news(stack: Stack) -> None:
    assert "alice@example.com" in stack.members(DEVELOPERS_ROLE)
    handle = await stack.start(target="developers", duration=5)
    await wait_for(handle, lambda s: s.ready_for_decision)
    await handle.execute_update(
        AccessRequestWorkflow.approve, Decision(approver="dave@example.com")
    )
    final: AccessState = await asyncio.wait_for(handle.result(), timeout=30)
    assert final.status == "deescalated" and final.preexisting is True
    assert "alice@example.com" in stack.members(DEVELOPERS_ROLE)
    events = await _events(handle)
    assert LEASE_ENDED_SIGNAL in _signals(events)
    assert contract.RELEASE_LEASE.name not in _activity_types(events)
    await keep_history(handle, "preexisting_membership_told_by_the_owner")
