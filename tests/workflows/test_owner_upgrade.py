"""An owner that started under the build before the local removal, and removes under this one.

``RoleMembership`` auto-upgrades: an owner whose grant was added by the previous build takes its
next workflow task, the removal included, on the new one. ``OwnerBeforeLocalRemoval`` gives the
commands that build recorded (one ``owner-current-2026-11-29`` marker, no ``remove-locally``);
the worker is then replaced by today's, which replays that history and, at the revoke, asks
``remove-locally`` on its own and removes locally. The history it leaves is kept in the corpus,
so every later build must replay a run that crossed this upgrade.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from access_stack import (
    ADMIN_ROLE,
    keep_history,
    running_worker,
    seed_store,
    wait_for,
)
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
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
    CURRENT_OWNER,
    CURRENT_OWNER_COVERS,
    REMOVE_LOCALLY,
    RoleMembershipWorkflow,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


@workflow.defn(name=MEMBERSHIP_WORKFLOW_TYPE, versioning_behavior=VersioningBehavior.AUTO_UPGRADE)
class OwnerBeforeLocalRemoval(RoleMembershipWorkflow):
    """The owner as the build of 2026-11-29 ran it: one marker for its patches, and every
    removal a regular activity."""

    @workflow.run
    async def run(self, start: RoleMembershipInput) -> RoleMembershipState:
        return await super().run(start)

    def _patched(self, patch_id: str) -> bool:
        if patch_id == REMOVE_LOCALLY:
            return False  # that build did not know it, so it never asked
        if patch_id in CURRENT_OWNER_COVERS:
            if CURRENT_OWNER not in self._markers:
                self._markers[CURRENT_OWNER] = workflow.patched(CURRENT_OWNER)
            if self._markers[CURRENT_OWNER]:
                return True
        return workflow.patched(patch_id)


def _previous_build() -> list[type]:
    return [OwnerBeforeLocalRemoval if w is RoleMembershipWorkflow else w for w in WORKFLOWS]


def _markers(events: list[Any]) -> tuple[list[str], list[str]]:
    """The patch ids and the local activity types a run recorded, in order."""
    patches, local = [], []
    for event in events:
        if event.event_type != EventType.EVENT_TYPE_MARKER_RECORDED:
            continue
        marker = event.marker_recorded_event_attributes
        if marker.marker_name == "core_patch":
            patches.append(json.loads(marker.details["patch-data"].payloads[0].data)["id"])
        elif marker.marker_name == "core_local_activity":
            data = json.loads(marker.details["data"].payloads[0].data)
            local.append(data["activity_type"])
    return patches, local


async def test_an_owner_from_the_previous_build_removes_locally_after_the_upgrade(
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
            dev_env.client, emulator, moto_url, tmp, workflows=_previous_build(), **shared
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
            patches, local = _markers(events)
            assert patches == [CURRENT_OWNER, REMOVE_LOCALLY]
            assert local == [contract.REMOVE_MEMBERSHIP.name]
            await keep_history(owner, "membership_owner_upgraded_before_its_removal")
