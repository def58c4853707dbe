"""``ReconcileMemberships``: find and fix drift between Aptible and jitflow, on a schedule.

For one integration: list its target roles' memberships, the running ``RoleMembership`` owners,
and the ledger of what jitflow created. A membership jitflow created that no owner holds (an
orphan: its owner was terminated, its request too) is removed; a membership jitflow did not
create is reported (removed only where the flow sets ``vars.reconcile = "remove"``); a
membership the ledger holds but Aptible lost is reported, and its running owner is told (it
notes it in its audit; the removal at the grant's end then finds it already absent). Every finding
and action is in this run's history and result. ``dry_run`` changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import VersioningBehavior
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from jitflow.contracts import activities as contract
    from jitflow.contracts.membership import (
        MembershipKey,
        MembershipVanished,
        RemoveMembershipCall,
    )
    from jitflow.contracts.names import MEMBERSHIP_VANISHED_SIGNAL
    from jitflow.contracts.reconcile import (
        RECONCILE_WORKFLOW_TYPE,
        Drift,
        ListingCall,
        ReconcileInput,
        ReconcileReport,
        RoleMember,
    )
    from workflows import steps


#: Patch id: owners whose membership vanished are told (before it, they were only reported).
TELL_VANISHED_OWNERS = "tell-vanished-owners"


@workflow.defn(name=RECONCILE_WORKFLOW_TYPE, versioning_behavior=VersioningBehavior.AUTO_UPGRADE)
class ReconcileWorkflow:
    @workflow.run
    async def run(self, request: ReconcileInput) -> ReconcileReport:
        self._dry_run = request.dry_run
        call = ListingCall(integration_key=request.integration_key)
        listing = await steps.call(
            contract.RECONCILE_LIST,
            call,
            summary=f"List the target roles of integration {request.integration_key}",
            start_to_close=timedelta(minutes=2),
            retry=steps.QUICK,
        )
        owners = await steps.call(
            contract.RECONCILE_OWNERS,
            call,
            summary="List the running membership owners",
            start_to_close=timedelta(minutes=1),
            retry=steps.QUICK,
        )
        running = set(owners.workflow_ids)
        drift: list[Drift] = []
        for member in listing.members:
            held = member.key.workflow_id in running
            if member.ledger is not None and not held:
                drift.append(await self._remove_orphan(member.key, member.membership_id, request))
            elif member.ledger is None and not held:
                drift.append(await self._unknown(member, request))
        for key in listing.vanished:
            drift.append(await self._vanished(key, key.workflow_id in running, listing.listed_at))
        workflow.set_current_details(
            f"{len(listing.members)} memberships seen, {len(drift)} differences"
        )
        return ReconcileReport(
            integration_key=request.integration_key,
            dry_run=request.dry_run,
            memberships_seen=len(listing.members),
            drift=tuple(drift),
            problems=listing.problems,
        )

    async def _remove_orphan(
        self, key: MembershipKey, membership_id: str, request: ReconcileInput
    ) -> Drift:
        if request.dry_run:
            return Drift(kind="orphan", key=key, action="would remove")
        await steps.call(
            contract.REMOVE_MEMBERSHIP,
            RemoveMembershipCall(key=key, membership_id=membership_id),
            summary=f"Remove orphan: user {key.user_id} in role {key.role_id}",
            start_to_close=timedelta(minutes=2),
            heartbeat=steps.HEARTBEAT,
            retry=steps.PATIENT,
            schedule_to_close=timedelta(minutes=10),
        )
        return Drift(kind="orphan", key=key, action="removed")

    async def _vanished(self, key: MembershipKey, held: bool, listed_at: datetime | None) -> Drift:
        # Runs before this patch only reported; they never signalled, so neither may their replay.
        if not held or listed_at is None or not workflow.patched(TELL_VANISHED_OWNERS):
            return Drift(kind="vanished", key=key, action="reported")
        if self._dry_run:
            return Drift(kind="vanished", key=key, action="would tell the owner")
        owner = workflow.get_external_workflow_handle(key.workflow_id)
        try:
            await owner.signal(MEMBERSHIP_VANISHED_SIGNAL, MembershipVanished(listed_at=listed_at))
        except FailureError:
            return Drift(kind="vanished", key=key, action="reported")  # it closed meanwhile
        return Drift(kind="vanished", key=key, action="told the owner")

    async def _unknown(self, member: RoleMember, request: ReconcileInput) -> Drift:
        if not member.remove_unknown:
            return Drift(kind="unknown", key=member.key, action="reported")
        if request.dry_run:
            return Drift(kind="unknown", key=member.key, action="would remove")
        await steps.call(
            contract.RECONCILE_REMOVE_UNKNOWN,
            RemoveMembershipCall(key=member.key, membership_id=member.membership_id),
            summary=f"Remove unknown: user {member.key.user_id} in role {member.key.role_id}",
            start_to_close=timedelta(minutes=2),
            retry=steps.PATIENT,
        )
        return Drift(kind="unknown", key=member.key, action="removed")
