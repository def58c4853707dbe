"""``AccessRequest``'s activity calls: which activity, with what timeouts, retries and summary.

The lifecycle in ``access_request.py`` says *when* each step runs; this says *how* it is called.
Each function raises ``steps.StepFailed`` when the step failed for good (``release`` never does:
taking access away is retried without limit).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from jitflow.contracts import activities as contract
    from jitflow.contracts.access import AccessRequestInput, ResolvedRequest
    from jitflow.contracts.events import (
        EventData,
        HookCall,
        HookOutcome,
        Permissions,
        PermissionsCall,
    )
    from jitflow.contracts.identity import ResolvedIdentity, ResolveIdentityInput
    from jitflow.contracts.membership import (
        Lease,
        LeaseGrant,
        LeaseRelease,
        LeaseReleased,
        LeaseRequest,
        MembershipKey,
    )
    from workflows import steps
    from workflows.request_view import target_text


def membership_key(resolved: ResolvedRequest, user_id: str) -> MembershipKey:
    """The membership a grant of ``resolved`` to Aptible user ``user_id`` is about."""
    return MembershipKey(
        org_id=resolved.org_id,
        role_id=resolved.target.role_id,
        user_id=user_id,
        integration_key=resolved.integration_key,
    )


def lease(resolved: ResolvedRequest, holder: str, duration: int, now: datetime) -> Lease:
    """The lease a request asks for: ``duration`` from now, or until released for flows that
    do not schedule de-escalation. The owner counts the duration from its confirmation."""
    timed = resolved.schedule_deescalation
    return Lease(
        holder=holder,
        ends_at=now + timedelta(seconds=duration) if timed else None,
        granted_at=now,
        duration_seconds=duration if timed else None,
    )


async def resolve(request: AccessRequestInput) -> ResolvedRequest:
    """Check the input against the configuration; the result is recorded for replay."""
    return await steps.run_step(
        contract.RESOLVE_REQUEST,
        request,
        summary=f"Resolve flow {request.flow!r}, target {request.target!r}",
        start_to_close=timedelta(seconds=30),
        retry=steps.QUICK,
    )


async def find_identity(resolved: ResolvedRequest, event: EventData) -> ResolvedIdentity:
    """The requester's Aptible user: stored, from ``get_identity``, or discovered."""
    lookup = ResolveIdentityInput(
        email=resolved.requester,
        org_id=resolved.org_id,
        integration=resolved.integration_key,
        flow=resolved.flow_key,
        event=event,
    )
    return await steps.run_step(
        contract.RESOLVE_IDENTITY,
        lookup,
        summary=f"Find the Aptible user of {resolved.requester}",
        start_to_close=timedelta(minutes=1),
        retry=steps.PATIENT,
        schedule_to_close=timedelta(minutes=10),
    )


async def permissions(resolved: ResolvedRequest, event: EventData) -> Permissions:
    """Who may decide (``get_permissions`` or ``get_approvers``), with the store's roles."""
    return await steps.run_step(
        contract.GET_PERMISSIONS,
        PermissionsCall(flow=resolved.flow_key, event=event),
        summary="Who may approve (get_permissions)",
        start_to_close=timedelta(seconds=resolved.hook_timeout_seconds),
        retry=steps.hook_retry(resolved.hook_max_attempts),
        task_queue=steps.user_code_queue(),
    )


async def acquire(resolved: ResolvedRequest, request: LeaseRequest) -> LeaseGrant:
    """Take the lease on the membership's owner, which adds the membership if needed."""
    return await steps.run_step(
        contract.ACQUIRE_LEASE,
        request,
        summary=f"Add {resolved.requester} to role {target_text(resolved)}",
        start_to_close=timedelta(minutes=2),
        heartbeat=steps.HEARTBEAT,
        retry=steps.PATIENT,
        schedule_to_close=timedelta(minutes=15),
    )


async def release(release: LeaseRelease) -> LeaseReleased:
    """Give the lease back; the owner removes the membership when no lease is left."""
    return await steps.call(
        contract.RELEASE_LEASE,
        release,
        summary="Release the lease on the membership",
        start_to_close=timedelta(minutes=2),
        heartbeat=steps.HEARTBEAT,
        retry=steps.FOREVER,
    )


async def run_hook(resolved: ResolvedRequest, call: HookCall) -> HookOutcome:
    """Run one of the flow's hooks; a failure is ``StepFailed`` naming the hook."""
    try:
        return await steps.call(
            contract.RUN_HOOK,
            call,
            summary=f"{call.hook} hook",
            start_to_close=timedelta(seconds=resolved.hook_timeout_seconds),
            retry=steps.hook_retry(resolved.hook_max_attempts),
            task_queue=steps.user_code_queue(),
        )
    except ActivityError as error:
        raise steps.StepFailed(f"{call.hook}: {steps.step_failure(error)}") from None
