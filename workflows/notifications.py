"""Telling people about a request in Slack, from ``AccessRequest``, without ever waiting on Slack.

``RequestNotifier`` is a plain, deterministic helper (like the Temporal samples'
``UpdatableTimer``): each call snapshots the request as a ``RequestCard`` and *starts* a delivery
activity (``workflow.start_activity``) in a task of its own, then returns at once. Nothing the
lifecycle does awaits a delivery, a delivery that fails (Slack down, a bad token, a channel that
does not exist) never fails the workflow, and each outcome (where it was delivered, or why not,
scrubbed by the activity) is handed to ``record`` so the lifecycle adds it to the timeline.
The bot token never enters the workflow: the activities read it from Secrets Manager.

``AccessRequest`` creates one only for a flow with a Slack integration (``ResolvedRequest.
slack_integration``), behind ``workflow.patched("slack-notifications")``, and calls
``request_made`` once the request awaits a decision, then, through its ``_tell``, ``decided``,
``escalated`` or ``removed`` at each change of status; ``finish`` (shielded) before the run
returns waits, at most ``FINISH_WAIT``, for deliveries still in flight. A flow without Slack
runs none of this: no activity, no timer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from jitflow.contracts import activities as contract
    from jitflow.contracts.access import AccessState
    from jitflow.contracts.activities import ActivityContract
    from jitflow.contracts.failures import failure_message
    from jitflow.contracts.notifications import (
        DeliveryOutcome,
        NotifyRequesterCall,
        PostedMessage,
        PostRequestCall,
        RequestCard,
        RequesterNotice,
        UpdateRequestCall,
    )
    from workflows.permissions import describe_approvers
    from workflows.request_view import target_text

#: The timeline event name of every delivery outcome.
NOTIFY_EVENT = "notify"
#: How long before a timed grant ends its requester is told (half the grant when shorter).
ENDING_NOTICE = timedelta(minutes=10)
#: How long ``finish`` waits for deliveries still in flight before the run returns.
FINISH_WAIT = timedelta(minutes=2)
#: A delivery never raises; these only cover a worker that died or timed out meanwhile.
DELIVERY_RETRY = RetryPolicy(
    maximum_attempts=3,
    initial_interval=timedelta(seconds=2),
    maximum_interval=timedelta(seconds=10),
)
DELIVERY_TIMEOUT = timedelta(seconds=60)

T = TypeVar("T")

#: Records one line in the request's timeline: ``(event, message)``.
Recorder = Callable[[str, str], None]


def card(state: AccessState) -> RequestCard:
    """The request as its Slack message shows it now (a snapshot: later changes need a call)."""
    resolved = state.resolved
    assert resolved is not None, "notify only once the request is resolved"
    return RequestCard(
        workflow_id=state.workflow_id,
        run_id=workflow.info().first_execution_run_id,
        flow=resolved.flow_key,
        flow_label=resolved.flow_label or resolved.flow_name,
        requester=resolved.requester,
        target=target_text(resolved),
        duration_seconds=resolved.duration_seconds if resolved.schedule_deescalation else None,
        reason=state.input.reason or resolved.fields.get("reason") or None,
        status=state.status,
        approvers=describe_approvers(state.permissions) if state.permissions else "",
        decided_by=state.approver,
        decision_message=state.decision_message,
        expires_at=state.expires_at,
        removed_by=state.revoked_by,
    )


class RequestNotifier:
    """Starts Slack deliveries for one request and reports their outcomes; never blocks."""

    def __init__(self, record: Recorder) -> None:
        self._record = record
        self._posted: asyncio.Task[tuple[PostedMessage, ...]] | None = None
        self._last_update: asyncio.Task[None] | None = None
        self._ending: asyncio.Task[None] | None = None
        self._tasks: list[asyncio.Task[Any]] = []

    # --- the calls the lifecycle makes ---------------------------------------------------

    def request_made(self, state: AccessState) -> None:
        """Post the request, with Approve and Deny buttons, to the flow's destinations."""
        if self._posted is not None:
            return
        call = PostRequestCall(
            card=card(state),
            notifications=list(state.permissions.notifications) if state.permissions else [],
        )
        self._posted = self._spawn(self._post(call))

    def decided(self, state: AccessState) -> None:
        """Show the request's new state (approved, denied, expired, cancelled) in its message."""
        self._update(card(state))

    def escalated(self, state: AccessState) -> None:
        """Show who approved and when access ends; tell the requester; schedule "ends soon"."""
        snapshot = card(state)
        self._update(snapshot)
        self._spawn(self._notify(snapshot, "granted"))
        if state.expires_at is not None and state.escalated_at is not None:
            length = state.expires_at - state.escalated_at
            notice_at = state.expires_at - min(ENDING_NOTICE, length / 2)
            self._ending = self._spawn(self._ending_soon(snapshot, notice_at - workflow.now()))

    def removed(self, state: AccessState) -> None:
        """Show that access was removed and tell the requester; no "ends soon" any more."""
        if self._ending is not None and not self._ending.done():
            self._ending.cancel()
        snapshot = card(state)
        self._update(snapshot)
        self._spawn(self._notify(snapshot, "removed"))

    async def finish(self) -> None:
        """Wait, at most ``FINISH_WAIT``, for deliveries still in flight (call before the run
        returns, shielded from cancellation)."""
        if self._ending is not None and not self._ending.done():
            self._ending.cancel()
        pending = [task for task in self._tasks if not task.done()]
        if not pending:
            return
        try:
            await workflow.wait_condition(
                lambda: all(task.done() for task in pending),
                timeout=FINISH_WAIT,
                timeout_summary="Slack deliveries still in flight",
            )
        except TimeoutError:
            self._record(NOTIFY_EVENT, "slack: some deliveries did not finish before the request")

    # --- deliveries ------------------------------------------------------------------------

    def _spawn(self, work: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = asyncio.ensure_future(work)
        self._tasks.append(task)
        return task

    def _update(self, snapshot: RequestCard) -> None:
        if self._posted is None:
            return  # nothing was posted (an automatic approval): nothing to update
        previous = self._last_update
        self._last_update = self._spawn(self._update_after(previous, snapshot))

    async def _update_after(
        self, previous: asyncio.Task[None] | None, snapshot: RequestCard
    ) -> None:
        """Updates go out in order, each after the post (its ``ts``) and the one before."""
        assert self._posted is not None
        messages = await self._posted
        if previous is not None:
            await asyncio.wait([previous])
        if messages:
            call = UpdateRequestCall(card=snapshot, messages=messages)
            await self._deliver(contract.SLACK_UPDATE_REQUEST, call, f"slack: {snapshot.status}")

    async def _post(self, call: PostRequestCall) -> tuple[PostedMessage, ...]:
        outcome = await self._deliver(contract.SLACK_POST_REQUEST, call, "slack: request posted")
        return outcome.messages if outcome else ()

    async def _notify(self, snapshot: RequestCard, notice: RequesterNotice) -> None:
        call = NotifyRequesterCall(card=snapshot, notice=notice)
        await self._deliver(
            contract.SLACK_NOTIFY_REQUESTER, call, f"slack: requester told ({notice})"
        )

    async def _ending_soon(self, snapshot: RequestCard, wait: timedelta) -> None:
        if wait > timedelta(0):
            await workflow.sleep(wait, summary="Tell the requester that access ends soon")
        await self._notify(snapshot, "ending")

    async def _deliver(
        self, activity: ActivityContract[Any, DeliveryOutcome], arg: object, what: str
    ) -> DeliveryOutcome | None:
        """Run one delivery; record its outcome (or its failure) and never raise it."""
        try:
            handle = workflow.start_activity(
                activity.name,
                arg,
                result_type=DeliveryOutcome,
                start_to_close_timeout=DELIVERY_TIMEOUT,
                retry_policy=DELIVERY_RETRY,
                summary=what,
            )
            outcome: DeliveryOutcome = await handle
        except ActivityError as error:
            self._record(NOTIFY_EVENT, f"{what}: failed: {failure_message(error)}")
            return None
        if outcome.messages or outcome.failures:
            self._record(NOTIFY_EVENT, outcome.timeline_message(what))
        return outcome
