"""``AccessRequest``: one person's request for one Aptible role, from request to removal.

Steps, each recorded in history: resolve the request against the configuration (activity) →
find the requester's Aptible user (activity) → ``on_request`` hook → permissions (who may
decide) → wait for an ``approve``/``deny``/``cancel`` update or the request timeout →
``on_approve``/``on_deny`` → escalate by taking a lease on the membership's ``RoleMembership``
owner → ``after_escalate`` → wait for the grant's end or a ``revoke`` update → de-escalate by
releasing the lease (in ``finally``, shielded from cancellation, retried without limit) →
``after_deescalate``.

Deterministic code only: time comes from ``workflow.now()``, everything else from activities.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from activities.access_models import (
        ACCESS_WORKFLOW_TYPE,
        ACQUIRE_LEASE_ACTIVITY,
        GET_PERMISSIONS_ACTIVITY,
        RELEASE_LEASE_ACTIVITY,
        RESOLVE_IDENTITY_ACTIVITY,
        RESOLVE_REQUEST_ACTIVITY,
        RUN_HOOK_ACTIVITY,
        AccessRequestInput,
        AccessState,
        AccessStatus,
        Cancellation,
        Decision,
        Lease,
        LeaseGrant,
        LeaseRelease,
        LeaseRequest,
        MembershipKey,
        ResolvedRequest,
        Revocation,
        TimelineEntry,
        UpdateOutcome,
    )
    from activities.identity_models import ResolvedIdentity, ResolveIdentityInput
    from jitflow.events import (
        EventData,
        HookCall,
        HookOutcome,
        Permissions,
        PermissionsCall,
        UserData,
    )
    from workflows import search_keys
    from workflows.permissions import (
        decision_refusal,
        describe_approvers,
        normalize_email,
        revoke_refusal,
    )

_T = TypeVar("_T")

_QUICK = RetryPolicy(maximum_attempts=3, maximum_interval=timedelta(seconds=10))
_PATIENT = RetryPolicy(maximum_interval=timedelta(seconds=30))
_FOREVER = RetryPolicy(maximum_attempts=0, maximum_interval=timedelta(minutes=1))


class _RunFailed(Exception):
    """A step failed for good: the run ends as ``failed`` with this message."""


def _reraise_cancellation(error: ActivityError) -> None:
    """A workflow cancel that arrives during an activity surfaces as that activity's failure;
    it must cancel the run (de-escalating in ``finally``), never pass for a failed step."""
    if is_cancelled_exception(error):
        raise asyncio.CancelledError from error


def _failure_message(error: BaseException) -> str:
    """The innermost application message of an activity failure (never a credential: activities
    build their messages from ids and names only)."""
    cause: BaseException | None = error
    while isinstance(cause, ActivityError) and cause.cause is not None:
        cause = cause.cause
    if isinstance(cause, ApplicationError):
        return cause.message
    return str(cause)


def _duration_text(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _target_text(resolved: ResolvedRequest) -> str:
    return resolved.target.label or resolved.target.name


@workflow.defn(name=ACCESS_WORKFLOW_TYPE)
class AccessRequestWorkflow:
    """One request for temporary membership of an Aptible role. Query ``status`` for its state."""

    @workflow.init
    def __init__(self, request: AccessRequestInput) -> None:
        self._state = AccessState(workflow_id=workflow.info().workflow_id, input=request)
        self._queued: tuple[str, Decision | Cancellation] | None = None
        self._answer: UpdateOutcome | None = None
        self._revocation: Revocation | None = None
        self._duration = 0
        self._lease_requested = False
        self._released = False
        self._contexts: dict[str, dict[str, Any]] = {}
        self._actors: dict[str, str] = {}
        self._step_outputs: dict[str, dict[str, Any]] = {}
        self._last_attributes: dict[str, object] = {}
        self._expiring = False

    # --- the run -----------------------------------------------------------------------------

    @workflow.run
    async def run(self, request: AccessRequestInput) -> AccessState:
        cancelled = False
        try:
            await self._lifecycle(request)
        except asyncio.CancelledError:
            cancelled = True
            raise
        except _RunFailed as failure:
            self._fail(str(failure))
            raise ApplicationError(
                str(failure), type="AccessRequestFailed", non_retryable=True
            ) from None
        finally:
            if self._lease_requested and not self._released:
                await self._shielded(self._deescalate)
            if cancelled:
                if self._state.status == "pending":
                    self._record("cancel", None, "the workflow was cancelled")
                self._set_status("cancelled")
        return self._state

    async def _lifecycle(self, request: AccessRequestInput) -> None:
        state = self._state
        state.requested_at = workflow.now()
        self._publish()
        resolved = await self._resolve(request)
        identity = await self._identity(resolved)
        state.aptible_user_id = identity.service_user_id
        self._record("request", resolved.requester, request.reason or None)

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

        state.permissions = await self._permissions(resolved)
        if state.permissions.role_of(resolved.requester) == "guest":
            raise _RunFailed(f"{resolved.requester} is a guest; guests cannot request access")
        state.ready_for_decision = True
        self._publish()

        if auto_approved:
            self._approve("hook:on_request", outcome.message or "approved by the on_request hook")
            await self._hook("after_approve", resolved.requester)
        elif not await self._await_decision(resolved):
            return

        outcome = await self._hook("on_escalate", self._state.approver or resolved.requester)
        if outcome.action == "deescalate":
            # Sym lets on_escalate turn the grant into a de-escalation: nothing is granted.
            self._record("deescalate", "hook:on_escalate", outcome.message)
            self._set_status("deescalated")
            return
        if self._revocation is not None:
            # Revoked between approval and escalation: grant nothing.
            self._record("deescalate", self._revocation.by, self._revocation.message)
            self._set_status("deescalated")
            return
        await self._escalate(resolved)
        await self._hold(resolved)

    # --- steps -------------------------------------------------------------------------------

    async def _resolve(self, request: AccessRequestInput) -> ResolvedRequest:
        try:
            resolved: ResolvedRequest = await workflow.execute_activity(
                RESOLVE_REQUEST_ACTIVITY,
                request,
                result_type=ResolvedRequest,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=_QUICK,
                summary=f"Resolve flow {request.flow!r}, target {request.target!r}",
            )
        except ActivityError as error:
            _reraise_cancellation(error)
            raise _RunFailed(_failure_message(error)) from None
        self._state.resolved = resolved
        self._duration = resolved.duration_seconds
        self._publish()
        return resolved

    async def _identity(self, resolved: ResolvedRequest) -> ResolvedIdentity:
        lookup = ResolveIdentityInput(
            email=resolved.requester,
            org_id=resolved.org_id,
            integration=resolved.integration_key,
            flow=resolved.flow_key,
            event=self._event("request", resolved.requester),
        )
        try:
            found: ResolvedIdentity = await workflow.execute_activity(
                RESOLVE_IDENTITY_ACTIVITY,
                lookup,
                result_type=ResolvedIdentity,
                start_to_close_timeout=timedelta(minutes=1),
                retry_policy=_PATIENT,
                schedule_to_close_timeout=timedelta(minutes=10),
                summary=f"Find the Aptible user of {resolved.requester}",
            )
        except ActivityError as error:
            _reraise_cancellation(error)
            raise _RunFailed(_failure_message(error)) from None
        return found

    async def _permissions(self, resolved: ResolvedRequest) -> Permissions:
        call = PermissionsCall(
            flow=resolved.flow_key, event=self._event("request", resolved.requester)
        )
        try:
            permissions: Permissions = await workflow.execute_activity(
                GET_PERMISSIONS_ACTIVITY,
                call,
                result_type=Permissions,
                start_to_close_timeout=timedelta(seconds=resolved.hook_timeout_seconds),
                retry_policy=RetryPolicy(
                    maximum_attempts=resolved.hook_max_attempts,
                    maximum_interval=timedelta(seconds=10),
                ),
                summary="Who may approve (get_permissions)",
            )
        except ActivityError as error:
            _reraise_cancellation(error)
            raise _RunFailed(_failure_message(error)) from None
        return permissions

    async def _hook(self, hook: str, actor: str) -> HookOutcome:
        """Run a flow hook; a failing ``on_*`` hook fails the run, an ``after_*`` one is noted."""
        resolved = self._resolved()
        if resolved.handlers is not None and hook not in resolved.handlers:
            return HookOutcome(called=False)  # the flow has no such hook: nothing to run
        event_name = hook.split("_", 1)[1]
        call = HookCall(flow=resolved.flow_key, hook=hook, event=self._event(event_name, actor))
        try:
            outcome: HookOutcome = await workflow.execute_activity(
                RUN_HOOK_ACTIVITY,
                call,
                result_type=HookOutcome,
                start_to_close_timeout=timedelta(seconds=resolved.hook_timeout_seconds),
                retry_policy=RetryPolicy(
                    maximum_attempts=resolved.hook_max_attempts,
                    maximum_interval=timedelta(seconds=10),
                ),
                summary=f"{hook} hook",
            )
        except ActivityError as error:
            _reraise_cancellation(error)
            message = f"{hook}: {_failure_message(error)}"
            if hook.startswith("on_") and hook != "on_deescalate":
                raise _RunFailed(message) from None
            self._state.hook_errors.append(message)
            return HookOutcome(called=True)
        if hook.startswith("after_") and outcome.message:
            self._record(hook, None, outcome.message)  # what the hook returned, for the audit
        return outcome

    async def _await_decision(self, resolved: ResolvedRequest) -> bool:
        """Wait for an approval (True), or a denial, cancellation or expiry (False)."""
        state = self._state
        while True:
            timeout: timedelta | None = None
            if resolved.request_timeout_seconds is not None:
                assert state.requested_at is not None
                deadline = state.requested_at + timedelta(seconds=resolved.request_timeout_seconds)
                timeout = max(deadline - workflow.now(), timedelta(milliseconds=1))
            workflow.set_current_details(self._details("waiting for a decision"))
            try:
                await workflow.wait_condition(
                    lambda: self._queued is not None,
                    timeout=timeout,
                    timeout_summary="request expires",
                )
            except TimeoutError:
                self._expiring = True  # decisions are refused from here on
                await self._hook("on_request_expire", resolved.requester)
                self._record("request_expire", None, "no decision before the request timeout")
                self._set_status("expired")
                await self._hook("after_request_expire", resolved.requester)
                return False
            assert self._queued is not None
            kind, body = self._queued
            if isinstance(body, Cancellation):
                self._record("cancel", body.by, body.message)
                state.cancelled_by = body.by
                self._set_status("cancelled")
                self._answer_with(True, body.message)
                return False
            outcome = await self._hook(f"on_{kind}", body.approver)
            if outcome.action == "ignore":
                self._queued = None
                self._answer_with(False, outcome.message or f"{kind} ignored by the on_{kind} hook")
                continue
            effective = kind
            if outcome.action in ("approve", "escalate"):
                effective = "approve"
            elif outcome.action == "deny":
                effective = "deny"
            if outcome.duration:
                self._duration = outcome.duration
            message = body.message if outcome.action is None else (outcome.message or body.message)
            if effective == "deny":
                await self._finish_denied(body.approver, message)
                self._answer_with(True, message)
                return False
            self._approve(body.approver, message)
            self._answer_with(True, message)
            await self._hook("after_approve", body.approver)
            return True

    def _approve(self, approver: str, message: str | None) -> None:
        state = self._state
        state.approver = approver
        state.decision_message = message
        state.decided_at = workflow.now()
        self._record("approve", approver, message)
        self._set_status("approved")

    async def _finish_denied(self, approver: str, message: str | None) -> None:
        state = self._state
        state.approver = approver
        state.decision_message = message
        state.decided_at = workflow.now()
        self._record("deny", approver, message)
        self._set_status("denied")
        await self._hook("after_deny", approver)

    async def _escalate(self, resolved: ResolvedRequest) -> None:
        state = self._state
        assert state.aptible_user_id is not None
        now = workflow.now()
        ends_at = (
            now + timedelta(seconds=self._duration) if resolved.schedule_deescalation else None
        )
        key = self._membership_key()
        self._lease_requested = True
        workflow.set_current_details(self._details("granting access"))
        try:
            grant: LeaseGrant = await workflow.execute_activity(
                ACQUIRE_LEASE_ACTIVITY,
                LeaseRequest(
                    key=key,
                    lease=Lease(
                        holder=state.workflow_id,
                        ends_at=ends_at,
                        granted_at=now,
                        duration_seconds=self._duration if ends_at is not None else None,
                    ),
                ),
                result_type=LeaseGrant,
                start_to_close_timeout=timedelta(minutes=2),
                schedule_to_close_timeout=timedelta(minutes=15),
                retry_policy=_PATIENT,
                summary=f"Add {resolved.requester} to role {_target_text(resolved)}",
            )
        except ActivityError as error:
            _reraise_cancellation(error)
            raise _RunFailed(_failure_message(error)) from None
        # The owner counted the duration from the moment the membership existed.
        state.escalated_at = grant.confirmed_at or workflow.now()
        state.expires_at = grant.ends_at
        state.preexisting = grant.preexisting
        state.membership_workflow_id = grant.membership_workflow_id
        self._step_outputs["escalate"] = {
            "preexisting": grant.preexisting,
            "membership_id": grant.membership_id,
            "role_id": resolved.target.role_id,
            "user_id": state.aptible_user_id,
        }
        note = "standing access: kept at the end" if grant.preexisting else None
        self._record("escalate", state.approver, note)
        self._set_status("escalated")
        await self._hook("after_escalate", state.approver or resolved.requester)

    async def _hold(self, resolved: ResolvedRequest) -> None:
        """Wait until the grant ends, or a ``revoke`` update arrives."""
        state = self._state
        timeout = None
        summary = "access held until revoked"
        if state.expires_at is not None:
            timeout = max(state.expires_at - workflow.now(), timedelta(milliseconds=1))
            summary = f"access ends at {state.expires_at.isoformat(timespec='seconds')}"
        workflow.set_current_details(self._details(summary))
        try:
            await workflow.wait_condition(
                lambda: self._revocation is not None, timeout=timeout, timeout_summary=summary
            )
        except TimeoutError:
            return

    async def _deescalate(self) -> None:
        """Release the lease (retried without limit), then ``after_deescalate``."""
        state = self._state
        workflow.set_current_details(self._details("removing access"))
        if state.escalated_at is not None:
            # Before the removal, as in Sym; it cannot stop it, and a failure is only noted.
            who = self._revocation.by if self._revocation else self._resolved().requester
            await self._hook("on_deescalate", who)
        await workflow.execute_activity(
            RELEASE_LEASE_ACTIVITY,
            LeaseRelease(
                key=self._membership_key(),
                holder=state.workflow_id,
                reason="revoked" if self._revocation else "ended",
            ),
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=_FOREVER,
            summary="Release the lease on the membership",
        )
        self._released = True
        if state.escalated_at is None:
            return
        state.deescalated_at = workflow.now()
        revoker = self._revocation.by if self._revocation else None
        message = self._revocation.message if self._revocation else "the grant's duration ended"
        self._record("deescalate", revoker, message)
        if state.status != "failed":
            self._set_status("deescalated")
        assert state.resolved is not None
        await self._hook("after_deescalate", revoker or state.resolved.requester)

    async def _shielded(self, work: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
        """Run ``work()`` to its end even if the workflow is cancelled meanwhile."""
        coroutine = work()
        try:
            task = asyncio.ensure_future(coroutine)
        except BaseException:
            coroutine.close()  # the workflow is being evicted from the worker's cache
            raise
        while True:
            try:
                return await asyncio.shield(task)
            except asyncio.CancelledError:
                if task.done():
                    return task.result()

    # --- updates and query -------------------------------------------------------------------

    @workflow.update
    async def approve(self, decision: Decision) -> UpdateOutcome:
        return await self._decide("approve", decision)

    @approve.validator
    def _validate_approve(self, decision: Decision) -> None:
        self._check_decision("approve", decision.approver)

    @workflow.update
    async def deny(self, decision: Decision) -> UpdateOutcome:
        return await self._decide("deny", decision)

    @deny.validator
    def _validate_deny(self, decision: Decision) -> None:
        self._check_decision("deny", decision.approver)

    @workflow.update
    async def cancel(self, cancellation: Cancellation) -> UpdateOutcome:
        return await self._decide("cancel", cancellation)

    @cancel.validator
    def _validate_cancel(self, cancellation: Cancellation) -> None:
        self._check_open("cancel")
        requester = normalize_email(self._state.input.requester)
        if self._state.resolved is not None:
            requester = self._state.resolved.requester
        if normalize_email(cancellation.by) != requester:
            raise ValueError(
                f"{cancellation.by} may not cancel: only the requester ({requester}) may"
            )

    @workflow.update
    async def revoke(self, revocation: Revocation) -> UpdateOutcome:
        if self._revocation is None:
            self._revocation = revocation
            state = self._state
            state.revoked_by = revocation.by
            state.revoke_message = revocation.message
        await workflow.wait_condition(lambda: self._released or self._state.final)
        return UpdateOutcome(accepted=True, status=self._state.status, message=revocation.message)

    @revoke.validator
    def _validate_revoke(self, revocation: Revocation) -> None:
        state = self._state
        if state.status not in ("approved", "escalated"):
            raise ValueError(f"nothing to revoke: the request is {state.status}")
        if self._revocation is not None:
            raise ValueError(f"already revoked by {self._revocation.by}")
        assert state.permissions is not None
        refusal = revoke_refusal(state.permissions, self._resolved(), revocation.by, state.approver)
        if refusal:
            raise ValueError(refusal)

    @workflow.query
    def status(self) -> AccessState:
        return self._state

    def _check_open(self, action: str) -> None:
        state = self._state
        if self._expiring:
            raise ValueError(f"cannot {action}: the request has expired")
        if state.status != "pending" or self._queued is not None:
            decided = f" by {state.approver}" if state.approver else ""
            raise ValueError(
                f"cannot {action}: the request is already decided ({state.status}{decided})"
            )

    def _check_decision(self, action: str, actor: str) -> None:
        self._check_open(action)
        state = self._state
        if not actor.strip():
            raise ValueError(f"{action} needs an approver email")
        if not state.ready_for_decision:
            # Who may decide is known once the request is set up (a moment after it starts);
            # ``_decide`` waits for that and applies the same rules then.
            return
        assert state.permissions is not None
        refusal = decision_refusal(state.permissions, self._resolved(), actor, action)
        if refusal:
            raise ValueError(refusal)

    async def _decide(self, kind: str, body: Decision | Cancellation) -> UpdateOutcome:
        state = self._state
        if not state.ready_for_decision:
            # A decision that arrived while the request was being set up (for example a
            # `temporal workflow update` pasted right after `start`) is judged once it is ready.
            # Only this early one can be refused after acceptance, which history then records.
            await workflow.wait_condition(lambda: state.ready_for_decision or state.final)
            if isinstance(body, Decision) and state.permissions is not None:
                refusal = decision_refusal(state.permissions, self._resolved(), body.approver, kind)
                if refusal:
                    raise ApplicationError(refusal, type="DecisionRefused", non_retryable=True)
        if self._queued is not None or self._state.status != "pending":
            # Two decisions accepted in one workflow task: the first one wins.
            return UpdateOutcome(
                accepted=False, status=self._state.status, message="already decided"
            )
        self._answer = None
        self._queued = (kind, body)
        await workflow.wait_condition(lambda: self._answer is not None)
        answer = self._answer
        assert answer is not None
        return answer

    def _answer_with(self, accepted: bool, message: str | None) -> None:
        self._answer = UpdateOutcome(accepted=accepted, status=self._state.status, message=message)

    # --- state, events and visibility --------------------------------------------------------

    def _resolved(self) -> ResolvedRequest:
        resolved = self._state.resolved
        if resolved is None:
            raise ValueError("the request has not been resolved yet; try again in a moment")
        return resolved

    def _membership_key(self) -> MembershipKey:
        resolved = self._resolved()
        assert self._state.aptible_user_id is not None
        return MembershipKey(
            org_id=resolved.org_id,
            role_id=resolved.target.role_id,
            user_id=self._state.aptible_user_id,
            integration_key=resolved.integration_key,
        )

    def _record(self, event: str, actor: str | None, message: str | None) -> None:
        self._state.timeline.append(
            TimelineEntry(event=event, at=workflow.now(), actor=actor, message=message)
        )
        if actor:
            self._actors[event] = actor
        if message:
            self._contexts[event] = {"message": message}

    def _set_status(self, status: AccessStatus) -> None:
        self._state.status = status
        self._publish()

    def _fail(self, message: str) -> None:
        self._state.error = message
        self._record("error", None, message)
        self._set_status("failed")

    def _user(self, email: str) -> UserData:
        permissions = self._state.permissions
        role = permissions.role_of(email) if permissions else "member"
        identities: dict[str, str] = {}
        resolved = self._state.resolved
        if (
            resolved
            and self._state.aptible_user_id
            and normalize_email(email) == resolved.requester
        ):
            identities[f"aptible:{resolved.org_id}"] = self._state.aptible_user_id
        return UserData(email=normalize_email(email), role=role, identities=identities)

    def _event(self, name: str, actor: str) -> EventData:
        resolved = self._resolved()
        fields = dict(resolved.fields)
        fields["duration"] = self._duration
        return EventData(
            name=name,
            flow=resolved.flow_key,
            request_id=self._state.workflow_id,
            timestamp=workflow.now(),
            user=self._user(actor if "@" in actor else resolved.requester),
            requester=self._user(resolved.requester),
            target=resolved.target,
            fields=fields,
            actors={
                event: self._user(email) for event, email in self._actors.items() if "@" in email
            },
            contexts=dict(self._contexts),
            step_outputs=dict(self._step_outputs),
        )

    def _details(self, doing: str) -> str:
        state = self._state
        resolved = state.resolved
        if resolved is None:
            return f"**{state.input.requester}** requests `{state.input.target}`: {doing}"
        lines = [
            f"**{resolved.requester}** requests **{_target_text(resolved)}** "
            f"({resolved.flow_label or resolved.flow_name}) for {_duration_text(self._duration)}",
            f"Status: **{state.status}**, {doing}",
        ]
        if state.permissions is not None and state.status == "pending":
            lines.append(f"Approvers: {describe_approvers(state.permissions)}")
        if state.approver:
            lines.append(f"Decided by {state.approver}")
        if state.expires_at:
            lines.append(f"Access ends at {state.expires_at.isoformat(timespec='seconds')}")
        if state.error:
            lines.append(f"Error: {state.error}")
        return "\n\n".join(lines)

    def _publish(self) -> None:
        """Upsert the ``Jit*`` search attributes that changed, and the Web UI's current details."""
        state = self._state
        resolved = state.resolved
        wanted: dict[str, object] = {
            "JitStatus": state.status,
            "JitRequester": resolved.requester
            if resolved
            else normalize_email(state.input.requester),
            "JitFlow": resolved.flow_name if resolved else state.input.flow,
            "JitTarget": resolved.target.name if resolved else state.input.target,
        }
        if state.approver:
            wanted["JitApprover"] = state.approver
        if state.expires_at:
            wanted["JitExpiresAt"] = state.expires_at
        changed = {k: v for k, v in wanted.items() if self._last_attributes.get(k) != v}
        updates: list[SearchAttributeUpdate[Any]] = []
        for name, value in changed.items():
            if name == "JitExpiresAt":
                assert isinstance(value, datetime)
                updates.append(search_keys.JIT_EXPIRES_AT.value_set(value))
            else:
                key = {
                    "JitStatus": search_keys.JIT_STATUS,
                    "JitRequester": search_keys.JIT_REQUESTER,
                    "JitFlow": search_keys.JIT_FLOW,
                    "JitTarget": search_keys.JIT_TARGET,
                    "JitApprover": search_keys.JIT_APPROVER,
                }[name]
                updates.append(key.value_set(str(value)))
        if updates:
            workflow.upsert_search_attributes(updates)
            self._last_attributes.update(changed)
        workflow.set_current_details(self._details(state.status))
