"""Activities behind the ``RoleMembership`` owner: Aptible calls and lease updates.

``add_aptible_membership``/``remove_aptible_membership`` run for the owner workflow. They fetch
the bot's credentials here, inside the activity, and return only ids and flags, so no secret or
token ever reaches a workflow history. ``acquire_lease``/``release_lease`` run for
``AccessRequest``: a workflow cannot update another workflow, so these reach the owner with
update-with-start (the owner is started on first use) and a stable update id, which makes an
activity retry idempotent.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from temporalio import activity
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
)
from temporalio.common import Priority, WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.aptible.client import AptibleClient
from activities.aptible.errors import AptibleError
from activities.blocking import Blocking
from activities.bot_credentials import BotCredentials
from activities.heartbeats import heartbeating
from activities.lease_news import NewsCourier, tell_lease_ended
from jitflow.contracts.activities import (
    ACQUIRE_LEASE,
    ADD_MEMBERSHIP,
    RELEASE_LEASE,
    REMOVE_MEMBERSHIP,
)
from jitflow.contracts.membership import (
    AddMembershipCall,
    LeaseEnded,
    LeaseGrant,
    LeaseRelease,
    LeaseReleased,
    LeaseRequest,
    MembershipAdded,
    MembershipRecord,
    MembershipRemoved,
    ReleaseLease,
    RemoveMembershipCall,
    RoleMembershipInput,
    RoleMembershipState,
    membership_title,
    release_update_id,
)
from jitflow.contracts.names import (
    ADD_LEASE_UPDATE,
    DEFAULT_TASK_QUEUE,
    MEMBERSHIP_WORKFLOW_TYPE,
    RELEASE_LEASE_UPDATE,
)
from jitflow.identity.models import LedgerEntry

if TYPE_CHECKING:
    from datetime import datetime

    from temporalio.activity import Info

    from activities.aptible.credentials import AptibleCredentials
    from jitflow.contracts.membership import Lease, MembershipKey
    from jitflow.contracts.trust import GrantTicket


#: Membership owners run at the highest task priority (1; requests have the default 3), and so do
#: their activities: when many grants end together, the worker takes every owner's removal off
#: the task queue before the requests' bookkeeping, which can wait (priority orders only tasks
#: waiting in a queue: it delays nothing when the worker keeps up).
OWNER_PRIORITY = Priority(priority_key=1)

#: Grants being acquired at once per worker process (see ``acquire_lease``): the activity slots
#: the main worker had before releases needed more of them.
ACQUIRES_AT_ONCE = 100


class MembershipLedger(Protocol):
    """The identity store's record of the memberships jitflow created."""

    def created_membership(self, org_id: str, role_id: str, user_id: str) -> str | None: ...
    def intend_membership(self, org_id: str, role_id: str, user_id: str) -> None: ...
    def confirm_membership(
        self, org_id: str, role_id: str, user_id: str, membership_id: str | None
    ) -> None: ...
    def forget_membership(self, org_id: str, role_id: str, user_id: str) -> None: ...
    def ledger_entry(self, org_id: str, role_id: str, user_id: str) -> LedgerEntry | None: ...
    def holds_another_role(self, org_id: str, user_id: str, role_id: str) -> bool: ...
    def saw_standing_role(self, org_id: str, user_id: str) -> None: ...
    def saw_still_member(self, org_id: str, user_id: str) -> None: ...


class Authority(Protocol):
    """What the membership activities ask before a grant and before a removal
    (``GrantAuthority``; tests that count Aptible calls may pass a stand-in)."""

    async def ticketed(self, request: LeaseRequest, info: Info) -> Lease: ...
    async def admit(
        self, key: MembershipKey, tickets: tuple[GrantTicket, ...], now: datetime
    ) -> GrantTicket: ...
    async def close(self, ids: tuple[str, ...]) -> None: ...
    async def vouch(
        self, news: LeaseEnded, key: MembershipKey, now: datetime
    ) -> LeaseEnded | None: ...


def as_temporal_failure(error: Exception) -> Exception:
    """A non-retryable ``ApplicationError`` for errors that say retrying cannot help.

    The project's error classes (``AptibleError``, ``SecretError``, ``UnknownIntegration``...)
    carry ``retryable``; their messages name roles, users and paths, never a credential. Other
    errors go back to Temporal's retry policy unchanged.
    """
    if isinstance(error, AptibleError):
        # Carries Aptible's Retry-After (429) to Temporal's retry as next_retry_delay.
        return error.as_application_error()
    if getattr(error, "retryable", True) is False:
        return ApplicationError(str(error), type=type(error).__name__, non_retryable=True)
    return error


def _attempt_time(info: Info) -> datetime:
    """When this attempt was scheduled: the server's clock for a regular activity; for a local
    one (scheduled by this worker, which stamps its own clock), the later of that and now, so a
    ticket is never judged live at a moment already past."""
    scheduled = info.current_attempt_scheduled_time
    return max(scheduled, datetime.now(UTC)) if info.is_local else scheduled


class MembershipActivities:
    """One instance per worker: the Aptible client, the bot credentials and a Temporal client."""

    def __init__(
        self,
        aptible: AptibleClient,
        credentials: BotCredentials,
        client: Client,
        task_queue: str = DEFAULT_TASK_QUEUE,
        *,
        authority: Authority,
        ledger: MembershipLedger,
        blocking: Blocking | None = None,
        check_eviction: bool = True,
        courier: NewsCourier | None = None,
        owner_linger: timedelta = timedelta(0),
    ) -> None:
        self._authority = authority
        self._owner_linger = owner_linger
        self.courier = courier or NewsCourier()
        self._ledger = ledger
        self._blocking = blocking or Blocking()
        self._aptible = aptible
        self._credentials = credentials
        self._client = client
        self._task_queue = task_queue
        self._check_eviction = check_eviction
        self._acquires = asyncio.Semaphore(ACQUIRES_AT_ONCE)

    @activity.defn(name=ADD_MEMBERSHIP.name)
    async def add_aptible_membership(self, call: AddMembershipCall) -> MembershipAdded:
        """Make sure the membership exists; report whether it already did (standing access)."""
        async with heartbeating():
            return await self._add(call)

    async def _add(self, call: AddMembershipCall) -> MembershipAdded:
        key = call.key
        # The trust boundary: no membership without a live ticket the worker signed.
        await self._authority.admit(key, call.tickets, _attempt_time(activity.info()))
        ledger = (key.org_id, key.role_id, key.user_id)
        # The ledger, not a guess: a membership found now is jitflow's own exactly when jitflow
        # recorded, before some earlier POST, that it was about to create it.
        recorded = await self._blocking(self._ledger.created_membership, *ledger)

        async def before_post() -> None:
            await self._blocking(self._ledger.intend_membership, *ledger)

        try:
            creds = await self._credentials.for_integration(key.integration_key)
            grant = await self._aptible.ensure_membership(
                creds,
                key.role_id,
                key.user_id,
                org_id=key.org_id,
                may_have_posted_before=recorded is not None,
                before_post=before_post,
            )
        except Exception as error:
            # Whether or not the POST went out, the owner treats a failed add as "maybe there"
            # and removes what the ledger says jitflow created: nothing to flag here.
            raise as_temporal_failure(error) from None
        if grant.preexisting:
            # Standing access keeps the user in the organization: no later removal of one of
            # their grants there is their last role (see ``_left_organization``).
            await self._blocking(self._ledger.saw_standing_role, key.org_id, key.user_id)
        else:
            await self._blocking(self._ledger.confirm_membership, *ledger, grant.membership_id)
        activity.logger.info(
            "membership of user %s in role %s: %s",
            key.user_id,
            key.role_id,
            "pre-existing" if grant.preexisting else "created",
        )
        return MembershipAdded(membership_id=grant.membership_id, preexisting=grant.preexisting)

    @activity.defn(name=REMOVE_MEMBERSHIP.name)
    async def remove_aptible_membership(self, call: RemoveMembershipCall) -> MembershipRemoved:
        """Make sure the membership is gone (already gone is success)."""
        async with heartbeating():
            return await self._remove(call)

    async def _remove(self, call: RemoveMembershipCall) -> MembershipRemoved:
        key = call.key
        # Ended grants are closed first, so a replayed add with their tickets is refused.
        await self._authority.close(call.closed)
        ledger = (key.org_id, key.role_id, key.user_id)
        # Only what the ledger says jitflow created (or was about to) is jitflow's to remove:
        # standing access never is, whoever schedules this activity and with whatever input.
        recorded = await self._blocking(self._ledger.ledger_entry, *ledger)
        if recorded is None:
            result = MembershipRemoved(removed=False, already_absent=True, left_organization=False)
        else:
            # The id jitflow recorded when it created the membership, never the caller's: a
            # made-up id would answer 404 ("already absent") and the real one would stay.
            result = await self._remove_recorded(key, recorded.membership_id)
        if call.tell:
            now = datetime.now(UTC)

            async def vouch(news: LeaseEnded) -> LeaseEnded | None:
                return await self._authority.vouch(news, key, now)

            local = activity.in_activity() and activity.info().is_local
            telling = tell_lease_ended(
                self._client,
                call.tell,
                membership_workflow_id=key.workflow_id,
                vouch=vouch,
                patient=local,
            )
            if local:
                # The owner's workflow task waits for this local activity: the news goes after.
                self.courier.send(telling)
            else:
                await telling
        return result

    async def _remove_recorded(
        self, key: MembershipKey, membership_id: str | None
    ) -> MembershipRemoved:
        ledger = (key.org_id, key.role_id, key.user_id)
        try:
            creds = await self._credentials.for_integration(key.integration_key)
            removal = await self._aptible.remove_membership(
                creds,
                key.role_id,
                key.user_id,
                membership_id,
                org_id=key.org_id,
            )
            await self._blocking(self._ledger.forget_membership, *ledger)
            left = await self._left_organization(key, creds)
        except Exception as error:
            raise as_temporal_failure(error) from None
        if left:
            activity.logger.warning(
                "removing user %s from role %s removed their last role in organization %s",
                key.user_id,
                key.role_id,
                key.org_id,
            )
        return MembershipRemoved(
            removed=removal.removed,
            already_absent=removal.already_absent,
            left_organization=left,
        )

    async def _left_organization(self, key: MembershipKey, creds: AptibleCredentials) -> bool:
        """Whether this removal was the user's last role, so Aptible dropped them from the
        organization: one listing of its users, made only when the role can have been their
        last (the identity store knows no other role of theirs there). The listing that still
        finds them is remembered, so their next removals need none."""
        if not self._check_eviction:
            return False
        org, user = key.org_id, key.user_id
        try:
            if await self._blocking(self._ledger.holds_another_role, org, user, key.role_id):
                return False
            present = await self._aptible.still_in_organization(creds, org, user)
            if present:
                await self._blocking(self._ledger.saw_still_member, org, user)
        except Exception as error:
            # The membership is gone, which is what matters: a failed report must not fail
            # (and so repeat, as "already absent") the removal.
            activity.logger.warning(
                "removed user %s from role %s, but could not tell whether it was their last "
                "role in organization %s: %s",
                user,
                key.role_id,
                org,
                error.message if isinstance(error, AptibleError) else type(error).__name__,
            )
            return False
        return not present

    @activity.defn(name=ACQUIRE_LEASE.name)
    async def acquire_lease(self, request: LeaseRequest) -> LeaseGrant:
        """Add the lease to the membership's owner, starting the owner when none runs.

        At most ``ACQUIRES_AT_ONCE`` at a time in this process: each re-runs the flow's
        reducers on the hook threads, and a burst of approvals beyond what those threads serve
        would spend the reducers' timeout waiting for a thread and refuse grants that were due.
        The worker's other activities (removals, releases) are not limited this way."""
        async with heartbeating(), self._acquires:
            return await self._acquire(request)

    async def _acquire(self, request: LeaseRequest) -> LeaseGrant:
        key = request.key
        lease = await self._authority.ticketed(request, activity.info())
        request = LeaseRequest(key=key, lease=lease)
        start: WithStartWorkflowOperation[Any, RoleMembershipState] = WithStartWorkflowOperation(
            MEMBERSHIP_WORKFLOW_TYPE,
            RoleMembershipInput(key=key, linger=self._owner_linger),
            id=key.workflow_id,
            task_queue=self._task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            result_type=RoleMembershipState,
            static_summary=f"Aptible membership: {membership_title(key, lease)}",
            priority=OWNER_PRIORITY,
        )
        until = lease.ends_at.isoformat() if lease.ends_at else "released"
        try:
            grant: LeaseGrant = await self._client.execute_update_with_start_workflow(
                ADD_LEASE_UPDATE,
                request,
                start_workflow_operation=start,
                id=f"lease/{lease.holder}/{activity.info().workflow_run_id}/{until}",
                result_type=LeaseGrant,
            )
        except WorkflowUpdateFailedError as error:
            cause = error.cause
            message = cause.message if isinstance(cause, ApplicationError) else str(cause)
            raise ApplicationError(message, type="EscalationFailed", non_retryable=True) from None
        return grant

    @activity.defn(name=RELEASE_LEASE.name)
    async def release_lease(self, release: LeaseRelease) -> LeaseReleased:
        """Release the lease. An owner that completed after its last lease holds nothing; one
        that was closed any other way (terminated, failed) may have left the membership, so a
        cleanup owner is started to remove what jitflow created, and awaited."""
        async with heartbeating():
            return await self._release(release)

    async def _release(self, release: LeaseRelease) -> LeaseReleased:
        workflow_id = release.key.workflow_id
        run_id = activity.info().workflow_run_id
        handle = self._client.get_workflow_handle(workflow_id)
        try:
            released: LeaseReleased = await handle.execute_update(
                RELEASE_LEASE_UPDATE,
                ReleaseLease(holder=release.holder, reason=release.reason, holder_run_id=run_id),
                id=release_update_id(release.holder, run_id),
                result_type=LeaseReleased,
            )
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            return await self._after_closed_owner(release.key, workflow_id)
        return released

    async def _after_closed_owner(self, key: MembershipKey, workflow_id: str) -> LeaseReleased:
        gone = LeaseReleased(
            membership_workflow_id=workflow_id,
            released=False,
            membership_removed=False,
            remaining_leases=0,
        )
        # Not the owner's word (a worker can complete a workflow any way it likes) but the
        # ledger's: a membership jitflow created stays in it until a removal confirmed it gone.
        recorded = await self._blocking(
            self._ledger.created_membership, key.org_id, key.role_id, key.user_id
        )
        if recorded is None:
            return gone
        activity.logger.warning(
            "membership owner %s is closed but the ledger still holds its membership: starting "
            "a cleanup owner to remove it",
            workflow_id,
        )
        cleanup = await self._client.start_workflow(
            MEMBERSHIP_WORKFLOW_TYPE,
            RoleMembershipInput(
                key=key,
                membership=MembershipRecord(
                    membership_id=None, preexisting=False, created_at=datetime.now(UTC)
                ),
            ),
            id=workflow_id,
            task_queue=self._task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            result_type=RoleMembershipState,
            static_summary=f"Cleanup: user {key.user_id} in role {key.role_id}",
            priority=OWNER_PRIORITY,
        )
        await cleanup.result()
        return gone.model_copy(update={"membership_removed": True, "cleanup": True})
