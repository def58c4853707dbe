"""What jitflow shows in Slack: the request's message (with its buttons while pending), its
updated forms, and the requester's direct messages; and what a button's value names.

A button's value names the request's workflow id and its *first* run id, so a click on an old
message never decides a later request that reuses the id. Requesters' text (the reason) is shown
as plain text, never as mrkdwn links or mentions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jitflow.contracts.notifications import (
    APPROVE_ACTION,
    DENY_ACTION,
    RequestCard,
    RequesterNotice,
)

#: Slack's limit on a section's text, and on a button's value.
MAX_SECTION_TEXT = 3000
MAX_BUTTON_VALUE = 2000

_STATUS_TEXT = {
    "pending": "Waiting for a decision",
    "approved": "Approved: access is being granted",
    "escalated": "Access granted",
    "denied": "Denied",
    "expired": "Expired: nobody decided in time",
    "cancelled": "Cancelled by the requester",
    "deescalated": "Access removed",
    "failed": "Failed",
}


@dataclass(frozen=True)
class ButtonTarget:
    """What a button decides: one run of one request."""

    workflow_id: str
    run_id: str


def button_value(card: RequestCard) -> str:
    value = json.dumps({"w": card.workflow_id, "r": card.run_id}, separators=(",", ":"))
    if len(value) > MAX_BUTTON_VALUE:
        raise ValueError(f"request id {card.workflow_id[:40]!r}... is too long for a Slack button")
    return value


def parse_button_value(value: str) -> ButtonTarget | None:
    """The request a button names; None when the value is not one of jitflow's."""
    try:
        decoded = json.loads(value)
    except (TypeError, ValueError):
        return None
    if not isinstance(decoded, dict):
        return None
    workflow_id, run_id = decoded.get("w"), decoded.get("r")
    if not isinstance(workflow_id, str) or not isinstance(run_id, str) or not workflow_id:
        return None
    return ButtonTarget(workflow_id, run_id)


def plain(text: str) -> str:
    """Requester-given text made inert in mrkdwn: no links, mentions or formatting tricks."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def duration_text(seconds: int | None) -> str:
    if not seconds:
        return "until revoked"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "?"


def status_line(card: RequestCard) -> str:
    """The request's state in one line: who decided, and when access ends or ended."""
    line = _STATUS_TEXT.get(card.status, card.status)
    if card.decided_by and card.status in ("approved", "escalated", "denied", "deescalated"):
        verb = "denied" if card.status == "denied" else "approved"
        line += f" ({verb} by {plain(card.decided_by)})"
    if card.status == "escalated":
        line += f"; ends {when(card.expires_at)}" if card.expires_at else "; until revoked"
    if card.status == "deescalated" and card.removed_by:
        line += f"; revoked by {plain(card.removed_by)}"
    if card.decision_message:
        line += f"\n> {plain(card.decision_message)}"
    return line


def request_text(card: RequestCard) -> str:
    """The message's fallback text (notifications, screen readers)."""
    return (
        f"{card.requester} requests {card.target} for {duration_text(card.duration_seconds)}: "
        f"{_STATUS_TEXT.get(card.status, card.status)}"
    )


def request_blocks(card: RequestCard) -> list[dict[str, Any]]:
    """The request's message: who wants what for how long and why; buttons while pending."""
    summary = (
        f"*{plain(card.requester)}* requests *{plain(card.target)}* for "
        f"*{duration_text(card.duration_seconds)}* ({plain(card.flow_label)})"
    )
    if card.reason:
        summary += f"\n*Reason:* {plain(card.reason)}"
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": summary[:MAX_SECTION_TEXT]}},
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"Request `{plain(card.workflow_id)}`; may decide: "
                    f"{plain(card.approvers or 'admins')}"[:MAX_SECTION_TEXT],
                }
            ],
        },
        {
            "type": "section",
            "block_id": "jitflow_status",
            "text": {"type": "mrkdwn", "text": status_line(card)[:MAX_SECTION_TEXT]},
        },
    ]
    if card.status == "pending":
        value = button_value(card)
        blocks.append(
            {
                "type": "actions",
                "block_id": "jitflow_decision",
                "elements": [
                    {
                        "type": "button",
                        "action_id": APPROVE_ACTION,
                        "text": {"type": "plain_text", "text": "Approve"},
                        "style": "primary",
                        "value": value,
                    },
                    {
                        "type": "button",
                        "action_id": DENY_ACTION,
                        "text": {"type": "plain_text", "text": "Deny"},
                        "style": "danger",
                        "value": value,
                    },
                ],
            }
        )
    return blocks


def requester_text(card: RequestCard, notice: RequesterNotice) -> str:
    """The requester's direct message for ``notice``."""
    target = plain(card.target)
    if notice == "granted":
        ends = f"until {when(card.expires_at)}" if card.expires_at else "until it is revoked"
        by = f", approved by {plain(card.decided_by)}" if card.decided_by else ""
        return f"You now have *{target}* {ends}{by}. (request `{plain(card.workflow_id)}`)"
    if notice == "ending":
        return (
            f"Your access to *{target}* ends at {when(card.expires_at)}. "
            f"Request it again if you still need it. (request `{plain(card.workflow_id)}`)"
        )
    by = f" (revoked by {plain(card.removed_by)})" if card.removed_by else ""
    return f"Your access to *{target}* was removed{by}. (request `{plain(card.workflow_id)}`)"
