"""The reconciler: an orphan jitflow created is removed, the unknown is reported, standing access
is untouched, and a dry run changes nothing."""

from __future__ import annotations

import pytest
from access_stack import DEVELOPERS_ROLE, READONLY_ROLE, Stack, wait_for
from temporalio.client import WorkflowFailureError

from jitflow.contracts.access import Decision
from jitflow.contracts.membership import MembershipKey
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
