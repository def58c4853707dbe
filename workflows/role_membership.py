"""``RoleMembership``: the one owner of an (organization, role, Aptible user) membership.

Grants never touch Aptible directly: each takes a lease here (``add_lease``) and gives it back
(``release_lease``), both reached with update-with-start from an activity. The owner makes sure
the membership exists while at least one lease is live, removes it when the last one has ended
or been released, and runs its own timer to each lease's end, so a grant whose ``AccessRequest``
was terminated still ends on time. A membership that existed before jitflow first granted it is
standing access: recorded, and never removed. All Aptible calls happen one at a time in the main
loop, so two grants of one role never race. Its history is the membership's audit trail.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, VersioningBehavior
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    FailureError,
    is_cancelled_exception,
)

with workflow.unsafe.imports_passed_through():
    from jitflow.contracts import activities as contract
    from jitflow.contracts.access import TimelineEntry
    from jitflow.contracts.failures import failure_message, root_cause
    from jitflow.contracts.membership import (
        OWNER_LINGER_LIMIT,
        AddMembershipCall,
        Lease,
        LeaseEndHint,
        LeaseGrant,
        LeaseHolderRun,
        LeaseReleased,
        LeaseRequest,
        MembershipAdded,
        MembershipRecord,
        MembershipRemoved,
        MembershipVanished,
        ReleaseLease,
        RemoveMembershipCall,
        RoleMembershipInput,
        RoleMembershipState,
        membership_title,
    )
    from jitflow.contracts.names import (
        LEASE_END_HINT_SIGNAL,
        MEMBERSHIP_VANISHED_SIGNAL,
        MEMBERSHIP_WORKFLOW_TYPE,
    )
    from jitflow.contracts.trust import ticket_id
    from jitflow.trust.checks import lease_refusal
    from jitflow.trust.directory import DIRECTORY
    from workflows import steps
    from workflows.request_view import text

#: Patch id: news that the membership vanished is only noted (before: the owner stopped counting
#: the membership, so it was never removed at the end).
VANISHED_ONLY_NOTED = "vanished-only-noted"

#: Patch id: requests whose lease ended on its timer are told so once the membership is gone,
#: by the removal activity (a signed ``LeaseEnded``), or hinted by the owner when the membership
#: stays, instead of each sending a release and waiting for the owner's answer; such leases are
#: tombstoned like released ones, so a copy of one is never held again.
LEASE_END_NEWS = "lease-end-news"
# (The hint's name, its sending all at once and the tombstones came after 55cb574, the build that
# first recorded this patch; that build never landed, so no run of it is in flight anywhere.)

#: Patch id: a timed lease is not ended by the end its request asked for until the owner has
#: confirmed it (added the membership) and counted its duration from then. Before, an owner busy
#: past that end (another lease's removal) dropped the lease unconfirmed: the grant "escalated"
#: with no membership, and its request heard of the end before it knew of the grant.
CONFIRM_BEFORE_EXPIRY = "confirm-before-expiry"

#: Patch id: the removal runs first as a local activity, inside the workflow task that decides
#: it (the lease-end timer's, or the last release's), and only when that fails as a regular
#: activity retried for ever. Before, every removal was a regular activity: two more workflow
#: tasks' worth of server writes, and a wait in the activity task queue, before the ``DELETE``.
REMOVE_LOCALLY = "remove-locally"

#: Patch id: the add runs first as a local activity too, inside the workflow task of the lease
#: that asks for it, so the grant's ``add_lease`` is answered in that one task; a failure goes to
#: the regular activity, as before. (The activity checks the grant's ticket either way: where it
#: runs changes nothing about what it verifies.)
ADD_LOCALLY = "add-locally"

#: Patch id: everything a build did differently from the first releases, in one marker
#: recorded where a run first asks for one (each marker also costs an upsert of
#: ``TemporalChangeVersion``, a visibility write). Runs recorded before it answer each patch
#: above on its own, where asked.
CURRENT_OWNER = "owner-current-2026-11-29"
#: What ``CURRENT_OWNER`` stands for, fixed for good: a later patch is not in it, so runs
#: recorded with this marker replay without the later change.
CURRENT_OWNER_COVERS = frozenset({VANISHED_ONLY_NOTED, LEASE_END_NEWS, CONFIRM_BEFORE_EXPIRY})
#: The marker new runs record instead, standing for ``REMOVE_LOCALLY`` as well. A run recorded
#: with ``CURRENT_OWNER`` asks ``REMOVE_LOCALLY`` on its own, at its removal.
CURRENT_OWNER_2 = "owner-current-2026-11-30"
CURRENT_OWNER_2_COVERS = CURRENT_OWNER_COVERS | {REMOVE_LOCALLY}
#: And since ``ADD_LOCALLY``, this one. A run recorded with an older marker asks each patch that
#: marker does not cover on its own, where it gets there.
CURRENT_OWNER_3 = "owner-current-2026-11-30b"
CURRENT_OWNER_3_COVERS = CURRENT_OWNER_2_COVERS | {ADD_LOCALLY}
#: Newest first: a run asks each marker that covers a patch until one was recorded.
OWNER_MARKERS = (
    (CURRENT_OWNER_3, CURRENT_OWNER_3_COVERS),
    (CURRENT_OWNER_2, CURRENT_OWNER_2_COVERS),
    (CURRENT_OWNER, CURRENT_OWNER_COVERS),
)

#: Continue-as-new once the history holds this many events (or when the server suggests it).
HISTORY_LIMIT = 2000
#: Audit entries carried across continue-as-new (the full trail is in the earlier runs).
AUDIT_CARRIED = 50
#: Released tickets remembered across continue-as-new (a late lease arrives within minutes).
TOMBSTONES_CARRIED = 200

#: Backoff between attempts of a removal that failed for good (then retried all the same).
REMOVAL_RETRY_FIRST = timedelta(seconds=5)
REMOVAL_RETRY_MAX = timedelta(minutes=30)
#: One attempt of a local add or removal (``ADD_LOCALLY``, ``REMOVE_LOCALLY``), bounded: any
#: failure, a timeout included, goes to the regular activity, which rides out Aptible's outages
#: and a dead worker.
LOCAL_ATTEMPT_TIMEOUT = timedelta(seconds=30)
LOCAL_ATTEMPT_RETRY = RetryPolicy(maximum_attempts=1)


def _retryable(error: FailureError) -> bool:
    """Whether another attempt may succeed: not when the root cause says it cannot."""
    cause = root_cause(error)
    return not (isinstance(cause, ApplicationError) and cause.non_retryable)


@workflow.defn(name=MEMBERSHIP_WORKFLOW_TYPE, versioning_behavior=VersioningBehavior.AUTO_UPGRADE)
class RoleMembershipWorkflow:
    """Holds the leases of one membership and keeps Aptible in line with them.

    Moves to the current build at its next workflow task (auto-upgrade): an owner lives as long
    as any lease, until-revoked ones included, and must never keep an old build running. So every
    change here is replay-safe: guarded by ``workflow.patched``, or by a start input field that
    runs of earlier builds do not have (``linger``: theirs is 0, and their replay takes the path
    it took), and proven by the frozen corpus.
    """

    #: The markers this build records and answers (the upgrade tests give earlier builds' own).
    MARKERS: tuple[tuple[str, frozenset[str]], ...] = OWNER_MARKERS

    @workflow.init
    def __init__(self, start: RoleMembershipInput) -> None:
        self._key = start.key
        self._leases: dict[str, Lease] = {lease.holder: lease for lease in start.leases}
        self._membership = start.membership
        self._audit = list(start.audit)
        self._version = 0
        self._applied = 0
        self._removals = 0
        self._rejections: dict[str, str] = {}
        # The latest lease that names whose access this is: the Web UI's details keep saying it
        # after the last lease is gone, while the membership is being removed.
        self._named: Lease | None = None
        self._closed: list[str] = list(start.closed)  # tickets of ended leases, until removal
        # Tickets whose lease was released: a lease that arrives after its release (a request
        # cancelled while its acquire was in flight) is refused, never held.
        self._tombstones: list[str] = list(start.released)
        # Only runs told of a vanished membership before the ``VANISHED_ONLY_NOTED`` patch set
        # this: they do not put the membership back for the current grants.
        self._vanished = start.vanished
        # Requests whose lease ended on its timer and that were not told yet (LEASE_END_NEWS).
        self._untold: list[LeaseHolderRun] = []
        self._news: bool | None = None  # whether this run tells them (the patch, asked once)
        self._markers: dict[str, bool] = {}  # OWNER_MARKERS asked so far, each once
        # Holders whose timed lease waits for its confirmation (CONFIRM_BEFORE_EXPIRY): their
        # end is not counted yet. Never carried: continue-as-new waits for every handler.
        # Counted per holder: two runs of one workflow id may each wait for theirs.
        self._confirming: dict[str, int] = {}
        # Capped: an owner that never closed would hold a worker's cache and the Web UI's list.
        self._linger = min(max(start.linger, timedelta(0)), OWNER_LINGER_LIMIT)
        self._closes_at: datetime | None = None  # the linger's end, from the last removal
        self._held_lease = False  # whether a lease ever counted here (no linger otherwise)
        self._refused_start = bool(start.leases) and workflow.info().continued_run_id is None
        if self._refused_start:
            # Only a continue-as-new of an owner carries leases in its input; any other start
            # with leases did not come through the worker's grant path, so they count for nothing.
            self._leases = {}
        self._remember_names(*self._leases.values())

    @workflow.run
    async def run(self, start: RoleMembershipInput) -> RoleMembershipState:
        if self._refused_start:
            self._note("start_refused", None, "leases in a start input are ignored: not signed")
        while True:
            await self._apply()
            if not self._leases and self._version == self._applied:
                await self._settle()
                if self._leases or self._version != self._applied or await self._lingered():
                    continue
                self._note("owner_finished", None, "no lease left")
                workflow.set_current_details(self._details())
                return self._snapshot()
            if self._should_continue_as_new():
                await self._settle()
                if self._version == self._applied:
                    workflow.continue_as_new(
                        RoleMembershipInput(
                            key=self._key,
                            leases=tuple(self._leases.values()),
                            membership=self._membership,
                            audit=tuple(self._audit[-AUDIT_CARRIED:]),
                            closed=tuple(self._closed),
                            released=tuple(self._tombstones[-TOMBSTONES_CARRIED:]),
                            vanished=self._vanished,
                            linger=self._linger,
                        )
                    )
                continue
            await self._wait_for_change()

    async def _settle(self) -> None:
        """Wait until every update handler has answered, or a new update needs applying."""
        await workflow.wait_condition(
            lambda: workflow.all_handlers_finished() or self._version != self._applied
        )

    async def _wait_for_change(self) -> None:
        """Sleep until a lease changes or the earliest lease end comes."""
        ends = [
            lease.ends_at
            for holder, lease in self._leases.items()
            if lease.ends_at is not None and holder not in self._confirming
        ]
        timeout = None
        summary = "until released"
        if ends:
            first = min(ends)
            timeout = max(first - workflow.now(), timedelta(milliseconds=1))
            summary = f"next lease ends at {first.isoformat(timespec='seconds')}"
        workflow.set_current_details(self._details())
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self._version != self._applied, timeout=timeout, timeout_summary=summary
            )

    async def _lingered(self) -> bool:
        """After this run removed the membership of a lease it held, wait until ``linger`` after
        that removal for a change before closing; whether one came (the loop then applies it: a
        new lease adds the membership back; anything else comes back here, to the same end). The
        removal's workflow task then only removes: the close, and its visibility write, come
        after the removals still due when many grants end together."""
        if not (self._removals and self._held_lease) or self._membership is not None:
            return False
        if self._linger <= timedelta(0):
            return False
        if self._closes_at is None:
            self._closes_at = workflow.now() + self._linger
        left = self._closes_at - workflow.now()
        if left <= timedelta(0):
            return False
        workflow.set_current_details(self._details(self._closes_at))
        # A change that lands with the timer's firing still counts: checked after the wait.
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self._version != self._applied,
                timeout=left,
                timeout_summary="close unless a new lease comes",
            )
        return self._version != self._applied

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested() or info.get_current_history_length() > HISTORY_LIMIT
        )

    async def _apply(self) -> None:
        """Bring Aptible in line with the live leases, one call at a time."""
        version = self._version
        now = workflow.now()
        workflow.set_current_details(self._details())
        for holder, lease in list(self._leases.items()):
            if lease.ends_at is not None and lease.ends_at <= now:
                if holder in self._confirming:
                    continue  # its duration counts from the confirmation still to come
                self._drop(holder)
                self._note("lease_ended", holder, f"ended at {lease.ends_at.isoformat()}")
                if lease.ticket is not None and self._tells_news():
                    run_id = lease.ticket.holder_run_id
                    # Its request no longer releases it: the tombstone a release would have
                    # left keeps a re-sent copy of this lease from holding the membership.
                    self._tombstones.append(ticket_id(holder, run_id))
                    self._untold.append(LeaseHolderRun(holder=holder, run_id=run_id))
        if self._leases:
            self._held_lease = True
        if self._leases and self._membership is None and not self._vanished:
            await self._add()
        elif not self._leases and self._membership is not None:
            await self._remove()
        if self._untold:
            await self._tell_untold()
        self._applied = version

    def _confirmed(self, holder: str) -> bool:
        """One add of ``holder`` no longer waits; whether it was the last one that did."""
        waiting = self._confirming.get(holder, 0) - 1
        if waiting > 0:
            self._confirming[holder] = waiting
            return False
        return self._confirming.pop(holder, None) is not None

    def _patched(self, patch_id: str) -> bool:
        """Whether this run does what ``patch_id`` brought: a run with one of the
        ``OWNER_MARKERS`` does all that marker covers (a new run records the newest); a run
        recorded before them, and a patch its marker does not cover, asks the patch itself."""
        for marker, covers in self.MARKERS:
            if patch_id not in covers:
                continue
            if marker not in self._markers:
                self._markers[marker] = workflow.patched(marker)
            if self._markers[marker]:
                return True
        return workflow.patched(patch_id)

    def _tells_news(self) -> bool:
        """Whether this run tells requests their lease ended (asked once per run, at its first
        add or lease end, so the patch marker lands outside the removal's workflow task)."""
        if self._news is None:
            self._news = self._patched(LEASE_END_NEWS)
        return self._news

    async def _tell_untold(self) -> None:
        """Hint the requests whose lease ended while the membership stays (other leases, or
        standing access) that it did: each then releases its lease at once to hear the outcome
        from this owner, instead of waiting out its grace. A closed request needs no hint."""
        hint = LeaseEndHint(membership_workflow_id=workflow.info().workflow_id)
        untold, self._untold = self._untold, []

        async def tell(run: LeaseHolderRun) -> None:
            handle = workflow.get_external_workflow_handle(run.holder, run_id=run.run_id)
            try:
                await handle.signal(LEASE_END_HINT_SIGNAL, hint)
            except FailureError as error:
                self._note("lease_end_not_told", run.holder, type(error).__name__)

        await asyncio.gather(*(tell(run) for run in untold))

    async def _add(self) -> None:
        self._tells_news()
        summary = f"Add user {self._key.user_id} to role {self._key.role_id}"
        added: MembershipAdded | None = None
        failure: FailureError | None = None
        if self._patched(ADD_LOCALLY):
            try:
                added = await steps.call_local(
                    contract.ADD_MEMBERSHIP,
                    self._add_call(),
                    summary=summary,
                    start_to_close=LOCAL_ATTEMPT_TIMEOUT,
                    retry=LOCAL_ATTEMPT_RETRY,
                )
            except FailureError as error:
                # Unwrapped or not (see ``_remove_locally``). A refusal, or a failure no retry
                # fixes (403, unknown role), fails the add as it would have as a regular
                # activity, and so does a cancel; anything else (a timeout, Aptible down) tries
                # again as the regular activity, which the ledger makes safe even when this
                # attempt's POST went through.
                if is_cancelled_exception(error) or not _retryable(error):
                    failure = error
                else:
                    self._note(
                        "membership_add_retried",
                        None,
                        f"{failure_message(error)}; trying again as a regular activity",
                    )
        if added is None and failure is None:
            try:
                added = await steps.call(
                    contract.ADD_MEMBERSHIP,
                    self._add_call(),
                    summary=summary,
                    start_to_close=timedelta(minutes=2),
                    heartbeat=steps.HEARTBEAT,
                    retry=steps.PATIENT,
                    schedule_to_close=timedelta(minutes=10),
                )
            except ActivityError as error:
                failure = error
        if added is None:
            assert failure is not None
            message = failure_message(failure)
            for holder in list(self._leases):
                self._rejections[holder] = message
                self._drop(holder)
            self._note("membership_add_failed", None, message)
            # A POST may have gone through before the failure (the activity timed out, or the
            # worker died): remove whatever the ledger says jitflow created; standing access is
            # never in the ledger, so it is never touched.
            self._membership = MembershipRecord(
                membership_id=None, preexisting=False, created_at=workflow.now()
            )
            self._note("membership_uncertain", None, "removing what jitflow may have created")
            return
        self._membership = MembershipRecord(
            membership_id=added.membership_id,
            preexisting=added.preexisting,
            created_at=workflow.now(),
        )
        if added.preexisting:
            self._note(
                "standing_access_found", None, "the user already held the role; never removed"
            )
        else:
            self._note("membership_created", None, f"membership {added.membership_id}")

    def _add_call(self) -> AddMembershipCall:
        """The add with the tickets of the leases held now (a live one is the add's proof)."""
        return AddMembershipCall(
            key=self._key,
            tickets=tuple(lease.ticket for lease in self._leases.values() if lease.ticket),
        )

    async def _remove(self) -> None:
        membership = self._membership
        assert membership is not None
        if membership.preexisting:
            self._note("standing_access_kept", None, "the membership predates jitflow: not removed")
            self._membership = None
            return
        summary = f"Remove user {self._key.user_id} from role {self._key.role_id}"
        removed = None
        if self._patched(REMOVE_LOCALLY):
            removed = await self._remove_locally(membership, summary)
        delay = REMOVAL_RETRY_FIRST
        while removed is None:
            try:
                removed = await steps.call(
                    contract.REMOVE_MEMBERSHIP,
                    self._removal_call(membership),
                    summary=summary,
                    start_to_close=timedelta(minutes=2),
                    heartbeat=steps.HEARTBEAT,
                    retry=steps.FOREVER,
                )
            except ActivityError as error:
                # Even a "non-retryable" failure (the bot lost Role Admin, its password was
                # rotated, Secrets Manager denies) must not end the owner with the membership in
                # place: record it, wait, and try again until someone fixes the cause.
                self._note(
                    "membership_removal_failed",
                    None,
                    f"{failure_message(error)}; trying again in {int(delay.total_seconds())}s",
                )
                workflow.set_current_details(
                    self._details() + f"\n\n**Removal failing**: {failure_message(error)}"
                )
                await workflow.sleep(delay, summary="retry the removal")
                delay = min(delay * 2, REMOVAL_RETRY_MAX)
        self._membership = None
        self._closed = []
        self._untold = []  # the removal told them
        self._removals += 1
        self._closes_at = None  # a linger after this removal lasts the whole linger
        note = "already absent" if removed.already_absent else "removed"
        if removed.left_organization:
            note += "; it was the user's last role, so Aptible dropped them from the organization"
        self._note("membership_removed", None, note)

    async def _remove_locally(
        self, membership: MembershipRecord, summary: str
    ) -> MembershipRemoved | None:
        """The removal as a local activity, once; None when it failed (the caller then runs the
        regular one, retried for ever). What the local one did before failing is safe to do
        again: closing tickets, and a ``DELETE`` that finds the membership already gone."""
        try:
            return await steps.call_local(
                contract.REMOVE_MEMBERSHIP,
                self._removal_call(membership),
                summary=summary,
                start_to_close=LOCAL_ATTEMPT_TIMEOUT,
                retry=LOCAL_ATTEMPT_RETRY,
            )
        except FailureError as error:
            # A local activity's failure may surface unwrapped (its ``ApplicationError``, or a
            # timeout) rather than as an ``ActivityError``: any of them means "not removed yet".
            self._note(
                "membership_removal_failed",
                None,
                f"{failure_message(error)}; trying again as a regular activity",
            )
            return None

    def _removal_call(self, membership: MembershipRecord) -> RemoveMembershipCall:
        return RemoveMembershipCall(
            key=self._key,
            membership_id=membership.membership_id,
            closed=tuple(self._closed),
            tell=tuple(self._untold),
        )

    # --- updates and query -------------------------------------------------------------------

    @workflow.update
    async def add_lease(self, request: LeaseRequest) -> LeaseGrant:
        lease = request.lease
        ticket = lease.ticket
        # Checked here too, not only in the validator: a validator does not run on replay.
        if ticket and ticket_id(ticket.holder, ticket.holder_run_id) in self._tombstones:
            raise ApplicationError(
                f"the lease of {ticket.holder} was already released", type="LeaseRefused"
            )
        waits = False  # for its confirmation (CONFIRM_BEFORE_EXPIRY)
        previous = self._leases.get(lease.holder)
        # The same ticket again (a retried acquire, or someone re-sending a copied lease)
        # changes nothing: in particular it never moves the end.
        resent = ticket is not None and previous is not None and previous.ticket == ticket
        self._rejections.pop(lease.holder, None)
        verb = "lease_extended" if previous is not None else "lease_added"
        if not resent:
            self._leases[lease.holder] = lease
            self._vanished = False  # a new approval may put back what was taken away
            self._remember_names(lease)
            if lease.duration_seconds is not None and self._patched(CONFIRM_BEFORE_EXPIRY):
                self._confirming[lease.holder] = self._confirming.get(lease.holder, 0) + 1
                waits = True
        until = lease.ends_at.isoformat() if lease.ends_at else "released"
        self._note(verb, lease.holder, f"until {until}")
        self._version += 1
        mine = self._version
        await workflow.wait_condition(lambda: self._applied >= mine)
        # Once no add of this holder waits any more, its end counts: when the confirmation below
        # does not move it, the owner timer must still be re-armed to include it.
        rearm = waits and self._confirmed(lease.holder) and lease.holder in self._leases
        rejection = self._rejections.pop(lease.holder, None)
        if rejection is not None:
            raise ApplicationError(rejection, type="EscalationFailed", non_retryable=True)
        held = self._leases.get(lease.holder, lease)
        confirmed_at = workflow.now()
        if not resent and lease.duration_seconds is not None and lease.holder in self._leases:
            # The grant's length counts from now, when the membership is known to exist (the
            # start of this workflow task: after a local add in it, the moment before its POST,
            # which errs towards a shorter grant), and never past what its ticket allows.
            ends_at = confirmed_at + timedelta(seconds=lease.duration_seconds)
            if lease.ticket is not None and lease.ticket.not_after is not None:
                ends_at = min(ends_at, lease.ticket.not_after)
            if held.ends_at is None or ends_at > held.ends_at:
                held = held.model_copy(update={"ends_at": ends_at})
                self._leases[lease.holder] = held
                self._version += 1  # re-arm the owner timer for the new end
                rearm = False
        if rearm:
            self._version += 1
        membership = self._membership
        return LeaseGrant(
            membership_workflow_id=workflow.info().workflow_id,
            membership_id=membership.membership_id if membership else None,
            preexisting=membership.preexisting if membership else False,
            ends_at=held.ends_at,
            active_leases=len(self._leases),
            confirmed_at=confirmed_at,
        )

    @add_lease.validator
    def _validate_add_lease(self, request: LeaseRequest) -> None:
        if request.key.workflow_id != self._key.workflow_id:
            raise ValueError(f"lease for {request.key.workflow_id} sent to {self._key.workflow_id}")
        refusal = lease_refusal(request.lease, self._key, workflow.now(), DIRECTORY)
        ticket = request.lease.ticket
        if (
            refusal is None
            and ticket
            and ticket_id(ticket.holder, ticket.holder_run_id) in (self._tombstones)
        ):
            refusal = f"the lease of {ticket.holder} was already released"
        if refusal:
            raise ValueError(refusal)

    @workflow.update
    async def release_lease(self, release: ReleaseLease) -> LeaseReleased:
        holder = release.holder
        lease = self._leases.get(holder)
        run_id = release.holder_run_id or (
            lease.ticket.holder_run_id if lease and lease.ticket else None
        )
        if run_id is not None:
            self._tombstones.append(ticket_id(holder, run_id))
        held = self._drop(holder)
        self._note("lease_released" if held else "release_of_unknown_lease", holder, None)
        removals = self._removals
        self._version += 1
        mine = self._version
        await workflow.wait_condition(lambda: self._applied >= mine)
        return LeaseReleased(
            membership_workflow_id=workflow.info().workflow_id,
            released=held,
            membership_removed=self._removals > removals,
            remaining_leases=len(self._leases),
        )

    @workflow.signal(name=MEMBERSHIP_VANISHED_SIGNAL)
    def membership_vanished(self, news: MembershipVanished) -> None:
        """The reconciler found no membership in Aptible where this owner counts one: noted in
        the audit and the Web UI, nothing more. Anyone who can signal can send this, so it
        changes no decision: the removal at the end still runs (and finds it already absent)."""
        membership = self._membership
        if membership is None or membership.preexisting:
            return
        if membership.created_at > news.listed_at:
            self._note("vanished_report_ignored", None, "created after the reconciler's listing")
            return
        if not self._patched(VANISHED_ONLY_NOTED):
            # Runs told before this patch stopped counting the membership (and so never removed
            # it at the end, which a forged signal could abuse); their replay must still do so.
            self._membership = None
            self._vanished = True
        self._note(
            "membership_vanished",
            None,
            "Aptible no longer has it (reported by the reconciler, removed outside jitflow?); "
            "the removal at the end will find it absent",
        )
        self._version += 1  # refresh what the Web UI shows

    @workflow.query
    def state(self) -> RoleMembershipState:
        return self._snapshot()

    def _snapshot(self) -> RoleMembershipState:
        return RoleMembershipState(
            key=self._key,
            leases=tuple(self._leases.values()),
            membership=self._membership,
            audit=tuple(self._audit),
        )

    def _drop(self, holder: str) -> bool:
        """Forget ``holder``'s lease, keeping its ticket id for the removal's ledger."""
        lease = self._leases.pop(holder, None)
        if lease is not None and lease.ticket is not None:
            self._closed.append(ticket_id(lease.holder, lease.ticket.holder_run_id))
        return lease is not None

    def _note(self, event: str, holder: str | None, message: str | None) -> None:
        self._audit.append(
            TimelineEntry(event=event, at=workflow.now(), actor=holder, message=message)
        )

    def _remember_names(self, *leases: Lease) -> None:
        for lease in leases:
            if lease.requester is not None:
                self._named = lease

    def _details(self, closes_at: datetime | None = None) -> str:
        """The Web UI's current details: whose access on which role (the owner is listed under
        a ``membership/<uuids>`` id), what is in Aptible now, and each lease with its end (or,
        lingering after its removal, when it closes)."""
        key = self._key
        lines = [
            f"Aptible membership of **{text(membership_title(key, self._named))}**",
            f"Organization {text(key.org_id)}, role {text(key.role_id)}, "
            f"Aptible user {text(key.user_id)}",
        ]
        membership = self._membership
        if membership is None and closes_at is not None:
            when = closes_at.isoformat(timespec="seconds")
            lines.append(f"Membership removed: closes at {when} unless a new lease comes")
        elif membership is None:
            lines.append("Adding the membership" if self._leases else "No lease left: nothing held")
        elif membership.preexisting:
            lines.append("Standing access (held before jitflow): never removed")
        elif not self._leases:
            lines.append("Removing the membership: no lease left")
        else:
            lines.append("Member now, added by jitflow")
        for lease in self._leases.values():
            until = lease.ends_at.isoformat(timespec="seconds") if lease.ends_at else "released"
            lines.append(f"Lease of request {text(lease.holder)} until {until}")
        return "\n\n".join(lines)
