"""A grant that ends on its timer is told so by its membership's owner, not released.

Before, each ending request released its lease with an activity whose update waited for the
owner's removal: another activity, an owner update and two owner workflow tasks per removal. Now
the removal activity sends the request a ``lease_ended`` update signed with the worker's key
once the membership is gone, and the request records the end in one workflow task. When the
membership stays (another grant, standing access) the owner signals an unsigned hint, and the
request releases its lease to hear the outcome from the owner. Neither is proof of anything: the
update's validator refuses news that does not verify, a hint counts only after the grant's end,
and the owner removes on its own timer whatever a caller sends.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from access_stack import (
    ADMIN_ROLE,
    DEVELOPERS_ROLE,
    WORKER_KEY_SECRET,
    Stack,
    keep_history,
    local_activity_types,
    secret_reader,
    status,
    wait_for,
)
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError

from jitflow.contracts import activities as contract
from jitflow.contracts.access import AccessRequestInput, AccessState, Decision, Revocation
from jitflow.contracts.membership import (
    LeaseEnded,
    LeaseEndHint,
    LeaseRequest,
    RoleMembershipState,
)
from jitflow.contracts.names import (
    ADD_LEASE_UPDATE,
    LEASE_END_HINT_SIGNAL,
    LEASE_ENDED_UPDATE,
    RELEASE_LEASE_UPDATE,
)
from jitflow.trust.worker_key import WorkerKeyring
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


def _updates(events: list[Any]) -> list[str]:
    return [
        event.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
        for event in events
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    ]


def _signalled_external(events: list[Any]) -> bool:
    return any(
        event.event_type == EventType.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED
        for event in events
    )


def _forged(handle: WorkflowHandle[Any, Any], owner_id: str, run_id: str) -> LeaseEnded:
    """News as an attacker can write it: every field right, the signature not the worker's."""
    return LeaseEnded(
        membership_workflow_id=owner_id,
        holder=handle.id,
        holder_run_id=run_id,
        membership_removed=True,
        remaining_leases=0,
        key_id="SHA256:forged",
        signature="Zm9yZ2Vk",
    )


async def test_an_ending_grant_is_told_by_the_removal_and_releases_nothing(stack: Stack) -> None:
    handle, owner_id = await _escalated(stack, requester="bob@example.com", duration=5)
    final: AccessState = await handle.result()
    assert final.status == "deescalated"
    assert "bob@example.com" not in stack.members(ADMIN_ROLE)
    assert final.deescalated_at is not None and final.expires_at is not None
    # Recorded right after the removal, not at the end of the fallback grace.
    assert (final.deescalated_at - final.expires_at).total_seconds() < 30
    events = await _events(handle)
    assert LEASE_ENDED_UPDATE in _updates(events)
    assert contract.RELEASE_LEASE.name not in _activity_types(events)
    owner = stack.client.get_workflow_handle(owner_id)
    assert RELEASE_LEASE_UPDATE not in _updates(await _events(owner))
    # Owners go first when tasks wait in the queue (many grants ending together); the request
    # keeps the default priority.
    owner_info = (await owner.describe()).raw_description.workflow_execution_info
    request_info = (await handle.describe()).raw_description.workflow_execution_info
    assert owner_info.priority.priority_key == 1
    assert request_info.priority.priority_key in (0, 3)
    await keep_history(handle, "expiry_told_by_signed_news")
    await keep_history(owner, "membership_owner_removal_sends_signed_news")


async def test_the_owner_adds_and_removes_in_the_workflow_task_that_asks(stack: Stack) -> None:
    """The add and the removal are local activities: no activity task waits in the queue before
    the ``POST`` or the ``DELETE``; the grant is answered in the owner's first workflow task, and
    the whole removal is one workflow task after its timer fired."""
    handle, owner_id = await _escalated(stack, requester="bob@example.com", duration=5)
    final: AccessState = await handle.result()
    assert final.status == "deescalated"
    assert "bob@example.com" not in stack.members(ADMIN_ROLE)
    # The news went after the local removal had returned, and reached the request.
    assert LEASE_ENDED_UPDATE in _updates(await _events(handle))
    owner = stack.client.get_workflow_handle(owner_id, result_type=RoleMembershipState)
    await owner.result()
    events = await _events(owner)
    add, removal = contract.ADD_MEMBERSHIP.name, contract.REMOVE_MEMBERSHIP.name
    assert local_activity_types(events) == [add, removal]
    assert add not in _activity_types(events) and removal not in _activity_types(events)
    # The add runs locally too: the grant's add_lease is answered in the owner's first task.
    answered = next(
        i
        for i, event in enumerate(events)
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED
    )
    before = [event.event_type for event in events[:answered]]
    assert before.count(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) == 1
    fired = max(
        i for i, event in enumerate(events) if event.event_type == EventType.EVENT_TYPE_TIMER_FIRED
    )
    after = [event.event_type for event in events[fired:]]
    assert after.count(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) == 1
    assert after[-1] == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED
    await keep_history(owner, "membership_owner_removes_locally")  # the name of its first version


async def test_forged_news_and_early_hints_change_nothing(stack: Stack) -> None:
    handle, owner_id = await _escalated(stack, requester="carol@example.com", duration="1h")
    run_id = (await handle.describe()).run_id
    attacker = stack.raw_client.get_workflow_handle(handle.id)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await attacker.execute_update(LEASE_ENDED_UPDATE, _forged(handle, owner_id, run_id))
    assert "has not reached its end" in str(refused.value.cause)
    await attacker.signal(LEASE_END_HINT_SIGNAL, LeaseEndHint(membership_workflow_id=owner_id))
    await asyncio.sleep(1)
    assert (await status(handle)).status == "escalated"
    assert "carol@example.com" in stack.members(ADMIN_ROLE)
    assert LEASE_ENDED_UPDATE not in _updates(await _events(handle))
    await handle.execute_update(AccessRequestWorkflow.revoke, Revocation(by="carol@example.com"))
    final: AccessState = await handle.result()
    assert final.status == "deescalated"
    assert contract.RELEASE_LEASE.name in _activity_types(await _events(handle))
    assert "carol@example.com" not in stack.members(ADMIN_ROLE)


async def test_with_its_owner_terminated_a_forged_end_still_leads_to_a_cleanup(
    stack: Stack,
) -> None:
    """The owner cannot send news; an attacker's forged news is refused, and their hint only
    makes the request release its lease, which starts a cleanup owner that removes it."""
    handle, owner_id = await _escalated(stack, requester="bob@example.com", duration=5)
    run_id = (await handle.describe()).run_id
    await stack.raw_client.get_workflow_handle(owner_id).terminate("attacker")
    expires_at = (await status(handle)).expires_at
    assert expires_at is not None
    await asyncio.sleep(6)
    attacker = stack.raw_client.get_workflow_handle(handle.id)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await attacker.execute_update(LEASE_ENDED_UPDATE, _forged(handle, owner_id, run_id))
    assert "signature does not verify" in str(refused.value.cause)
    assert "bob@example.com" in stack.members(ADMIN_ROLE)
    await attacker.signal(LEASE_END_HINT_SIGNAL, LeaseEndHint(membership_workflow_id=owner_id))
    final: AccessState = await asyncio.wait_for(handle.result(), timeout=60)
    assert final.status == "deescalated"
    assert "cleanup owner" in (final.timeline[-1].message or "")
    assert "bob@example.com" not in stack.members(ADMIN_ROLE)


async def test_the_owner_hints_a_grant_that_ends_while_another_keeps_the_membership(
    stack: Stack,
) -> None:
    short, owner_id = await _escalated(stack, requester="bob@example.com", duration=5)
    long, _ = await _escalated(stack, requester="bob@example.com", duration=10)
    final: AccessState = await asyncio.wait_for(short.result(), timeout=30)
    assert final.status == "deescalated"
    assert "bob@example.com" in stack.members(ADMIN_ROLE), "the later grant still covers it"
    # The hint made it release at once (the owner answers that the lease had ended).
    assert contract.RELEASE_LEASE.name in _activity_types(await _events(short))
    owner = stack.client.get_workflow_handle(owner_id)
    assert _signalled_external(await _events(owner))
    await long.execute_update(AccessRequestWorkflow.revoke, Revocation(by="bob@example.com"))
    assert (await long.result()).status == "deescalated"
    assert "bob@example.com" not in stack.members(ADMIN_ROLE)
    await keep_history(short, "overlap_short_hinted_by_the_owner")
    await keep_history(owner, "membership_owner_hints_an_overlapped_request")


async def test_a_copy_of_a_lease_that_ended_on_its_timer_is_refused(stack: Stack) -> None:
    """Nothing releases a lease that ended on the owner's timer any more; the owner tombstones
    it itself, so a requester who re-sends a copy of it (ticket and all, read from the owner's
    state) cannot hold the membership past the other grant that keeps it."""
    short, owner_id = await _escalated(stack, requester="bob@example.com", duration=5)
    long, _ = await _escalated(stack, requester="bob@example.com", duration=10)
    owner = stack.raw_client.get_workflow_handle(owner_id)
    held = await owner.query("state", result_type=RoleMembershipState)
    copy = next(lease for lease in held.leases if lease.holder == short.id)
    assert copy.ticket is not None and copy.ticket.not_after is not None
    await short.result()
    stretched = copy.model_copy(update={"ends_at": copy.ticket.not_after})
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await owner.execute_update(ADD_LEASE_UPDATE, LeaseRequest(key=held.key, lease=stretched))
    assert "already released" in str(refused.value.cause)
    assert (await long.result()).status == "deescalated"
    for _ in range(100):
        if "bob@example.com" not in stack.members(ADMIN_ROLE):
            break
        await asyncio.sleep(0.1)
    assert "bob@example.com" not in stack.members(ADMIN_ROLE)


async def test_standing_access_ends_the_grant_after_the_owner_s_hint(stack: Stack) -> None:
    assert "alice@example.com" in stack.members(DEVELOPERS_ROLE)
    handle = await stack.start(target="developers", duration=5)
    await wait_for(handle, lambda s: s.ready_for_decision)
    await handle.execute_update(
        AccessRequestWorkflow.approve, Decision(approver="dave@example.com")
    )
    final: AccessState = await asyncio.wait_for(handle.result(), timeout=30)
    assert final.status == "deescalated" and final.preexisting is True
    assert "alice@example.com" in stack.members(DEVELOPERS_ROLE)
    await keep_history(handle, "preexisting_membership_hinted_by_the_owner")


async def test_news_signed_with_the_worker_key_before_the_end_is_refused(
    stack: Stack, moto_url: str
) -> None:
    """Even the worker's own signature cannot end a grant's record before the grant's end (the
    worker signs only for ended grants; this is the request's own check behind that)."""
    handle, owner_id = await _escalated(stack, requester="carol@example.com", duration="1h")
    run_id = (await handle.describe()).run_id
    keyring = WorkerKeyring.load_or_create(secret_reader(moto_url).boto_client(), WORKER_KEY_SECRET)
    unsigned = _forged(handle, owner_id, run_id).model_copy(
        update={"key_id": keyring.key_id, "signature": ""}
    )
    signed = unsigned.model_copy(update={"signature": keyring.sign(unsigned.signed_bytes())})
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await stack.raw_client.get_workflow_handle(handle.id).execute_update(
            LEASE_ENDED_UPDATE, signed
        )
    assert "has not reached its end" in str(refused.value.cause)
    assert (await status(handle)).status == "escalated"
    await handle.execute_update(AccessRequestWorkflow.revoke, Revocation(by="carol@example.com"))
    assert (await handle.result()).status == "deescalated"
    assert "carol@example.com" not in stack.members(ADMIN_ROLE)


async def test_a_grant_that_waits_on_a_busy_owner_gets_its_whole_length_and_ends_promptly(
    stack: Stack,
) -> None:
    """The next grant on a (role, user) whose owner is still removing the last one: its length
    counts from when the owner adds the membership back, not from its approval, and it ends on
    the owner's news at that end, not after the news grace. (Before, an owner busy past the
    asked end dropped the lease unconfirmed, and the request waited five minutes.)"""
    first, owner_id = await _escalated(stack, requester="bob@example.com", duration=5)
    second = await stack.start(target="admin_prod", requester="bob@example.com", duration=5)
    await wait_for(second, lambda s: s.ready_for_decision)
    ends = (await status(first)).expires_at
    assert ends is not None
    # The first grant's removal takes 8 s, longer than the whole second grant.
    stack.emulator.admin.fail_next("DELETE /memberships/{membership}", kind="delay", delay_ms=8000)
    # A second after the first grant's end the owner is inside that removal.
    await asyncio.sleep((ends - datetime.now(UTC)).total_seconds() + 1)
    assert (await status(first)).status == "escalated", "its removal is still under way"
    await second.execute_update(
        AccessRequestWorkflow.approve, Decision(approver="dave@example.com")
    )
    granted = await wait_for(second, lambda s: s.status == "escalated", timeout=30)
    assert granted.membership_workflow_id == owner_id
    assert "bob@example.com" in stack.members(ADMIN_ROLE)
    final: AccessState = await asyncio.wait_for(second.result(), timeout=60)
    assert final.status == "deescalated"
    assert final.escalated_at is not None and final.expires_at is not None
    assert final.deescalated_at is not None
    assert (final.expires_at - final.escalated_at).total_seconds() > 4
    assert (final.deescalated_at - final.expires_at).total_seconds() < 30
    assert "bob@example.com" not in stack.members(ADMIN_ROLE)
    owner = stack.client.get_workflow_handle(owner_id)
    await keep_history(second, "grant_confirmed_by_a_busy_owner")
    await keep_history(owner, "membership_owner_busy_past_a_grant_s_asked_end")


def _pending_timer(events: list[Any]) -> float | None:
    """Seconds of the owner's last timer, if it is still pending (neither fired nor cancelled)."""
    started: dict[int, float] = {}
    for event in events:
        if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            timeout = event.timer_started_event_attributes.start_to_fire_timeout
            started[event.event_id] = timeout.ToTimedelta().total_seconds()
        elif event.event_type == EventType.EVENT_TYPE_TIMER_FIRED:
            started.pop(event.timer_fired_event_attributes.started_event_id, None)
        elif event.event_type == EventType.EVENT_TYPE_TIMER_CANCELED:
            started.pop(event.timer_canceled_event_attributes.started_event_id, None)
    return max(started.values()) if started else None


async def test_a_re_sent_lease_whose_confirmation_keeps_its_end_is_still_timed(
    stack: Stack,
) -> None:
    """A terminated run's lease, replaced by the next run of the same workflow id, is neither
    held nor tombstoned. Re-sent with its ticket's latest end, its confirmation does not move
    that end; the owner must still arm its timer for it (it left the lease out while the add
    waited for its confirmation), or nothing but the expiry guard would ever end it."""
    workflow_id = f"resent-{uuid.uuid4().hex[:8]}"
    handles = []
    for run in (1, 2):
        handle = await stack.client.start_workflow(
            AccessRequestWorkflow.run,
            AccessRequestInput(
                flow="plain", target="admin_prod", requester="bob@example.com", duration="1h"
            ),
            id=workflow_id,
            task_queue=stack.task_queue,
        )
        await wait_for(handle, lambda s: s.ready_for_decision)
        await handle.execute_update(
            AccessRequestWorkflow.approve, Decision(approver="dave@example.com")
        )
        state = await wait_for(handle, lambda s: s.status == "escalated")
        owner_id = state.membership_workflow_id
        assert owner_id is not None
        handles.append(handle)
        if run == 1:
            owner = stack.raw_client.get_workflow_handle(owner_id)
            held = await owner.query("state", result_type=RoleMembershipState)
            first = next(lease for lease in held.leases if lease.holder == workflow_id)
            await handle.terminate("the requester's own terminate: its lease stays held")
    assert first.ticket is not None and first.ticket.not_after is not None
    copy = first.model_copy(update={"ends_at": first.ticket.not_after})
    await owner.execute_update(ADD_LEASE_UPDATE, LeaseRequest(key=held.key, lease=copy))
    left = _pending_timer(await _events(owner))
    assert left is not None, "the re-sent lease's end has no timer"
    assert abs(left - (first.ticket.not_after - datetime.now(UTC)).total_seconds()) < 30
    # The second run's revoke releases the holder's lease, the copy included.
    await handles[1].execute_update(AccessRequestWorkflow.revoke, Revocation(by="bob@example.com"))
    assert (await handles[1].result()).status == "deescalated"
    for _ in range(100):
        if "bob@example.com" not in stack.members(ADMIN_ROLE):
            break
        await asyncio.sleep(0.1)
    assert "bob@example.com" not in stack.members(ADMIN_ROLE)
    await stack.client.get_workflow_handle(owner_id).result()
    await keep_history(owner, "membership_owner_times_a_re_sent_lease_that_kept_its_end")
