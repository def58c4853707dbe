"""Messages between ``AccessRequest`` and the Slack delivery activities.

The workflow says *what* to tell (the request as it stands, whom, which message to update); the
activities say *how it went*. Nothing here holds a credential: the bot token stays inside the
activities, which read it from Secrets Manager. A delivery never fails its caller: its outcome
says what was delivered and, scrubbed, what was not, so the request's timeline can show both.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from jitflow.contracts.base import Contract

#: What the requester is told in a direct message.
RequesterNotice = Literal["granted", "ending", "removed"]

#: ``action_id`` of the request message's buttons; the front door reads these.
APPROVE_ACTION = "jitflow_approve"
DENY_ACTION = "jitflow_deny"


class RequestCard(Contract):
    """A request as its Slack message shows it: built by the workflow from its state."""

    workflow_id: str
    run_id: str
    """The request's first run id: the buttons name it, so a click never decides a later run."""
    flow: str
    """The flow's key in the configuration: which Slack integration delivers."""
    flow_label: str
    requester: str
    target: str
    duration_seconds: int | None = None
    reason: str | None = None
    status: str = "pending"
    approvers: str = ""
    """Who may decide, as text."""
    decided_by: str | None = None
    decision_message: str | None = None
    expires_at: datetime | None = None
    removed_by: str | None = None


class PostedMessage(Contract):
    """Where a request's message went: the channel and the message's ``ts``, to update it."""

    channel: str
    ts: str
    destination: str
    """What the flow named (``#approvals``, ``bob@example.com``), for the timeline."""


class PostRequestCall(Contract):
    """Post a new request, with Approve and Deny buttons, to the flow's destinations."""

    card: RequestCard
    notifications: list[dict[str, Any]] = Field(default_factory=list)
    """What ``get_request_notifications`` or ``get_approvers`` returned, as recorded in
    ``Permissions.notifications``."""


class UpdateRequestCall(Contract):
    """Show the request's new state in the messages that announced it."""

    card: RequestCard
    messages: tuple[PostedMessage, ...]


class NotifyRequesterCall(Contract):
    """Tell the requester, in a direct message, that access was granted, ends soon, or ended."""

    card: RequestCard
    notice: RequesterNotice


class DeliveryOutcome(Contract):
    """What a delivery did: the messages it posted or updated, and why any part failed."""

    delivered: bool
    """True when every destination got the message (or there was none to reach)."""
    messages: tuple[PostedMessage, ...] = ()
    failures: tuple[str, ...] = ()
    """One scrubbed line per destination that failed: never a token, never a URL's path."""
    note: str | None = None
    """Why nothing was attempted (no Slack integration, no destination)."""

    def timeline_message(self, what: str) -> str:
        """One line for the request's timeline: what was delivered where, or why it failed."""
        if self.note and not self.messages and not self.failures:
            return f"{what}: {self.note}"
        parts = []
        if self.messages:
            places = ", ".join(dict.fromkeys(m.destination for m in self.messages))
            parts.append(f"delivered to {places}")
        if self.failures:
            parts.append("failed: " + "; ".join(self.failures))
        return f"{what}: " + ("; ".join(parts) or "nothing to do")
