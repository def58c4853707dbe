"""The one-slot mailbox between ``AccessRequest``'s decision updates and its main loop.

An ``approve``, ``deny`` or ``cancel`` update posts its body here and waits for the answer; the
main loop takes the decision, runs the hooks that judge it, and answers. Keeping the judging in
the main loop means hooks run in order and one decision at a time, whatever the number of
updates that arrive together: the first one posted wins, the others hear "already decided".
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from jitflow.contracts.access import AccessStatus, Cancellation, Decision, UpdateOutcome
    from jitflow.contracts.events import HookOutcome

Posted = tuple[str, Decision | Cancellation]


class DecisionMailbox:
    """Holds at most one posted decision and the answer its update waits for."""

    def __init__(self) -> None:
        self._posted: Posted | None = None
        self._answer: UpdateOutcome | None = None
        self._closed: UpdateOutcome | None = None

    @property
    def busy(self) -> bool:
        """A decision is posted and not yet answered or dropped."""
        return self._posted is not None

    async def post(self, kind: str, body: Decision | Cancellation) -> UpdateOutcome:
        """Post a decision (from an update handler) and wait for the main loop's answer; once
        the request has ended, every decision hears that at once."""
        if self._closed is not None:
            return self._closed
        self._answer = None
        self._posted = (kind, body)
        await workflow.wait_condition(lambda: self._answer is not None or self._closed is not None)
        answer = self._answer or self._closed
        assert answer is not None
        return answer

    def close(self, status: AccessStatus, message: str) -> None:
        """The request ended: a decision posted in the same moment (say, as the request
        expired) is answered with that, never left waiting while the workflow completes."""
        self._closed = UpdateOutcome(accepted=False, status=status, message=message)

    async def take(self, timeout: timedelta | None, timeout_summary: str) -> Posted | None:
        """Wait for a posted decision (it stays posted until answered); None on timeout."""
        try:
            await workflow.wait_condition(
                lambda: self._posted is not None, timeout=timeout, timeout_summary=timeout_summary
            )
        except TimeoutError:
            return None
        assert self._posted is not None
        return self._posted

    def answer(self, accepted: bool, status: AccessStatus, message: str | None) -> None:
        """Answer the posted decision's update; the decision stays taken."""
        self._answer = UpdateOutcome(accepted=accepted, status=status, message=message)

    def refuse(self, status: AccessStatus, message: str) -> None:
        """Answer the posted decision as not accepted and free the slot for the next one."""
        self._posted = None
        self.answer(False, status, message)


def verdict(kind: str, message: str | None, outcome: HookOutcome) -> tuple[str, str | None]:
    """What a posted ``approve``/``deny`` becomes after its ``on_<kind>`` hook, and the message
    to record: the hook may ignore it, turn it around, or leave it as it was."""
    if outcome.action == "ignore":
        return "ignore", outcome.message or f"{kind} ignored by the on_{kind} hook"
    effective = kind
    if outcome.action in ("approve", "escalate"):
        effective = "approve"
    elif outcome.action == "deny":
        effective = "deny"
    return effective, message if outcome.action is None else (outcome.message or message)


def time_left(
    requested_at: datetime | None, timeout_seconds: int | None, now: datetime
) -> timedelta | None:
    """How long a pending request may still wait for a decision (None: without end)."""
    if timeout_seconds is None or requested_at is None:
        return None
    expiry = requested_at + timedelta(seconds=timeout_seconds)
    return max(expiry - now, timedelta(milliseconds=1))
