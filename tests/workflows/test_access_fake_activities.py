"""``AccessRequest``'s approval paths with every activity faked by name: milliseconds a case.

The real activities (configuration, identity store, reducers, Aptible) are covered elsewhere;
here the workflow's own decisions are under test, the way samples-python tests workflows:
activities registered under the contract's names, returning fixed answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
import pytest_asyncio
from access_stack import PEOPLE, TEST_KEYS, keep_history
from temporalio import activity
from temporalio.client import WorkflowFailureError, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from jitflow.access_client import AccessRequests, RequestHandle
from jitflow.contracts import activities as contract
from jitflow.contracts.access import (
    AccessRequestInput,
    Decision,
    ResolvedRequest,
    Revocation,
)
from jitflow.contracts.events import HookCall, HookOutcome, Permissions, PermissionsCall, TargetData
from jitflow.contracts.identity import ResolvedIdentity, ResolveIdentityInput
from jitflow.contracts.membership import LeaseGrant, LeaseRelease, LeaseReleased, LeaseRequest
from jitflow.contracts.names import hooks_task_queue
from jitflow.testing.signing import signing_client
from jitflow.trust.directory import DIRECTORY
from workflows.access_request import NEWS_GRACE, AccessRequestWorkflow

RESOLVED = ResolvedRequest(
    flow_key="plain",
    flow_name="plain",
    target=TargetData(key="admin", name="admin", role_id="role-1"),
    strategy_key="s",
    integration_key="aptible",
    org_id="org-1",
    requester="alice@example.com",
    duration_seconds=3600,
    allowed_durations=(3600,),
    request_timeout_seconds=600,
    allow_revoke=True,
    schedule_deescalation=True,
    allow_guest_interaction=False,
    include_decision_message=False,
    handlers=("on_approve",),
)


class FakeActivities:
    """Fixed answers; records the leases taken and released."""

    def __init__(self) -> None:
        self.acquired: list[LeaseRequest] = []
        self.released: list[LeaseRelease] = []
        self.released_at: list[datetime] = []
        self.on_approve = HookOutcome(called=True)
        self.grant_over_on_arrival = False

    @activity.defn(name=contract.RESOLVE_REQUEST.name)
    async def resolve(self, request: AccessRequestInput) -> ResolvedRequest:
        return RESOLVED

    @activity.defn(name=contract.RESOLVE_IDENTITY.name)
    async def identity(self, lookup: ResolveIdentityInput) -> ResolvedIdentity:
        return ResolvedIdentity(
            email=lookup.email,
            service_type="aptible",
            external_id=lookup.org_id,
            service_user_id="user-1",
            source="stored",
        )

    @activity.defn(name=contract.GET_PERMISSIONS.name)
    async def permissions(self, call: PermissionsCall) -> Permissions:
        return Permissions(source="get_permissions", approvers=("bob@example.com",))

    @activity.defn(name=contract.RUN_HOOK.name)
    async def hook(self, call: HookCall) -> HookOutcome:
        return self.on_approve if call.hook == "on_approve" else HookOutcome(called=False)

    @activity.defn(name=contract.ACQUIRE_LEASE.name)
    async def acquire(self, request: LeaseRequest) -> LeaseGrant:
        self.acquired.append(request)
        ends_at = request.lease.ends_at
        if self.grant_over_on_arrival:
            ends_at = request.lease.granted_at  # the owner answered after the grant's end
        return LeaseGrant(
            membership_workflow_id=request.key.workflow_id,
            membership_id="m-1",
            preexisting=False,
            ends_at=ends_at,
            active_leases=1,
            confirmed_at=request.lease.granted_at,
        )

    @activity.defn(name=contract.RELEASE_LEASE.name)
    async def release(self, release: LeaseRelease) -> LeaseReleased:
        self.released.append(release)
        self.released_at.append(activity.info().current_attempt_scheduled_time)
        return LeaseReleased(
            membership_workflow_id=release.key.workflow_id,
            released=True,
            membership_removed=True,
            remaining_leases=0,
        )


@pytest_asyncio.fixture(loop_scope="session")
async def fakes(
    time_skipping_env: WorkflowEnvironment,
) -> AsyncIterator[tuple[AccessRequests, FakeActivities]]:
    fake = FakeActivities()
    queue = f"fake-{uuid.uuid4()}"
    TEST_KEYS.fill(DIRECTORY, PEOPLE)  # no store here: the validators read these keys
    async with (
        Worker(
            time_skipping_env.client,
            task_queue=queue,
            workflows=[AccessRequestWorkflow],
            activities=[fake.resolve, fake.identity, fake.acquire, fake.release],
            # The strict sandbox on purpose: the production worker runs unsandboxed.
            workflow_runner=SandboxedWorkflowRunner(),
        ),
        Worker(
            time_skipping_env.client,
            task_queue=hooks_task_queue(queue),
            activities=[fake.permissions, fake.hook],
        ),
    ):
        yield (
            AccessRequests(
                signing_client(
                    time_skipping_env.client, TEST_KEYS, time_skipping_env.get_current_time
                ),
                queue,
            ),
            fake,
        )


async def _pending(requests: AccessRequests) -> tuple[str, RequestHandle]:
    workflow_id = f"fake-{uuid.uuid4()}"
    handle = await requests.start(
        AccessRequestInput(flow="plain", requester="alice@example.com"), workflow_id
    )
    return workflow_id, handle


@pytest.mark.asyncio(loop_scope="session")
async def test_an_approver_grants_and_the_grant_ends_on_time(
    fakes: tuple[AccessRequests, FakeActivities],
) -> None:
    requests, fake = fakes
    workflow_id, handle = await _pending(requests)
    outcome = await requests.approve(workflow_id, Decision(approver="bob@example.com"))
    assert outcome.accepted and outcome.status == "approved"
    state = await handle.result()
    assert state.status == "deescalated"
    assert [r.lease.holder for r in fake.acquired] == [workflow_id]
    assert [r.holder for r in fake.released] == [workflow_id]
    assert fake.released[0].reason == "ended"
    assert state.expires_at is not None and state.escalated_at is not None
    assert state.expires_at - state.escalated_at == timedelta(hours=1)
    # No owner here to send ``LeaseEnded``: the request releases its lease itself, once the
    # grace for that news has passed (the owner removes on its own timer in the meantime).
    assert fake.released_at[-1] >= state.expires_at + NEWS_GRACE


@pytest.mark.asyncio(loop_scope="session")
async def test_a_grant_over_before_its_request_heard_of_it_is_released_at_once(
    fakes: tuple[AccessRequests, FakeActivities],
) -> None:
    """An acquire that answers after the grant's end (a busy owner or worker): any news of the
    end came while the request did not know of the grant yet, so it releases instead of waiting
    out the grace for news that already came and went."""
    requests, fake = fakes
    fake.grant_over_on_arrival = True
    try:
        workflow_id, handle = await _pending(requests)
        await requests.approve(workflow_id, Decision(approver="bob@example.com"))
        state = await handle.result()
    finally:
        fake.grant_over_on_arrival = False
    assert state.status == "deescalated"
    assert [r.holder for r in fake.released][-1] == workflow_id
    assert fake.released[-1].reason == "ended"
    assert state.expires_at is not None
    assert fake.released_at[-1] < state.expires_at + NEWS_GRACE
    await keep_history(handle, "grant_over_before_its_request_heard_of_it")


@pytest.mark.asyncio(loop_scope="session")
async def test_the_requester_cannot_approve_and_a_stranger_cannot_either(
    fakes: tuple[AccessRequests, FakeActivities],
) -> None:
    requests, fake = fakes
    workflow_id, handle = await _pending(requests)
    for who, reason in [
        ("alice@example.com", "may not approve their own request"),
        ("carol@example.com", "is not an approver"),
    ]:
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await requests.approve(workflow_id, Decision(approver=who))
        assert reason in str(refused.value.cause)
    assert (await requests.status(workflow_id)).status == "pending"
    await requests.deny(workflow_id, Decision(approver="bob@example.com", message="no"))
    state = await handle.result()
    assert state.status == "denied" and state.decision_message == "no"
    assert all(r.lease.holder != workflow_id for r in fake.acquired)


@pytest.mark.asyncio(loop_scope="session")
async def test_on_approve_ignoring_an_approval_keeps_the_request_pending(
    fakes: tuple[AccessRequests, FakeActivities],
) -> None:
    requests, fake = fakes
    fake.on_approve = HookOutcome(called=True, action="ignore", message="not in office hours")
    workflow_id, handle = await _pending(requests)
    outcome = await requests.approve(workflow_id, Decision(approver="bob@example.com"))
    assert not outcome.accepted and outcome.message == "not in office hours"
    assert (await requests.status(workflow_id)).status == "pending"
    fake.on_approve = HookOutcome(called=True)
    await requests.approve(workflow_id, Decision(approver="bob@example.com"))
    await requests.revoke(workflow_id, Revocation(by="alice@example.com"))
    state = await handle.result()
    assert state.status == "deescalated" and state.revoked_by == "alice@example.com"
    assert [r.reason for r in fake.released if r.holder == workflow_id] == ["revoked"]


@pytest.mark.asyncio(loop_scope="session")
async def test_a_hook_duration_out_of_bounds_fails_the_run_with_a_message(
    fakes: tuple[AccessRequests, FakeActivities],
) -> None:
    requests, fake = fakes
    fake.on_approve = HookOutcome(called=True, action="approve", duration=10**12)
    workflow_id, handle = await _pending(requests)
    await requests.approve(workflow_id, Decision(approver="bob@example.com"))
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()
    assert "on_approve returned duration=1000000000000" in str(failed.value.cause)
    fake.on_approve = HookOutcome(called=True)


@pytest.mark.asyncio(loop_scope="session")
async def test_an_approval_at_the_moment_of_expiry_is_answered(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """The request's timer fires and an approval arrives in the same workflow task (no worker
    ran in between): one of them wins, and the approver is told which, instead of never."""
    env = time_skipping_env
    fake = FakeActivities()
    queue = f"fake-{uuid.uuid4()}"
    TEST_KEYS.fill(DIRECTORY, PEOPLE)
    plain = AccessRequests(env.client, queue)

    async def serve() -> contextlib.AsyncExitStack:
        stack = contextlib.AsyncExitStack()
        await stack.enter_async_context(
            Worker(
                env.client,
                task_queue=queue,
                workflows=[AccessRequestWorkflow],
                activities=[fake.resolve, fake.identity, fake.acquire, fake.release],
                max_cached_workflows=0,  # no sticky queue: the next worker takes the task
                workflow_runner=SandboxedWorkflowRunner(),
            )
        )
        await stack.enter_async_context(
            Worker(
                env.client,
                task_queue=hooks_task_queue(queue),
                activities=[fake.permissions, fake.hook],
            )
        )
        return stack

    running = await serve()
    workflow_id, handle = await _pending(plain)
    # Signed now, valid until after the expiry (the proof lives 10 minutes, the request 10).
    at = await env.get_current_time() + timedelta(minutes=5)
    body = await TEST_KEYS.signed(env.client, "approve", workflow_id, "bob@example.com", None, at)
    assert isinstance(body, Decision)
    await running.aclose()  # no worker: the timer and the update meet in one workflow task
    await env.sleep(timedelta(seconds=RESOLVED.request_timeout_seconds or 0, milliseconds=500))
    update = asyncio.ensure_future(plain.approve(workflow_id, body))
    await asyncio.sleep(1)
    running = await serve()
    try:
        outcome = await asyncio.wait_for(update, 30)
        final = await handle.result()
    finally:
        await running.aclose()
    if outcome.accepted:
        assert final.status == "deescalated"
    else:
        assert final.status == "expired" and "expired" in (outcome.message or "")
