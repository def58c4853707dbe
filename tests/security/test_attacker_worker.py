"""An attacker's own worker runs ``AccessRequest`` workflows and calls the grant path directly.

Found by an adversarial review of the first version of signed approvals; each case is kept as a
regression test: an ``on_request`` auto-approval fed a made-up event, and one real approval
re-used to lengthen a grant.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest
from access_stack import ADMIN_ROLE, TEST_KEYS, Stack
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.worker import Worker

from activities.access import resolve_request
from jitflow.contracts.access import AccessRequestInput, Decision
from jitflow.contracts.identity import ResolveIdentityInput
from jitflow.contracts.membership import Lease, LeaseGrant, LeaseRequest, MembershipKey
from jitflow.devstack.example import EXAMPLE_ORG_ID, EXAMPLE_USER_IDS
from jitflow.trust.keys import public_key_of, sign
from jitflow.trust.signing import sign_decision

pytestmark = pytest.mark.asyncio(loop_scope="session")

ALICE = "alice@example.com"
PARAMS: dict[str, Any] = {}  # the attacker's workflow code runs in this process


def _key() -> MembershipKey:
    return MembershipKey(
        org_id=EXAMPLE_ORG_ID,
        role_id=ADMIN_ROLE,
        user_id=EXAMPLE_USER_IDS[ALICE],
        integration_key="aptible",
    )


async def _acquire(lease: Lease, proof: Any = None) -> str:
    try:
        grant: LeaseGrant = await workflow.execute_activity(
            "acquire_lease",
            LeaseRequest(key=_key(), lease=lease, proof=proof),
            task_queue=PARAMS["queue"],
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=RetryPolicy(maximum_attempts=1),
            result_type=LeaseGrant,
        )
    except ActivityError as error:
        cause = error.cause
        return f"refused: {cause.message if isinstance(cause, ApplicationError) else cause}"
    return f"granted until {grant.ends_at.isoformat() if grant.ends_at else None}"


async def _identity() -> None:
    await workflow.execute_activity(
        "resolve_identity",
        ResolveIdentityInput(email=ALICE, org_id=EXAMPLE_ORG_ID, integration="aptible"),
        task_queue=PARAMS["queue"],
        start_to_close_timeout=timedelta(seconds=30),
    )


@workflow.defn(name="AccessRequest", sandboxed=False)
class SelfApprovingRequest:
    """Asks for a 300-day lease with no proof, hoping for an automatic approval."""

    @workflow.run
    async def run(self, request: AccessRequestInput) -> str:
        await _identity()
        now = workflow.now()
        days = timedelta(days=300)
        lease = Lease(
            holder=workflow.info().workflow_id,
            ends_at=now + days,
            granted_at=now,
            duration_seconds=int(days.total_seconds()),
        )
        return await _acquire(lease)


async def test_no_automatic_approval_without_the_flows_own_on_request(dev_stack: Stack) -> None:
    start = AccessRequestInput(
        flow="aptible_access",
        target="admin_prod",
        requester=ALICE,  # not on call: the flow's on_request does not approve Alice
        duration="10m",
        reason="investigating incident 42",
    )
    PARAMS["queue"] = dev_stack.task_queue
    own = f"attacker-{uuid.uuid4().hex[:8]}"
    async with Worker(dev_stack.raw_client, task_queue=own, workflows=[SelfApprovingRequest]):
        result = await dev_stack.raw_client.execute_workflow(
            "AccessRequest", start, id=f"access-{uuid.uuid4()}", task_queue=own, result_type=str
        )
    assert result.startswith("refused") and "no verified approval" in result, result
    assert ALICE not in dev_stack.members(ADMIN_ROLE)


@workflow.defn(name="AccessRequest", sandboxed=False)
class ReacquiringRequest:
    """Takes one real approval, then asks for the lease again and again."""

    def __init__(self) -> None:
        self.decision: Decision | None = None

    @workflow.update
    async def approve(self, decision: Decision) -> str:  # the attacker's worker: no validator
        self.decision = decision
        return "ok"

    @workflow.run
    async def run(self, request: AccessRequestInput) -> list[str]:
        await _identity()
        await workflow.wait_condition(lambda: self.decision is not None)
        assert self.decision is not None
        answers: list[str] = []
        for _ in range(4):
            now = workflow.now()
            lease = Lease(
                holder=workflow.info().workflow_id,
                ends_at=now + timedelta(seconds=5),
                granted_at=now,
                duration_seconds=5,
            )
            answers.append(await _acquire(lease, self.decision.proof))
            await workflow.sleep(3)
        return answers


async def test_one_approval_never_lengthens_a_grant(dev_stack: Stack) -> None:
    start = AccessRequestInput(
        flow="plain", target="admin_prod", requester=ALICE, duration=5, reason="incident 42"
    )
    resolved = resolve_request(dev_stack.config, start)
    PARAMS["queue"] = dev_stack.task_queue
    own = f"attacker-{uuid.uuid4().hex[:8]}"
    workflow_id = f"access-{uuid.uuid4()}"
    async with Worker(dev_stack.raw_client, task_queue=own, workflows=[ReacquiringRequest]):
        handle = await dev_stack.raw_client.start_workflow(
            "AccessRequest", start, id=workflow_id, task_queue=own, result_type=list[str]
        )
        dave = TEST_KEYS.private("dave@example.com")  # an admin approves, for 5 seconds
        proof = sign_decision(
            action="approve",
            workflow_id=workflow_id,
            run_id=handle.result_run_id or "",
            decider="dave@example.com",
            org_id=resolved.org_id,
            role_id=resolved.target.role_id,
            user_id=EXAMPLE_USER_IDS[ALICE],
            max_duration_seconds=5,
            message=None,
            fingerprint=public_key_of(dave).fingerprint,
            sign=lambda data: sign(dave, data),
        )
        await handle.execute_update("approve", Decision(approver="dave@example.com", proof=proof))
        started = asyncio.get_running_loop().time()
        held: list[float] = []
        while asyncio.get_running_loop().time() - started < 16:
            if ALICE in dev_stack.members(ADMIN_ROLE):
                held.append(asyncio.get_running_loop().time() - started)
            await asyncio.sleep(0.5)
        answers = await handle.result()
    granted = [answer for answer in answers if answer.startswith("granted")]
    assert len(set(granted)) <= 1, answers  # the same ticket, the same end, every time
    assert held and max(held) < 9, held  # a 5-second grant, not one re-armed every 3 seconds
    assert ALICE not in dev_stack.members(ADMIN_ROLE)
