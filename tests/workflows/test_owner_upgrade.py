"""Owners that started under an earlier build and remove under this one.

``RoleMembership`` auto-upgrades: an owner whose grant was added by an earlier build takes its
next workflow task, the removal included, on the new one. ``OwnerOf20261129`` and
``OwnerOf20261130`` give the commands those builds recorded (their markers, and no patch that
came after them); the worker is then replaced by today's, which replays that history and removes
locally at the revoke. The histories they leave are kept in the corpus, so every later build
must replay runs that crossed these upgrades.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from access_stack import (
    ADMIN_ROLE,
    keep_history,
    local_activity_types,
    recorded_patches,
    running_worker,
    seed_store,
    wait_for,
)
from temporalio import workflow
from temporalio.common import VersioningBehavior
from temporalio.testing import WorkflowEnvironment

from jitflow.contracts import activities as contract
from jitflow.contracts.access import AccessState, Decision, Revocation
from jitflow.contracts.membership import RoleMembershipInput, RoleMembershipState
from jitflow.contracts.names import MEMBERSHIP_WORKFLOW_TYPE
from jitflow.identity import IdentityStore
from jitflow.testing.aptible_emulator import RunningAptibleEmulator
from worker import WORKFLOWS
from workflows.access_request import AccessRequestWorkflow
from workflows.role_membership import (
    ADD_LOCALLY,
    CURRENT_OWNER,
    CURRENT_OWNER_2,
    CURRENT_OWNER_2_COVERS,
    CURRENT_OWNER_COVERS,
    REMOVE_LOCALLY,
    RoleMembershipWorkflow,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


class _PreviousOwner(RoleMembershipWorkflow):
    """The owner as an earlier build ran it: the markers it knew, and no patch after them."""

    UNKNOWN: frozenset[str] = frozenset()

    def _patched(self, patch_id: str) -> bool:
        if patch_id in self.UNKNOWN:
            return False  # that build did not know it, so it never asked
        return super()._patched(patch_id)


@workflow.defn(name=MEMBERSHIP_WORKFLOW_TYPE, versioning_behavior=VersioningBehavior.AUTO_UPGRADE)
class OwnerOf20261129(_PreviousOwner):
    """Before the local removal and add: one marker, every Aptible call a regular activity."""

    MARKERS = ((CURRENT_OWNER, CURRENT_OWNER_COVERS),)
    UNKNOWN = frozenset({REMOVE_LOCALLY, ADD_LOCALLY})

    @workflow.run
    async def run(self, start: RoleMembershipInput) -> RoleMembershipState:
        return await super().run(start)


@workflow.defn(name=MEMBERSHIP_WORKFLOW_TYPE, versioning_behavior=VersioningBehavior.AUTO_UPGRADE)
class OwnerOf20261130(_PreviousOwner):
    """With the local removal, before the local add."""

    MARKERS = ((CURRENT_OWNER_2, CURRENT_OWNER_2_COVERS), (CURRENT_OWNER, CURRENT_OWNER_COVERS))
    UNKNOWN = frozenset({ADD_LOCALLY})

    @workflow.run
    async def run(self, start: RoleMembershipInput) -> RoleMembershipState:
        return await super().run(start)


def _previous_build(owner: type) -> list[type]:
    return [owner if w is RoleMembershipWorkflow else w for w in WORKFLOWS]


@pytest.mark.parametrize(
    ("previous", "patches"),
    [
        # Asks remove-locally itself, at the removal: its marker does not cover it.
        (OwnerOf20261129, [CURRENT_OWNER, REMOVE_LOCALLY]),
        # Its marker covers the local removal: no other patch is asked.
        (OwnerOf20261130, [CURRENT_OWNER_2]),
    ],
)
async def test_an_owner_from_an_earlier_build_removes_locally_after_the_upgrade(
    previous: type,
    patches: list[str],
    dev_env: WorkflowEnvironment,
    emulator: RunningAptibleEmulator,
    moto_url: str,
    session_tmp: Path,
) -> None:
    tmp = session_tmp / f"upgrade-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    task_queue = f"jitflow-test-{uuid.uuid4().hex[:8]}"
    with IdentityStore.open(f"sqlite:///{tmp / 'identity.db'}") as store:
        seed_store(store)
        shared: dict[str, Any] = {"task_queue": task_queue, "store": store}
        async with running_worker(
            dev_env.client, emulator, moto_url, tmp, workflows=_previous_build(previous), **shared
        ) as before:
            handle = await before.start(
                target="admin_prod", requester="bob@example.com", duration="1h"
            )
            await wait_for(handle, lambda s: s.ready_for_decision)
            await handle.execute_update(
                AccessRequestWorkflow.approve, Decision(approver="dave@example.com")
            )
            state = await wait_for(handle, lambda s: s.status == "escalated")
            assert "bob@example.com" in before.members(ADMIN_ROLE)
        assert state.membership_workflow_id is not None
        async with running_worker(dev_env.client, emulator, moto_url, tmp, **shared) as after:
            await handle.execute_update(
                AccessRequestWorkflow.revoke, Revocation(by="dave@example.com")
            )
            final: AccessState = await handle.result()
            assert final.status == "deescalated"
            assert "bob@example.com" not in after.members(ADMIN_ROLE)
            owner = after.client.get_workflow_handle(
                state.membership_workflow_id, result_type=RoleMembershipState
            )
            await owner.result()
            events = [event async for event in owner.fetch_history_events()]
            assert recorded_patches(events) == patches
            # The add ran as a regular activity on the earlier build; the removal, locally.
            assert local_activity_types(events) == [contract.REMOVE_MEMBERSHIP.name]
            await keep_history(owner, "membership_owner_upgraded_before_its_removal")
