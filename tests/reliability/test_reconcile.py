"""The reconciler: an orphan jitflow created is removed, the unknown is reported, standing access
is untouched, an owner whose membership vanished is told, and a dry run changes nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from access_stack import DEVELOPERS_ROLE, READONLY_ROLE, Stack, keep_history, wait_for
from temporalio.client import WorkflowFailureError, WorkflowHandle

from jitflow.contracts.access import Decision, Revocation
from jitflow.contracts.membership import MembershipKey, MembershipVanished, RoleMembershipState
from jitflow.contracts.reconcile import RECONCILE_WORKFLOW_TYPE, ReconcileInput, ReconcileReport
from jitflow.devstack.example import EXAMPLE_ORG_ID, EXAMPLE_USER_IDS

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def reconcile(stack: Stack, dry_run: bool) -> ReconcileReport:
    report: ReconcileReport = await stack.client.execute_workflow(
        RECONCILE_WORKFLOW_TYPE,
        ReconcileInput(integration_key="aptible", dry_run=dry_run),
        id=f"reconcile-test-{dry_run}",
        task_queue=stack.task_queue,
        result_type=ReconcileReport,
    )
    return report


async def test_orphans_go_unknowns_are_reported_standing_stays(dev_stack: Stack) -> None:
    # An orphan: a grant whose request and owner were both terminated (by an operator, say).
    handle = await dev_stack.start(target="admin_ro", requester="carol@example.com", duration="8h")
    await wait_for(handle, lambda s: s.ready_for_decision)
    await handle.execute_update("approve", Decision(approver="dave@example.com"))
    await wait_for(handle, lambda s: s.status == "escalated")
    owner = MembershipKey(
        org_id=EXAMPLE_ORG_ID,
        role_id=READONLY_ROLE,
        user_id=EXAMPLE_USER_IDS["carol@example.com"],
        integration_key="aptible",
    ).workflow_id
    await dev_stack.raw_client.get_workflow_handle(handle.id).terminate("test")
    await dev_stack.raw_client.get_workflow_handle(owner).terminate("test")
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    assert "carol@example.com" in dev_stack.members(READONLY_ROLE)

    dry = await reconcile(dev_stack, dry_run=True)
    assert "carol@example.com" in dev_stack.members(READONLY_ROLE), "a dry run changes nothing"
    orphans = [d for d in dry.drift if d.kind == "orphan"]
    assert [(d.key.user_id, d.action) for d in orphans] == [
        (EXAMPLE_USER_IDS["carol@example.com"], "would remove")
    ]

    done = await reconcile(dev_stack, dry_run=False)
    assert "carol@example.com" not in dev_stack.members(READONLY_ROLE)
    assert any(d.kind == "orphan" and d.action == "removed" for d in done.drift)
    unknown = {(d.key.role_id, d.key.user_id) for d in done.drift if d.kind == "unknown"}
    # Alice's standing membership of the developers role: reported, and still there.
    assert (DEVELOPERS_ROLE, EXAMPLE_USER_IDS["alice@example.com"]) in unknown
    assert all(d.action == "reported" for d in done.drift if d.kind == "unknown")
    assert "alice@example.com" in dev_stack.members(DEVELOPERS_ROLE)
    run = dev_stack.client.get_workflow_handle("reconcile-test-False")
    await keep_history(run, "reconcile_removes_an_orphan")


async def test_an_owner_whose_membership_vanished_is_told(dev_stack: Stack) -> None:
    """Someone removed a grant's membership in Aptible directly: the reconciler tells its owner,
    which notes it (and never puts it back); the removal at the end finds it already absent. A
    dry run only says it would tell."""
    handle = await dev_stack.start(
        flow="until_revoked", target="admin_ro", requester="bob@example.com", duration=5
    )
    await wait_for(handle, lambda s: s.ready_for_decision)
    await handle.execute_update("approve", Decision(approver="dave@example.com"))
    state = await wait_for(handle, lambda s: s.status == "escalated")
    assert state.membership_workflow_id is not None
    owner = dev_stack.client.get_workflow_handle(state.membership_workflow_id)
    bob = EXAMPLE_USER_IDS["bob@example.com"]

    # An operator removes the membership in Aptible, outside jitflow.
    emulated = dev_stack.emulator.admin.state()
    emulated["memberships"] = [
        row
        for row in emulated["memberships"]
        if not (row["role_id"] == READONLY_ROLE and row["user_id"] == bob)
    ]
    dev_stack.emulator.admin.load_state(emulated)
    assert "bob@example.com" not in dev_stack.members(READONLY_ROLE)

    dry = await reconcile(dev_stack, dry_run=True)
    vanished = [(d.key.user_id, d.action) for d in dry.drift if d.kind == "vanished"]
    assert (bob, "would tell the owner") in vanished
    assert "membership_vanished" not in await _owner_events(owner)

    done = await reconcile(dev_stack, dry_run=False)
    vanished = [(d.key.user_id, d.action) for d in done.drift if d.kind == "vanished"]
    assert (bob, "told the owner") in vanished
    run = dev_stack.client.get_workflow_handle("reconcile-test-False")
    await keep_history(run, "reconcile_tells_an_owner_its_membership_vanished")
    for _ in range(50):
        if "membership_vanished" in await _owner_events(owner):
            break
        await asyncio.sleep(0.1)
    assert "membership_vanished" in await _owner_events(owner)
    owner_state = await owner.query("state", result_type=RoleMembershipState)
    assert len(owner_state.leases) == 1
    await asyncio.sleep(1)
    assert "bob@example.com" not in dev_stack.members(READONLY_ROLE), "never put back"

    await handle.execute_update("revoke", Revocation(by="dave@example.com"))
    assert (await handle.result()).status == "deescalated"
    await owner.result()
    final = await owner.query("state", result_type=RoleMembershipState)
    removed = [entry for entry in final.audit if entry.event == "membership_removed"]
    assert [entry.message for entry in removed] == ["already absent"], final.audit
    assert "bob@example.com" not in dev_stack.members(READONLY_ROLE)
    await keep_history(owner, "membership_owner_notes_that_its_membership_vanished")


async def test_a_forged_vanished_signal_does_not_keep_a_membership(dev_stack: Stack) -> None:
    """Anyone who can signal can claim the membership vanished: it is only noted, and the grant's
    end still removes the membership."""
    handle = await dev_stack.start(target="admin_ro", requester="carol@example.com", duration=5)
    await wait_for(handle, lambda s: s.ready_for_decision)
    await handle.execute_update("approve", Decision(approver="dave@example.com"))
    state = await wait_for(handle, lambda s: s.status == "escalated")
    assert state.membership_workflow_id is not None
    owner = dev_stack.raw_client.get_workflow_handle(state.membership_workflow_id)
    await owner.signal(
        "membership_vanished", MembershipVanished(listed_at=datetime(9999, 1, 1, tzinfo=UTC))
    )
    assert (await handle.result()).status == "deescalated"
    await owner.result()
    assert "carol@example.com" not in dev_stack.members(READONLY_ROLE)


async def _owner_events(owner: WorkflowHandle[Any, Any]) -> list[str]:
    state = await owner.query("state", result_type=RoleMembershipState)
    return [entry.event for entry in state.audit]
