"""``AccessRequest``: one person's request for one Aptible role, from request to removal.

Resolve → find the Aptible user → ``on_request`` → permissions → wait for ``approve``/``deny``/
``cancel`` or the request timeout → escalate (a lease on the ``RoleMembership`` owner) → hold
until the end or a ``revoke`` → de-escalate (in ``finally``, shielded, retried without limit).

This module is the lifecycle and its updates. Beside it: who may decide (``permissions``), the
decision mailbox, the events hooks receive (``request_events``), what the Web UI shows
(``request_view``) and each step's activity call (``request_activities``, ``steps``).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.common import VersioningBehavior
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from jitflow.contracts.access import (
        AccessRequestInput,
        AccessState,
        AccessStatus,
        Cancellation,
        Decision,
        ResolvedRequest,
        Revocation,
        UpdateOutcome,
    )
    from jitflow.contracts.events import EventData, HookCall, HookOutcome
    from jitflow.contracts.hooks import HOOKS
    from jitflow.contracts.membership import (
        LeaseEnded,
        LeaseEndHint,
        LeaseEndNotice,
        LeaseRelease,
        LeaseRequest,
        MembershipKey,
    )
    from jitflow.contracts.names import (
        ACCESS_WORKFLOW_TYPE,
        LEASE_END_HINT_SIGNAL,
        LEASE_END_NOTICE_SIGNAL,
        LEASE_ENDED_UPDATE,
    )
    from jitflow.contracts.trust import DecisionProof
    from jitflow.trust.checks import MAX_GRANT_SECONDS, lease_ended_refusal
    from jitflow.trust.directory import DIRECTORY
    from workflows import permissions as rules
    from workflows import request_activities as calls
    from workflows import steps
    from workflows.decision_mailbox import DecisionMailbox, time_left, verdict
    from workflows.notifications import RequestNotifier
    from workflows.request_events import RequestEvents
    from workflows.request_view import RequestView
    from workflows.role_membership import LEASE_END_NEWS


#: Patch id: requests of a flow with a Slack integration are announced and followed in Slack.
SLACK_NOTIFICATIONS = "slack-notifications"

#: Patch id: news of a lease's end is a signed ``lease_news`` update (before, in one unreleased
#: build, an unsigned ``lease_ended`` signal that anyone could forge).
SIGNED_LEASE_NEWS = "signed-lease-news"

#: Patch id: a grant that is already over when its hold starts (its acquire answered late: a busy
#: owner or worker) releases at once. The owner's news or hint of that end may have come while
#: the request did not yet know of the grant, and was dropped, so waiting would last the grace.
RELEASE_LATE_GRANT = "release-late-grant"

#: Patch id: everything this build does differently from the first releases, in one marker
#: recorded as the run starts. Each marker also costs an upsert of ``TemporalChangeVersion``
#: (a visibility write), so a new run records this one instead of each patch above, and it
#: upserts the ``Jit*`` attributes only when one changes (the first releases also upserted
#: after resolving, with nothing changed). Runs recorded before it answer each older patch on
#: its own, where it was asked.
CURRENT_REQUEST = "request-current-2026-11-29"
#: What ``CURRENT_REQUEST`` stands for, fixed for good: a later patch is not in it, so runs
#: recorded with this marker replay without the later change.
CURRENT_REQUEST_COVERS = frozenset(
    {SLACK_NOTIFICATIONS, LEASE_END_NEWS, SIGNED_LEASE_NEWS, RELEASE_LATE_GRANT}
)

#: How long after its end a request waits for its owner's ``LeaseEnded`` before it releases
#: the lease itself (an owner that was terminated, or news that got lost). The owner removes
#: the membership on its own timer either way; this only bounds how late the request records it.
NEWS_GRACE = timedelta(minutes=5)


@workflow.defn(name=ACCESS_WORKFLOW_TYPE, versioning_behavior=VersioningBehavior.PINNED)
class AccessRequestWorkflow:
    """One request for temporary membership of an Aptible role. Query ``status`` for its state.

    Pinned to the worker build it started on: a request lives for its timeout plus its grant
    (until revoked, for flows without an end), so a new build never replays one in flight, even
    after an unguarded change.
    """

    @workflow.init
    def __init__(self, request: AccessRequestInput) -> None:
        self._state = AccessState(workflow_id=workflow.info().workflow_id, input=request)
        self._mailbox = DecisionMailbox()
        self._events = RequestEvents(self._state)
        self._view = RequestView()
        self._revocation: Revocation | None = None
        self._duration = 0
        self._lease_requested = False
        self._released = False
        self._expiring = False
        self._nonces: set[str] = set()  # proofs already used on this run
        self._proof: DecisionProof | None = None  # the approver's, for the grant path to check
        self._after_escalate: asyncio.Future[HookOutcome] | None = None
        self._notifier: RequestNotifier | None = None  # a flow with Slack, from this build on
        # From the LEASE_END_NEWS build on, the owner tells the request when its lease ended:
        # signed news that the membership is gone, or a hint that the lease ended (then the
        # request releases it to hear the outcome).
        self._hears_news = False
        self._signed_news = False
        self._current = False  # the CURRENT_REQUEST marker, asked as the run starts
        self._news: LeaseEnded | LeaseEndNotice | None = None
        self._hinted = False

    # --- the run -----------------------------------------------------------------------------

    @workflow.run
    async def run(self, request: AccessRequestInput) -> AccessState:
        cancelled = False
        try:
            await self._lifecycle(request)
        except asyncio.CancelledError:
            cancelled = True
            raise
        except steps.StepFailed as failure:
            self._fail(str(failure))
            raise ApplicationError(
                str(failure), type="AccessRequestFailed", non_retryable=True
            ) from None
        finally:
            if self._lease_requested and not self._released:
                await steps.shielded(self._deescalate)
            if cancelled:
                if self._state.status == "pending":
                    self._events.record("cancel", None, "the workflow was cancelled")
                self._set_status("cancelled")
            self._mailbox.close(self._state.status, f"the request is {self._state.status}")
            if self._notifier is not None:
                await steps.shielded(self._notifier.finish)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state

    async def _lifecycle(self, request: AccessRequestInput) -> None:
        state = self._state
        state.requested_at = workflow.now()
        self._current = workflow.patched(CURRENT_REQUEST)
        self._view.upsert_on_change = self._current
        self._publish()
        state.resolved = resolved = await calls.resolve(request)
        self._duration = resolved.duration_seconds
        if resolved.slack_integration and self._patched(SLACK_NOTIFICATIONS):
            self._notifier = RequestNotifier(
                lambda event, text: self._events.record(event, None, text)
            )
        self._publish()
        identity = await calls.find_identity(resolved, self._event("request", resolved.requester))
        state.aptible_user_id = identity.service_user_id
        self._events.record("request", resolved.requester, request.reason or None)

        outcome = await self._hook("on_request", resolved.requester)
        if outcome.action in ("deny", "ignore"):
            verb = "denied" if outcome.action == "deny" else "ignored"
            await self._finish_denied(
                "hook:on_request", outcome.message or f"{verb} by the on_request hook"
            )
            return
        auto_approved = outcome.action in ("approve", "escalate")
        if outcome.duration:
            self._duration = outcome.duration
        await self._hook("after_request", resolved.requester)

        state.permissions = await calls.permissions(
            resolved, self._event("request", resolved.requester)
        )
        if state.permissions.role_of(resolved.requester) == "guest":
            raise steps.StepFailed(f"{resolved.requester} is a guest; guests cannot request access")
        state.ready_for_decision = True
        self._publish()
        if self._notifier is not None and not auto_approved:
            self._notifier.request_made(state)  # the approvers' channel, with the buttons

        if auto_approved:
            self._approve("hook:on_request", outcome.message or "approved by the on_request hook")
            await self._hook("after_approve", resolved.requester)
        elif not await self._await_decision(resolved):
            return

        outcome = await self._hook("on_escalate", state.approver or resolved.requester)
        if outcome.action == "deescalate":
            # Sym lets on_escalate turn the grant into a de-escalation: nothing is granted.
            self._events.record("deescalate", "hook:on_escalate", outcome.message)
            self._set_status("deescalated")
            return
        if self._revocation is not None:
            # Revoked between approval and escalation: grant nothing.
            self._events.record("deescalate", self._revocation.by, self._revocation.message)
            self._set_status("deescalated")
            return
        await self._escalate(resolved)
        await self._hold()

    # --- steps -------------------------------------------------------------------------------

    async def _hook(self, hook: str, actor: str) -> HookOutcome:
        """Run a flow hook; a failing fatal hook fails the run, any other failure is noted."""
        kind = HOOKS[hook]
        resolved = self._resolved()
        if resolved.handlers is not None and hook not in resolved.handlers:
            return HookOutcome(called=False)  # the flow has no such hook: nothing to run
        call = HookCall(flow=resolved.flow_key, hook=hook, event=self._event(kind.event, actor))
        try:
            outcome = await calls.run_hook(resolved, call)
        except steps.StepFailed as failure:
            if kind.fatal:
                raise
            self._state.hook_errors.append(str(failure))
            return HookOutcome(called=True)
        if outcome.duration is not None and not 0 < outcome.duration <= MAX_GRANT_SECONDS:
            raise steps.StepFailed(
                f"{hook} returned duration={outcome.duration}: a grant lasts 1 to "
                f"{MAX_GRANT_SECONDS} seconds"
            )
        if kind.records_message and outcome.message:
            self._events.record(hook, None, outcome.message)  # what the hook said, for the audit
        return outcome

    async def _await_decision(self, resolved: ResolvedRequest) -> bool:
        """Wait for an approval (True), or a denial, cancellation or expiry (False)."""
        state = self._state
        while True:
            self._view.show(state, self._duration, "waiting for a decision")
            left = time_left(state.requested_at, resolved.request_timeout_seconds, workflow.now())
            posted = await self._mailbox.take(left, "request expires")
            if posted is None:
                self._expiring = True  # decisions are refused from here on
                await self._hook("on_request_expire", resolved.requester)
                self._events.record(
                    "request_expire", None, "no decision before the request timeout"
                )
                self._set_status("expired")
                await self._hook("after_request_expire", resolved.requester)
                return False
            kind, body = posted
            if isinstance(body, Cancellation):
                self._events.record("cancel", body.by, body.message)
                state.cancelled_by = body.by
                self._set_status("cancelled")
                self._mailbox.answer(True, state.status, body.message)
                return False
            outcome = await self._hook(f"on_{kind}", body.approver)
            effective, message = verdict(kind, body.message, outcome)
            if effective == "ignore":
                self._mailbox.refuse(state.status, message or "ignored")
                continue
            if outcome.duration:
                self._duration = outcome.duration
            if effective == "deny":
                await self._finish_denied(body.approver, message)
                self._mailbox.answer(True, state.status, message)
                return False
            self._proof = body.proof
            self._approve(body.approver, message)
            self._mailbox.answer(True, state.status, message)
            await self._hook("after_approve", body.approver)
            return True

    def _decided(self, decision: str, by: str, message: str | None) -> None:
        state = self._state
        state.approver = by
        state.decision_message = message
        state.decided_at = workflow.now()
        self._events.record(decision, by, message)

    def _approve(self, approver: str, message: str | None) -> None:
        self._decided("approve", approver, message)
        self._set_status("approved")

    async def _finish_denied(self, approver: str, message: str | None) -> None:
        self._decided("deny", approver, message)
        self._set_status("denied")
        await self._hook("after_deny", approver)

    async def _escalate(self, resolved: ResolvedRequest) -> None:
        state = self._state
        assert state.aptible_user_id is not None
        lease = calls.lease(resolved, state.workflow_id, self._duration, workflow.now())
        self._lease_requested = True
        self._view.show(state, self._duration, "granting access")
        request = LeaseRequest(key=self._membership_key(), lease=lease, proof=self._proof)
        self._hears_news = self._patched(LEASE_END_NEWS)
        self._signed_news = self._hears_news and self._patched(SIGNED_LEASE_NEWS)
        # A cancel while the lease is being taken waits for it: releasing first would leave a
        # lease that lands afterwards holding the membership to its end.
        grant = await steps.shielded(lambda: calls.acquire(resolved, request), then_cancel=True)
        self._events.escalated(grant, resolved.target.role_id, workflow.now())
        self._set_status("escalated")
        # Not awaited here: a revoke must never wait for user code. It runs beside the hold.
        self._after_escalate = asyncio.ensure_future(
            self._hook("after_escalate", state.approver or resolved.requester)
        )

    async def _hold(self) -> None:
        """Wait until the grant ends, or a ``revoke`` update arrives.

        From the ``LEASE_END_NEWS`` build on, the end is the owner's ``LeaseEnded`` (sent once
        the membership is gone), with a timer at the end plus ``NEWS_GRACE`` in case it never
        comes: one workflow task at the end instead of a release round trip."""
        state = self._state
        timeout = None
        summary = "access held until revoked"
        if state.expires_at is not None:
            timeout = max(state.expires_at - workflow.now(), timedelta(milliseconds=1))
            summary = f"access ends at {state.expires_at.isoformat(timespec='seconds')}"
            if self._hears_news:
                timeout += NEWS_GRACE
                if workflow.now() >= state.expires_at and self._patched(RELEASE_LATE_GRANT):
                    return
        self._view.show(state, self._duration, summary)
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self._revocation is not None or self._news is not None or self._hinted,
                timeout=timeout,
                timeout_summary=summary,
            )

    async def _deescalate(self) -> None:
        """Release the lease (retried without limit), unless the removal already sent its
        signed news; then, access gone, the hooks."""
        state = self._state
        self._view.show(state, self._duration, "removing access")
        if self._news is not None:
            released = self._news.as_release()  # the owner already removed what was due
        else:
            released = await calls.release(
                LeaseRelease(
                    key=self._membership_key(),
                    holder=state.workflow_id,
                    reason="revoked" if self._revocation else "ended",
                )
            )
        revoker = self._revocation.by if self._revocation else None
        if state.escalated_at is not None:
            state.deescalated_at = workflow.now()
            note = self._revocation.message if self._revocation else "the grant's duration ended"
            if released.cleanup:
                note = f"{note}; its owner had been closed, so a cleanup owner removed it"
            self._events.record("deescalate", revoker, note)
            if state.status != "failed":
                self._set_status("deescalated")
        self._released = True
        # User code runs after the removal, never before it: Sym calls on_deescalate first, but
        # a hook must not be able to delay taking access away. Failures are only noted.
        if self._after_escalate is not None:
            await self._after_escalate
        if state.escalated_at is not None:
            requester = self._resolved().requester
            await self._hook("on_deescalate", revoker or requester)
            await self._hook("after_deescalate", revoker or requester)

    # --- updates and query -------------------------------------------------------------------

    @workflow.update
    async def approve(self, decision: Decision) -> UpdateOutcome:
        return await self._decide("approve", decision)

    @approve.validator
    def _validate_approve(self, decision: Decision) -> None:
        refusal = rules.approval_refusal(self._state, "approve", decision.approver, **self._now())
        self._check("approve", decision.approver, decision, refusal)

    @workflow.update
    async def deny(self, decision: Decision) -> UpdateOutcome:
        return await self._decide("deny", decision)

    @deny.validator
    def _validate_deny(self, decision: Decision) -> None:
        refusal = rules.approval_refusal(self._state, "deny", decision.approver, **self._now())
        self._check("deny", decision.approver, decision, refusal)

    @workflow.update
    async def cancel(self, cancellation: Cancellation) -> UpdateOutcome:
        return await self._decide("cancel", cancellation)

    @cancel.validator
    def _validate_cancel(self, cancellation: Cancellation) -> None:
        refusal = rules.cancel_refusal(self._state, cancellation.by, **self._now())
        self._check("cancel", cancellation.by, cancellation, refusal)

    @workflow.update
    async def revoke(self, revocation: Revocation) -> UpdateOutcome:
        if revocation.proof is not None:
            self._nonces.add(revocation.proof.nonce)
        if self._revocation is None:
            self._revocation = revocation
            self._state.revoked_by = revocation.by
            self._state.revoke_message = revocation.message
        await workflow.wait_condition(lambda: self._released or self._state.final)
        return UpdateOutcome(accepted=True, status=self._state.status, message=revocation.message)

    @workflow.update(name=LEASE_ENDED_UPDATE)
    def lease_ended(self, news: LeaseEnded) -> None:
        """The removal's signed news that this grant's lease ended and the membership is gone:
        the request records the end without releasing. Only a validated update reaches history,
        so replay trusts what it finds there."""
        if self._news is None:
            self._news = news

    @lease_ended.validator
    def _validate_lease_ended(self, news: LeaseEnded) -> None:
        state = self._state
        if not self._signed_news or state.escalated_at is None or state.final:
            raise ValueError("this request holds no lease that could have ended")
        # Real news comes from the owner's timer at the grant's end: any earlier is refused,
        # whoever signed it (a removal anyone scheduled signs only what the worker's records
        # show, but this keeps a grant's record from ending before its own end).
        if state.expires_at is None or workflow.now() < state.expires_at:
            raise ValueError("the grant has not reached its end")
        refusal = lease_ended_refusal(
            news,
            holder=state.workflow_id,
            run_id=workflow.info().run_id,
            owner_id=self._membership_key().workflow_id,
            directory=DIRECTORY,
        )
        if refusal:
            raise ValueError(refusal)

    @workflow.signal(name=LEASE_END_HINT_SIGNAL)
    def lease_end_hint(self, hint: LeaseEndHint) -> None:
        """The owner's hint that this grant's lease ended while the membership stays. Anyone can
        signal, so it only ends the wait after the grant's own end, and the request then
        releases its lease to hear the outcome from the owner (as without any news)."""
        state = self._state
        if not self._signed_news or state.expires_at is None or workflow.now() < state.expires_at:
            return
        if hint.membership_workflow_id == self._membership_key().workflow_id:
            self._hinted = True

    @workflow.signal(name=LEASE_END_NOTICE_SIGNAL)
    def lease_end_notice(self, notice: LeaseEndNotice) -> None:
        """Replays the one unreleased build that took an unsigned signal as news (its runs
        lack the ``SIGNED_LEASE_NEWS`` marker); every later request ignores it."""
        state = self._state
        if not self._hears_news or self._signed_news or self._news is not None:
            return
        if state.expires_at is None or workflow.now() < state.expires_at:
            return
        if notice.membership_workflow_id == self._membership_key().workflow_id:
            self._news = notice

    @revoke.validator
    def _validate_revoke(self, revocation: Revocation) -> None:
        revoked_by = self._revocation.by if self._revocation else None
        refusal = rules.revocation_refusal(self._state, revocation.by, revoked_by)
        self._check("revoke", revocation.by, revocation, refusal)

    @workflow.query
    def status(self) -> AccessState:
        return self._state

    def _now(self) -> dict[str, bool]:
        """What the validators need beyond the state: expiring, a decision being judged."""
        return {"expiring": self._expiring, "busy": self._mailbox.busy}

    def _check(
        self, action: str, who: str, body: Decision | Cancellation | Revocation, known: str | None
    ) -> None:
        """Validators refuse by raising: the caller gets the reason, history gets nothing. The
        flow's rules say who may; the proof, checked with the worker's keys, who is speaking."""
        refusal = known or rules.proof_refusal(
            self._state,
            action,
            who,
            body.proof,
            body.message,
            used_nonces=self._nonces,
            run_id=workflow.info().first_execution_run_id,
            now=workflow.now(),
            directory=DIRECTORY,
        )
        if refusal:
            raise ValueError(refusal)

    async def _decide(self, kind: str, body: Decision | Cancellation) -> UpdateOutcome:
        state = self._state
        if body.proof is not None:
            self._nonces.add(body.proof.nonce)
        if not state.ready_for_decision:
            # A decision that arrived while the request was being set up (for example a
            # `temporal workflow update` pasted right after `start`) is judged once it is ready.
            # Only this early one can be refused after acceptance, which history then records.
            await workflow.wait_condition(lambda: state.ready_for_decision or state.final)
            refusal = rules.late_refusal(state, kind, body)
            if refusal:
                raise ApplicationError(refusal, type="DecisionRefused", non_retryable=True)
        if self._mailbox.busy or state.status != "pending":
            # Two decisions accepted in one workflow task: the first one wins.
            return UpdateOutcome(accepted=False, status=state.status, message="already decided")
        return await self._mailbox.post(kind, body)

    def _resolved(self) -> ResolvedRequest:
        resolved = self._state.resolved
        if resolved is None:
            raise ValueError("the request has not been resolved yet; try again in a moment")
        return resolved

    def _patched(self, patch_id: str) -> bool:
        """Whether this run does what ``patch_id`` brought: a run with the ``CURRENT_REQUEST``
        marker does all that marker covers; a run recorded before it, and any patch added after
        it, asks the patch itself."""
        if self._current and patch_id in CURRENT_REQUEST_COVERS:
            return True
        return workflow.patched(patch_id)

    def _membership_key(self) -> MembershipKey:
        assert self._state.aptible_user_id is not None
        return calls.membership_key(self._resolved(), self._state.aptible_user_id)

    def _event(self, name: str, actor: str) -> EventData:
        return self._events.event(self._resolved(), name, actor, self._duration)

    def _set_status(self, status: AccessStatus) -> None:
        self._state.status = status
        self._publish()
        self._tell()

    def _tell(self) -> None:
        """Slack follows each change of status; deliveries never hold the lifecycle up."""
        notifier, state = self._notifier, self._state
        if notifier is None:
            return
        if state.status == "escalated":
            notifier.escalated(state)  # the message shows the end; the requester is told
        elif state.status == "deescalated" and state.escalated_at is not None:
            notifier.removed(state)
        else:
            notifier.decided(state)

    def _publish(self) -> None:  # search attributes and Web UI details, from the state
        self._view.publish(self._state, self._duration)

    def _fail(self, message: str) -> None:
        self._state.error = message
        self._events.record("error", None, message)
        self._set_status("failed")
