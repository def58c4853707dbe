"""Every path of an access request, end to end: real activities, the Aptible emulator, moto.

Runs on the dev server in real time, with 5-second grants and a 3-second request timeout where
a scenario waits for an end. The time-skipping test server strands a run whose workflow task
cancels a timer that fired while the task was with the worker (it refuses the completion with
"invalid history builder state for action" and never retries it, temporalio/sdk-java#3088);
jitflow cancels timers on every approval and revocation, so these scenarios hung there under load.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import pytest
from access_stack import (
    ADMIN_ROLE,
    DEVELOPERS_ROLE,
    READONLY_ROLE,
    Stack,
    keep_history,
    status,
    wait_for,
)
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError

from jitflow.contracts.access import (
    AccessState,
    Cancellation,
    Decision,
    Revocation,
)
from jitflow.contracts.membership import RoleMembershipState
from workflows.access_request import AccessRequestWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
def stack(dev_stack: Stack) -> Stack:
    """The dev server's stack (see the module docstring)."""
    return dev_stack


async def update_events(handle: WorkflowHandle[Any, AccessState]) -> list[str]:
    """Names of the update events in the history (accepted or rejected)."""
    names = []
    async for event in handle.fetch_history_events():
        name = EventType.Name(event.event_type)
        if "UPDATE" in name:
            names.append(name)
    return names


def ready(state: AccessState) -> bool:
    return state.ready_for_decision


async def test_approve_escalates_then_expires_and_removes(stack: Stack) -> None:
    handle = await stack.start(target="admin_prod", duration=5)
    await wait_for(handle, ready)
    assert "alice@example.com" not in stack.members(ADMIN_ROLE)

    outcome = await handle.execute_update(
        AccessRequestWorkflow.approve, Decision(approver="dave@example.com", message="ok")
    )
    assert outcome.accepted
    state = await wait_for(handle, lambda s: s.status == "escalated")
    assert "alice@example.com" in stack.members(ADMIN_ROLE)
    assert state.expires_at is not None and state.escalated_at is not None
    assert (state.expires_at - state.escalated_at).total_seconds() == 5

    final = await handle.result()
    assert final.status == "deescalated"
    assert "alice@example.com" not in stack.members(ADMIN_ROLE)
    assert [entry.event for entry in final.timeline] == [
        "request",
        "approve",
        "escalate",
        "deescalate",
    ]
    await keep_history(handle, "approve_escalates_then_expires_and_removes")


async def test_deny_escalates_nothing(stack: Stack) -> None:
    handle = await stack.start(target="admin_prod")
    await wait_for(handle, ready)
    await handle.execute_update(
        AccessRequestWorkflow.deny, Decision(approver="dave@example.com", message="no")
    )
    final = await handle.result()
    assert final.status == "denied"
    assert final.approver == "dave@example.com"
    assert "alice@example.com" not in stack.members(ADMIN_ROLE)
    await keep_history(handle, "deny_escalates_nothing")


async def test_pending_request_expires(stack: Stack) -> None:
    handle = await stack.start(flow="quick_expiry", target="admin_ro")
    await wait_for(handle, ready)
    final = await handle.result()
    assert final.status == "expired"
    assert final.timeline[-1].event == "request_expire"
    assert "alice@example.com" not in stack.members(READONLY_ROLE)
    await keep_history(handle, "pending_request_expires")


async def test_revoke_removes_access_early(stack: Stack) -> None:
    handle = await stack.start(target="admin_ro", duration="8h", requester="bob@example.com")
    await wait_for(handle, ready)
    await handle.execute_update(
        AccessRequestWorkflow.approve, Decision(approver="dave@example.com")
    )
    await wait_for(handle, lambda s: s.status == "escalated")
    assert "bob@example.com" in stack.members(READONLY_ROLE)
    outcome = await handle.execute_update(
        AccessRequestWorkflow.revoke, Revocation(by="bob@example.com", message="done")
    )
    assert outcome.status == "deescalated"
    assert "bob@example.com" not in stack.members(READONLY_ROLE)
    final = await handle.result()
    assert final.revoked_by == "bob@example.com"
    await keep_history(handle, "revoke_removes_access_early")


async def test_revoke_refused_when_flow_forbids_it(stack: Stack) -> None:
    handle = await stack.start(flow="no_revoke", target="admin_ro", duration=5)
    await wait_for(handle, ready)
    await handle.execute_update(
        AccessRequestWorkflow.approve, Decision(approver="dave@example.com")
    )
    await wait_for(handle, lambda s: s.status == "escalated")
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(AccessRequestWorkflow.revoke, Revocation(by="dave@example.com"))
    assert "does not allow revoking" in str(refused.value.cause)
    final = await handle.result()
    assert final.status == "deescalated"
    assert "alice@example.com" not in stack.members(READONLY_ROLE)
    await keep_history(handle, "revoke_refused_when_flow_forbids_it")


async def test_requester_cancels_pending_request(stack: Stack) -> None:
    handle = await stack.start(target="admin_prod")
    await wait_for(handle, ready)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            AccessRequestWorkflow.cancel, Cancellation(by="bob@example.com")
        )
    assert "only the requester" in str(refused.value.cause)
    await handle.execute_update(AccessRequestWorkflow.cancel, Cancellation(by="alice@example.com"))
    final = await handle.result()
    assert final.status == "cancelled"
    assert final.cancelled_by == "alice@example.com"
    await keep_history(handle, "requester_cancels_pending_request")


async def test_workflow_cancel_while_escalated_still_deescalates(stack: Stack) -> None:
    handle = await stack.start(target="admin_prod", requester="carol@example.com", duration="8h")
    await wait_for(handle, ready)
    await handle.execute_update(
        AccessRequestWorkflow.approve, Decision(approver="dave@example.com")
    )
    await wait_for(handle, lambda s: s.status == "escalated")
    assert "carol@example.com" in stack.members(ADMIN_ROLE)
    await handle.cancel()
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    state = await status(handle)
    assert state.status == "cancelled"
    assert state.deescalated_at is not None
    assert "carol@example.com" not in stack.members(ADMIN_ROLE)
    await keep_history(handle, "workflow_cancel_while_escalated_still_deescalates")


async def test_refused_decisions_leave_no_trace(stack: Stack) -> None:
    handle = await stack.start(target="admin_prod")
    await wait_for(handle, ready)
    cases = {
        "bob@example.com": "not an approver",
        "alice@example.com": "their own request",
        "eve@example.com": "guest",
    }
    for approver, reason in cases.items():
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(AccessRequestWorkflow.approve, Decision(approver=approver))
        cause = refused.value.cause
        assert isinstance(cause, ApplicationError) and reason in cause.message, cause
    assert await update_events(handle) == [], "a refused update must leave nothing in history"
    await handle.execute_update(
        AccessRequestWorkflow.approve, Decision(approver="dave@example.com")
    )
    await wait_for(handle, lambda s: s.status == "escalated")
    with pytest.raises(WorkflowUpdateFailedError) as again:
        await handle.execute_update(
            AccessRequestWorkflow.deny, Decision(approver="dave@example.com")
        )
    assert "already decided (escalated by dave@example.com)" in str(again.value.cause)
    await handle.execute_update(AccessRequestWorkflow.revoke, Revocation(by="dave@example.com"))
    assert (await handle.result()).status == "deescalated"
    await keep_history(handle, "refused_decisions_leave_no_trace")


async def test_flow_approver_from_reducer_may_approve(stack: Stack) -> None:
    handle = await stack.start(
        flow="aptible_access", target="admin_ro", duration="30s", requester="alice@example.com"
    )
    await wait_for(handle, ready)
    await handle.execute_update(AccessRequestWorkflow.approve, Decision(approver="bob@example.com"))
    await wait_for(handle, lambda s: s.status == "escalated")
    assert "alice@example.com" in stack.members(READONLY_ROLE)
    await handle.execute_update(AccessRequestWorkflow.revoke, Revocation(by="bob@example.com"))
    final = await handle.result()
    assert final.status == "deescalated"
    assert final.approver == "bob@example.com"
    assert "alice@example.com" not in stack.members(READONLY_ROLE)
    await keep_history(handle, "flow_approver_from_reducer_may_approve")


async def test_on_request_hook_auto_approves(stack: Stack) -> None:
    handle = await stack.start(
        flow="aptible_access", target="admin_ro", duration="10m", requester="carol@example.com"
    )
    state = await wait_for(handle, lambda s: s.status == "escalated")
    assert state.approver == "hook:on_request"
    assert "carol@example.com" in stack.members(READONLY_ROLE)
    await handle.execute_update(AccessRequestWorkflow.revoke, Revocation(by="carol@example.com"))
    final = await handle.result()
    assert final.status == "deescalated"
    assert "carol@example.com" not in stack.members(READONLY_ROLE)
    await keep_history(handle, "on_request_hook_auto_approves")


async def test_on_request_hook_ignores(stack: Stack) -> None:
    handle = await stack.start(
        flow="aptible_access", target="admin_ro", duration="10m", reason="short"
    )
    final = await handle.result()
    assert final.status == "denied"
    assert final.approver == "hook:on_request"
    assert "reason of at least" in (final.decision_message or "")
    assert "alice@example.com" not in stack.members(READONLY_ROLE)
    await keep_history(handle, "on_request_hook_ignores")


@pytest.mark.parametrize(
    ("request_fields", "expected"),
    [
        ({"target": "nope"}, "unknown target 'nope'"),
        (
            {"duration": "2h"},
            "duration '2h' is not allowed by flow 'plain'; allowed: 5s, 10s, 1h, 8h",
        ),
        ({"duration": "soon"}, "duration 'soon' is not a duration"),
        ({"flow": "nope", "target": "admin_ro"}, "unknown flow 'nope'"),
        ({"target": "admin_ro", "requester": "nobody@example.com"}, "no Aptible user found"),
        ({"target": "owners", "requester": "bob@example.com"}, "the bot lacks Role Admin"),
        ({"target": "ghost", "requester": "bob@example.com"}, "0dead000"),
    ],
)
async def test_bad_requests_fail_with_the_reason(
    stack: Stack, request_fields: dict[str, str], expected: str
) -> None:
    fields = {"target": "admin_ro", **request_fields}
    handle = await stack.start(**fields)
    if fields["target"] in ("owners", "ghost"):
        await wait_for(handle, ready)
        await handle.execute_update(
            AccessRequestWorkflow.approve, Decision(approver="dave@example.com")
        )
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    assert expected in cause.message, cause.message
    assert "super-secret" not in cause.message
    state = await status(handle)
    assert state.status == "failed"
    assert state.error == cause.message
    assert "bob@example.com" not in stack.members(ADMIN_ROLE)
    case = "_".join(f"{key}_{value}" for key, value in request_fields.items())
    await keep_history(handle, "bad_request_" + re.sub(r"[^a-z0-9]+", "_", case.lower()))


async def test_preexisting_membership_is_kept(stack: Stack) -> None:
    assert "alice@example.com" in stack.members(DEVELOPERS_ROLE)
    handle = await stack.start(target="developers", duration=5)
    await wait_for(handle, ready)
    await handle.execute_update(
        AccessRequestWorkflow.approve, Decision(approver="dave@example.com")
    )
    final = await handle.result()
    assert final.status == "deescalated"
    assert final.preexisting is True
    assert "alice@example.com" in stack.members(DEVELOPERS_ROLE)
    await keep_history(handle, "preexisting_membership_is_kept")


async def test_overlapping_grants_keep_membership_until_the_later_ends(stack: Stack) -> None:
    short = await stack.start(target="admin_prod", requester="bob@example.com", duration=5)
    long = await stack.start(target="admin_prod", requester="bob@example.com", duration=10)
    for handle in (short, long):
        await wait_for(handle, ready)
        await handle.execute_update(
            AccessRequestWorkflow.approve, Decision(approver="dave@example.com")
        )
        await wait_for(handle, lambda s: s.status == "escalated")
    assert "bob@example.com" in stack.members(ADMIN_ROLE)
    assert (await short.result()).status == "deescalated"
    assert "bob@example.com" in stack.members(ADMIN_ROLE), "the later grant still covers it"
    assert (await long.result()).status == "deescalated"
    for _ in range(100):
        if "bob@example.com" not in stack.members(ADMIN_ROLE):
            break
        await asyncio.sleep(0.1)
    assert "bob@example.com" not in stack.members(ADMIN_ROLE)


async def test_terminated_request_still_ends_on_time(stack: Stack) -> None:
    """A terminated request runs no more code; its membership's owner still ends it on time."""
    handle = await stack.start(
        flow="plain", target="admin_prod", requester="carol@example.com", duration=10
    )
    await wait_for(handle, ready)
    await handle.execute_update(
        AccessRequestWorkflow.approve, Decision(approver="dave@example.com")
    )
    state = await wait_for(handle, lambda s: s.status == "escalated")
    assert state.escalated_at is not None and state.membership_workflow_id is not None
    assert "carol@example.com" in stack.members(ADMIN_ROLE)
    await handle.terminate("operator pulled the plug")
    owner = stack.client.get_workflow_handle(state.membership_workflow_id)
    await asyncio.sleep(5)
    assert "carol@example.com" in stack.members(ADMIN_ROLE), "removed before the grant's end"
    for _ in range(200):
        if (await owner.describe()).status == WorkflowExecutionStatus.COMPLETED:
            break
        await asyncio.sleep(0.1)
    assert (await owner.describe()).status == WorkflowExecutionStatus.COMPLETED
    assert "carol@example.com" not in stack.members(ADMIN_ROLE)


async def test_until_revoked_grant_has_no_end(stack: Stack) -> None:
    handle = await stack.start(flow="until_revoked", target="admin_ro", duration=5)
    await wait_for(handle, ready)
    await handle.execute_update(
        AccessRequestWorkflow.approve, Decision(approver="dave@example.com")
    )
    state = await wait_for(handle, lambda s: s.status == "escalated")
    assert state.expires_at is None
    await stack.client.get_workflow_handle(handle.id).query(AccessRequestWorkflow.status)
    await handle.execute_update(AccessRequestWorkflow.revoke, Revocation(by="dave@example.com"))
    assert (await handle.result()).status == "deescalated"
    assert "alice@example.com" not in stack.members(READONLY_ROLE)
    await keep_history(handle, "until_revoked_grant_has_no_end")


async def test_unknown_input_key_is_refused(stack: Stack) -> None:
    handle = await stack.start(target="admin_ro", colour="blue")
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()
    assert "unknown input keys ['colour']" in str(failed.value.cause)
    await keep_history(handle, "unknown_input_key_is_refused")


async def _activity_types(handle: WorkflowHandle[Any, AccessState]) -> list[str]:
    """Activity types scheduled by the run, in order."""
    names = []
    async for event in handle.fetch_history_events():
        if event.HasField("activity_task_scheduled_event_attributes"):
            names.append(event.activity_task_scheduled_event_attributes.activity_type.name)
    return names


async def test_only_the_hooks_a_flow_defines_cost_an_activity(stack: Stack) -> None:
    # "plain" has no implementation: jitflow's defaults, so no hook activity at all.
    plain = await stack.start(target="admin_ro", duration=5)
    await wait_for(plain, ready)
    await plain.execute_update(AccessRequestWorkflow.approve, Decision(approver="dave@example.com"))
    await wait_for(plain, lambda s: s.status == "escalated")
    await plain.execute_update(AccessRequestWorkflow.revoke, Revocation(by="dave@example.com"))
    assert (await plain.result()).status == "deescalated"
    assert (await status(plain)).resolved.handlers == ()  # type: ignore[union-attr]
    assert "reducer_run_hook" not in await _activity_types(plain)

    # The example module defines on_request and after_escalate (and get_permissions): exactly
    # those two hooks run, each once.
    example = await stack.start(
        flow="aptible_access", target="admin_ro", requester="carol@example.com", duration="30s"
    )
    # carol is on call: auto-approved by on_request
    await wait_for(example, lambda s: s.status == "escalated")
    await example.execute_update(AccessRequestWorkflow.revoke, Revocation(by="carol@example.com"))
    final = await example.result()
    assert final.status == "deescalated"
    assert final.resolved is not None and final.resolved.handlers is not None
    assert {"on_request", "after_escalate", "get_permissions"} <= set(final.resolved.handlers)
    hooks = [name for name in await _activity_types(example) if name == "reducer_run_hook"]
    assert len(hooks) == 2


async def test_a_removal_that_fails_for_good_is_retried_until_it_works(stack: Stack) -> None:
    handle = await stack.start(target="admin_prod", requester="bob@example.com", duration=5)
    await wait_for(handle, ready)
    await handle.execute_update(
        AccessRequestWorkflow.approve, Decision(approver="dave@example.com")
    )
    state = await wait_for(handle, lambda s: s.status == "escalated")
    assert "bob@example.com" in stack.members(ADMIN_ROLE)
    # Aptible refuses the DELETE as unauthorized twice (after the token refresh too): a failure
    # that no activity retry fixes. The owner must keep trying, not give up with the role granted.
    # Four refusals: the local attempt's two (the DELETE, and again after a new login), then the
    # regular activity's first attempt's two, so the owner's own wait-and-retry loop runs too.
    stack.emulator.admin.fail_next("DELETE /memberships/{membership}", "unauthorized", count=4)
    final = await handle.result()
    assert final.status == "deescalated"
    assert "bob@example.com" not in stack.members(ADMIN_ROLE)
    assert state.membership_workflow_id is not None
    owner = stack.client.get_workflow_handle(
        state.membership_workflow_id, result_type=RoleMembershipState
    )
    # The request hears of the removal from the removal activity itself, a moment before the
    # owner records the activity's result: its audit is read once it finished.
    owner_state = await owner.result()
    events = [entry.event for entry in owner_state.audit]
    assert "membership_removal_failed" in events
    assert events.index("membership_removal_failed") < events.index("membership_removed")
    # The quick local removal failed; the regular activity took over, failed for good once, and
    # the owner tried it again after its wait.
    failures = [entry.message for entry in owner_state.audit if entry.event.endswith("_failed")]
    assert len(failures) == 2, failures
    assert "trying again as a regular activity" in str(failures[0])
    assert "trying again in 5s" in str(failures[1])
    assert all("Aptible refused the bot's token" in str(message) for message in failures)
    await keep_history(owner, "membership_owner_removal_falls_back_then_retries")


async def test_an_add_whose_local_attempt_fails_is_made_by_the_regular_activity(
    stack: Stack,
) -> None:
    handle = await stack.start(target="admin_prod", requester="carol@example.com", duration="1h")
    await wait_for(handle, ready)
    # One server error on the POST (never retried in place): the local attempt fails with an
    # error another attempt may fix, so the regular add runs, finds nothing half-made through
    # the ledger, and adds the membership.
    stack.emulator.admin.fail_next("POST /roles/{role}/memberships", "error")
    await handle.execute_update(
        AccessRequestWorkflow.approve, Decision(approver="dave@example.com")
    )
    state = await wait_for(handle, lambda s: s.status == "escalated")
    assert "carol@example.com" in stack.members(ADMIN_ROLE)
    await handle.execute_update(AccessRequestWorkflow.revoke, Revocation(by="dave@example.com"))
    assert (await handle.result()).status == "deescalated"
    assert "carol@example.com" not in stack.members(ADMIN_ROLE)
    assert state.membership_workflow_id is not None
    owner = stack.client.get_workflow_handle(
        state.membership_workflow_id, result_type=RoleMembershipState
    )
    audit = (await owner.result()).audit
    retried = [entry for entry in audit if entry.event == "membership_add_retried"]
    assert len(retried) == 1 and "trying again as a regular activity" in str(retried[0].message)
    assert "membership_created" in [entry.event for entry in audit]
    await keep_history(owner, "membership_owner_add_falls_back_to_the_regular_activity")


async def test_an_add_refused_for_good_is_not_tried_again(stack: Stack) -> None:
    handle = await stack.start(target="admin_prod", requester="alice@example.com", duration="1h")
    await wait_for(handle, ready)
    # Refused even after a new login: no retry can fix it, so the local attempt's failure is the
    # add's, as the regular activity's was before (no second round of POSTs).
    posts = "POST /roles/{role}/memberships"
    before = stack.emulator.admin.count(posts)
    stack.emulator.admin.fail_next(posts, "unauthorized", count=2)
    await handle.execute_update(
        AccessRequestWorkflow.approve, Decision(approver="dave@example.com")
    )
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()
    assert "Aptible refused the bot's token" in str(failed.value.cause)
    assert "alice@example.com" not in stack.members(ADMIN_ROLE)
    assert stack.emulator.admin.count(posts) - before == 2  # the POST, and again after a login


async def test_input_values_of_the_wrong_type_fail_the_run_with_a_message(stack: Stack) -> None:
    handle = await stack.client.start_workflow(
        "AccessRequest",
        {"flow": "plain", "target": "admin_ro", "requester": 42, "duration": 1.5, "fields": []},
        id=f"access-bad-types-{uuid.uuid4().hex[:8]}",
        task_queue=stack.task_queue,
        result_type=AccessState,
    )
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()
    message = str(failed.value.cause)
    assert "requester = 42: expected an email" in message
    assert "duration = 1.5" in message
    assert "fields = []" in message
