"""Playing the attacker: a requester with the ``temporal`` CLI, the SDK and a worker of their own.

The attacker can start, update and terminate any workflow, read every history and poll any task
queue, but holds neither an approver's private key nor the worker's secrets. For each attack the
test shows that no membership appears in the Aptible emulator and that the refusal says why.
A correctly signed approval, through ``jitflow approve`` and through ``jitflow sign`` plus
``temporal workflow update execute``, still grants.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from access_stack import ADMIN_ROLE, TEST_KEYS, Stack, status, wait_for
from temporalio import workflow
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.worker import Worker

from jitflow.contracts.access import AccessState, Decision, Revocation
from jitflow.contracts.membership import (
    AddMembershipCall,
    Lease,
    LeaseRequest,
    MembershipKey,
    RoleMembershipInput,
    RoleMembershipState,
)
from jitflow.contracts.names import MEMBERSHIP_WORKFLOW_TYPE
from jitflow.devstack.binaries import temporal_cli
from jitflow.devstack.example import EXAMPLE_ORG_ID, EXAMPLE_USER_IDS
from jitflow.trust.keys import private_key_openssh, public_key_of, sign
from jitflow.trust.signing import make_proof

pytestmark = pytest.mark.asyncio(loop_scope="session")

ALICE = "alice@example.com"
ALICE_ID = EXAMPLE_USER_IDS[ALICE]
CAROL_ID = EXAMPLE_USER_IDS["carol@example.com"]


def _address(stack: Stack) -> str:
    return stack.raw_client.service_client.config.target_host


async def temporal(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    """The ``temporal`` CLI as the attacker runs it (in a thread: the worker shares this loop)."""
    return await asyncio.to_thread(
        subprocess.run,
        [str(temporal_cli()), *args, "--address", _address(stack)],
        capture_output=True,
        text=True,
        timeout=60,
    )


async def pending(stack: Stack, **request: Any) -> WorkflowHandle[Any, AccessState]:
    """A request of Alice's on the example flow, where Bob approves (and admins: Dave)."""
    request.setdefault("flow", "aptible_access")
    handle = await stack.start(**request)
    await wait_for(handle, lambda state: state.ready_for_decision or state.final)
    return handle


async def refused(stack: Stack, workflow_id: str, name: str, body: Any) -> str:
    """Send an update with the attacker's plain client; it must be refused: the reason."""
    handle = stack.raw_client.get_workflow_handle(workflow_id)
    with pytest.raises(WorkflowUpdateFailedError) as failure:
        await handle.execute_update(name, body)
    cause = failure.value.cause
    return cause.message if isinstance(cause, ApplicationError) else str(cause)


async def proof_for(
    stack: Stack, workflow_id: str, signer: str, decider: str, **changes: Any
) -> Decision:
    """A decision signed with ``signer``'s key while claiming ``decider``."""
    requests_state = await status(stack.raw_client.get_workflow_handle(workflow_id))
    run_id = (await stack.raw_client.get_workflow_handle(workflow_id).describe()).run_id
    key = TEST_KEYS.private(signer)
    proof = make_proof(
        action=changes.pop("action", "approve"),
        state=requests_state,
        run_id=changes.pop("run_id", run_id),
        decider=decider,
        message=None,
        fingerprint=public_key_of(key).fingerprint,
        sign=lambda data: sign(key, data),
        now=changes.pop("now", None),
    )
    return Decision(approver=decider, proof=proof)


def no_membership(stack: Stack) -> None:
    assert ALICE not in stack.members(ADMIN_ROLE)
    assert "carol@example.com" not in stack.members(ADMIN_ROLE)


# --- forged approvals ------------------------------------------------------------------------


async def test_an_invented_or_borrowed_name_without_a_proof_is_refused(dev_stack: Stack) -> None:
    handle = await pending(dev_stack, target="admin_prod")
    for approver in ("bob@example.com", "dave@example.com", "x", "alice2@example.com"):
        result = await temporal(
            dev_stack,
            "workflow",
            "update",
            "execute",
            "--workflow-id",
            handle.id,
            "--name",
            "approve",
            "--input",
            json.dumps({"approver": approver}),
        )
        assert result.returncode != 0
        assert "signed proof" in result.stderr or "not an approver" in result.stderr, result.stderr
    state = await status(handle)
    assert state.status == "pending" and state.approver is None
    no_membership(dev_stack)


async def test_another_persons_name_with_ones_own_key_is_refused(dev_stack: Stack) -> None:
    handle = await pending(dev_stack, target="admin_prod")
    forged = await proof_for(dev_stack, handle.id, "mallory@example.com", "bob@example.com")
    reason = await refused(dev_stack, handle.id, "approve", forged)
    assert "belongs to mallory@example.com, not bob@example.com" in reason
    no_membership(dev_stack)


async def test_a_non_approvers_own_key_does_not_approve(dev_stack: Stack) -> None:
    handle = await pending(dev_stack, target="admin_prod")
    carol = await proof_for(dev_stack, handle.id, "carol@example.com", "carol@example.com")
    assert "is not an approver" in await refused(dev_stack, handle.id, "approve", carol)
    no_membership(dev_stack)


async def test_a_proof_for_one_request_does_not_approve_another(dev_stack: Stack) -> None:
    first = await pending(dev_stack, target="admin_prod")
    second = await pending(dev_stack, target="admin_prod")
    bob = await proof_for(dev_stack, first.id, "bob@example.com", "bob@example.com")
    assert f"the proof is for request {first.id}" in await refused(
        dev_stack, second.id, "approve", bob
    )
    no_membership(dev_stack)


async def test_a_proof_for_an_earlier_run_of_the_same_id_is_refused(dev_stack: Stack) -> None:
    workflow_id = f"reused-{uuid.uuid4().hex[:8]}"
    first = await pending(dev_stack, target="admin_prod")
    await first.terminate("test")
    old = await proof_for(dev_stack, first.id, "bob@example.com", "bob@example.com")
    handle = await dev_stack.raw_client.start_workflow(
        "AccessRequest",
        {
            "flow": "aptible_access",
            "target": "admin_prod",
            "requester": ALICE,
            "duration": "1h",
            "reason": "investigate incident 42",
        },
        id=workflow_id,
        task_queue=dev_stack.task_queue,
    )
    await wait_for(dev_stack.client.get_workflow_handle(handle.id), lambda s: s.ready_for_decision)
    earlier = await proof_for(dev_stack, workflow_id, "bob@example.com", "bob@example.com")
    await dev_stack.raw_client.get_workflow_handle(workflow_id).terminate("next run")
    await dev_stack.raw_client.start_workflow(
        "AccessRequest",
        {
            "flow": "aptible_access",
            "target": "admin_prod",
            "requester": ALICE,
            "duration": "1h",
            "reason": "investigate incident 42",
        },
        id=workflow_id,
        task_queue=dev_stack.task_queue,
    )
    await wait_for(
        dev_stack.client.get_workflow_handle(workflow_id), lambda s: s.ready_for_decision
    )
    reason = await refused(dev_stack, workflow_id, "approve", earlier)
    assert "run" in reason, reason
    assert "the proof is for request" in await refused(dev_stack, workflow_id, "approve", old)
    no_membership(dev_stack)


async def test_an_expired_or_reused_proof_is_refused(dev_stack: Stack) -> None:
    handle = await pending(dev_stack, target="admin_prod")
    stale = await proof_for(
        dev_stack,
        handle.id,
        "bob@example.com",
        "bob@example.com",
        now=datetime.now(UTC) - timedelta(minutes=30),
    )
    assert "expired" in await refused(dev_stack, handle.id, "approve", stale)
    deny = await proof_for(dev_stack, handle.id, "bob@example.com", "bob@example.com")
    assert "is for 'approve', not 'deny'" in await refused(dev_stack, handle.id, "deny", deny)
    no_membership(dev_stack)


# --- the membership owner --------------------------------------------------------------------


def _key(user_id: str = ALICE_ID) -> MembershipKey:
    return MembershipKey(
        org_id=EXAMPLE_ORG_ID, role_id=ADMIN_ROLE, user_id=user_id, integration_key="aptible"
    )


async def test_a_direct_owner_start_with_leases_adds_nothing(dev_stack: Stack) -> None:
    start = RoleMembershipInput(
        key=_key(CAROL_ID), leases=(Lease(holder="x"),)
    )  # no end, no ticket
    handle = await dev_stack.raw_client.start_workflow(
        MEMBERSHIP_WORKFLOW_TYPE,
        start,
        id=f"{_key(CAROL_ID).workflow_id}",
        task_queue=dev_stack.task_queue,
        result_type=RoleMembershipState,
    )
    final = await handle.result()
    assert final.membership is None and not final.leases
    assert any(entry.event == "start_refused" for entry in final.audit)
    no_membership(dev_stack)


async def test_forged_and_malformed_leases_are_refused(dev_stack: Stack) -> None:
    # A real grant, so that an owner runs and its lease (with ticket) can be copied.
    handle = await pending(dev_stack, target="admin_prod", duration="10m")
    signed = dev_stack.client.get_workflow_handle(handle.id)
    await signed.execute_update("approve", Decision(approver="bob@example.com"))
    state = await wait_for(handle, lambda s: s.status == "escalated")
    owner = dev_stack.raw_client.get_workflow_handle(_key().workflow_id)
    held: RoleMembershipState = await owner.query("state", result_type=RoleMembershipState)
    real = held.leases[0]
    assert real.ticket is not None
    attempts = {
        "needs a grant ticket": Lease(holder="x", ends_at=datetime(2031, 1, 1, tzinfo=UTC)),
        "belongs to": real.model_copy(
            update={"holder": "x", "ends_at": datetime(2031, 1, 1, tzinfo=UTC)}
        ),
        "ends after its grant ticket allows": real.model_copy(
            update={"ends_at": datetime(2031, 1, 1, tzinfo=UTC)}
        ),
        "time zone": real.model_copy(update={"ends_at": datetime(2031, 1, 1)}),
        "outside": real.model_copy(update={"duration_seconds": 10**12}),
    }
    for reason, lease in attempts.items():
        with pytest.raises(WorkflowUpdateFailedError) as failure:
            await owner.execute_update("add_lease", LeaseRequest(key=_key(), lease=lease))
        assert reason in str(failure.value.cause), (reason, failure.value.cause)
    assert ALICE in dev_stack.members(ADMIN_ROLE)  # the real grant is untouched
    await signed.execute_update("revoke", Revocation(by=ALICE))
    final = await handle.result()
    assert final.status == "deescalated" and state.expires_at is not None
    await wait_for_absent(dev_stack)


async def wait_for_absent(stack: Stack) -> None:
    for _ in range(200):
        if ALICE not in stack.members(ADMIN_ROLE):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the membership was not removed")


# --- a worker of the attacker's own -----------------------------------------------------------


@workflow.defn(name="AttackerWorkflow", sandboxed=False)
class AttackerWorkflow:
    """Schedules jitflow's activities on jitflow's task queue with inputs of its choosing."""

    @workflow.run
    async def run(self, call: dict[str, Any]) -> str:
        try:
            await workflow.execute_activity(
                call["activity"],
                call["input"],
                task_queue=call["task_queue"],
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(maximum_attempts=1),
            )
        except ActivityError as error:
            cause = error.cause
            return f"refused: {cause.message if isinstance(cause, ApplicationError) else cause}"
        return "done"


async def attack(stack: Stack, activity_name: str, payload: Any) -> str:
    queue = f"attacker-{uuid.uuid4().hex[:8]}"
    async with Worker(stack.raw_client, task_queue=queue, workflows=[AttackerWorkflow]):
        return await stack.raw_client.execute_workflow(
            AttackerWorkflow.run,
            {"activity": activity_name, "input": payload, "task_queue": stack.task_queue},
            id=f"attack-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
        )


async def test_an_attackers_worker_cannot_add_with_a_copied_ticket(dev_stack: Stack) -> None:
    handle = await pending(dev_stack, target="admin_prod", duration="10m")
    signed = dev_stack.client.get_workflow_handle(handle.id)
    await signed.execute_update("approve", Decision(approver="bob@example.com"))
    await wait_for(handle, lambda s: s.status == "escalated")
    owner = dev_stack.raw_client.get_workflow_handle(_key().workflow_id)
    held: RoleMembershipState = await owner.query("state", result_type=RoleMembershipState)
    ticket = held.leases[0].ticket
    assert ticket is not None
    # Another user, with the copied ticket.
    other = AddMembershipCall(key=_key(CAROL_ID), tickets=(ticket,)).model_dump(mode="json")
    assert "another membership" in await attack(dev_stack, "add_aptible_membership", other)
    assert "carol@example.com" not in dev_stack.members(ADMIN_ROLE)
    # The same input, after the grant ended.
    await signed.execute_update("revoke", Revocation(by=ALICE))
    await handle.result()
    await wait_for_absent(dev_stack)
    same = AddMembershipCall(key=_key(), tickets=(ticket,)).model_dump(mode="json")
    outcome = await attack(dev_stack, "add_aptible_membership", same)
    assert outcome.startswith("refused") and "ended" in outcome, outcome
    no_membership(dev_stack)


async def test_an_attackers_worker_cannot_acquire_a_lease(dev_stack: Stack) -> None:
    lease = Lease(holder="attack", ends_at=datetime(2031, 1, 1, tzinfo=UTC))
    request = LeaseRequest(key=_key(), lease=lease).model_dump(mode="json")
    outcome = await attack(dev_stack, "acquire_lease", request)
    assert outcome.startswith("refused") and "only an AccessRequest" in outcome, outcome
    no_membership(dev_stack)


# --- the honest path still works ------------------------------------------------------------


def _key_file(tmp_path: Path, email: str) -> Path:
    path = tmp_path / f"{email}.key"
    path.write_bytes(private_key_openssh(TEST_KEYS.private(email)))
    path.chmod(0o600)
    return path


async def jitflow_cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TEMPORAL_ADDRESS": _address(stack)}
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "jitflow", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


async def test_a_signed_approval_grants_through_jitflow_and_through_temporal(
    dev_stack: Stack, tmp_path: Path
) -> None:
    bob_key = _key_file(tmp_path, "bob@example.com")
    alice_key = _key_file(tmp_path, ALICE)
    first = await pending(dev_stack, target="admin_prod")
    approved = await jitflow_cli(
        dev_stack, "approve", first.id, "--approver", "bob@example.com", "--key", str(bob_key)
    )
    assert approved.returncode == 0, approved.stderr
    assert (await status(first)).status == "escalated"
    assert ALICE in dev_stack.members(ADMIN_ROLE)
    revoked = await jitflow_cli(
        dev_stack, "revoke", first.id, "--by", ALICE, "--key", str(alice_key)
    )
    assert revoked.returncode == 0, revoked.stderr
    await first.result()

    second = await pending(dev_stack, target="admin_prod")
    signed = await jitflow_cli(
        dev_stack,
        "sign",
        "approve",
        second.id,
        "--approver",
        "bob@example.com",
        "--key",
        str(bob_key),
    )
    assert signed.returncode == 0, signed.stderr
    update = await temporal(
        dev_stack,
        "workflow",
        "update",
        "execute",
        "--workflow-id",
        second.id,
        "--name",
        "approve",
        "--input",
        signed.stdout.strip(),
    )
    assert update.returncode == 0, update.stderr
    await wait_for(second, lambda s: s.status == "escalated")
    assert ALICE in dev_stack.members(ADMIN_ROLE)
    # The same signed input again: already used.
    again = await temporal(
        dev_stack,
        "workflow",
        "update",
        "execute",
        "--workflow-id",
        second.id,
        "--name",
        "approve",
        "--input",
        signed.stdout.strip(),
    )
    assert again.returncode != 0
    await dev_stack.client.get_workflow_handle(second.id).execute_update(
        "revoke",
        __import__("jitflow.contracts.access", fromlist=["Revocation"]).Revocation(by=ALICE),
    )
    await second.result()
    await wait_for_absent(dev_stack)
