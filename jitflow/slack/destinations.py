"""Where a request's message goes, from what the flow's reducers returned (as recorded).

``Permissions.notifications`` holds what ``get_request_notifications`` returned (one record per
``Notification``) and what a legacy ``get_approvers`` returned (one record, ``fallback`` when it
was ``slack.fallback(...)``). This turns them into *steps*: every destination of a step is
tried; when all of a step's destinations fail, the next step is tried (Sym's backup chain on
delivery failure; forwarding on a notification's ``timeout`` is not done). A flow that names
nothing goes to the integration's ``request_channel``, if it has one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Destination:
    """One place to post: a channel, or a conversation with people (by Slack id or email)."""

    label: str
    """What the flow named, for the timeline (``#approvals``, ``bob@example.com``)."""
    channel: str | None = None
    user_ids: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    problem: str | None = None
    """Why this destination cannot be reached at all (a ``@handle``, an unknown kind)."""


Step = list[Destination]


def _person(record: dict[str, Any]) -> Destination:
    user_id, email, handle = record.get("user_id"), record.get("email"), record.get("handle")
    if user_id:
        return Destination(label=str(user_id), user_ids=(str(user_id),))
    if email:
        return Destination(label=str(email), emails=(str(email),))
    return Destination(
        label=f"@{handle}",
        problem=f"@{handle}: Slack handles cannot be looked up; use slack.user(email) or an id",
    )


def destination(record: dict[str, Any]) -> Destination:
    """One recorded destination (``{"kind": "SlackChannelName", ...}``) as a place to post."""
    kind = record.get("kind")
    if kind == "SlackChannelName":
        name = str(record.get("channel_name", ""))
        label = name if name.startswith("#") else f"#{name}"
        return Destination(label=label, channel=label)
    if kind == "SlackChannelID":
        channel = str(record.get("channel_id", ""))
        return Destination(label=channel, channel=channel)
    if kind in ("SlackUser", "User"):
        return _person(record)
    if kind == "SlackUserGroup":
        people = [_person(u) for u in record.get("users", []) if isinstance(u, dict)]
        broken = [p.problem for p in people if p.problem]
        return Destination(
            label="group " + ", ".join(p.label for p in people),
            user_ids=tuple(i for p in people for i in p.user_ids),
            emails=tuple(e for p in people for e in p.emails),
            problem="; ".join(broken) or None,
        )
    return Destination(label=str(kind), problem=f"{kind} is not a Slack destination")


def steps(notifications: list[dict[str, Any]], default_channel: str | None) -> list[Step]:
    """The delivery steps for a request, in order; empty when there is nowhere to post."""
    requested = [n for n in notifications if n.get("source") == "get_request_notifications"]
    legacy = [n for n in notifications if n.get("source") == "get_approvers"]
    found: list[Step] = []
    if requested:
        for notification in requested:
            step = [destination(d) for d in notification.get("destinations", [])]
            if step:
                found.append(step)
    elif legacy:
        record = legacy[0]
        places = [destination(d) for d in record.get("destinations", [])]
        # A legacy get_approvers may list people only to make them approvers; they are also told.
        found = [[place] for place in places] if record.get("fallback") else [places]
    if not found and default_channel:
        found = [[Destination(label=default_channel, channel=default_channel)]]
    return [step for step in found if step]
