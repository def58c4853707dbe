"""The human view of a request that ``jitflow status`` (and the other commands) print.

``status --json`` holds everything, but a person reading a terminal wants the story: why it was
asked, who decided and what they said, what the hooks said, and when each step happened. This
renders that from the ``status`` query's ``AccessState``, one labelled line per fact and then
the timeline, in the order things happened.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from jitflow.config.durations import format_duration
from jitflow.contracts.access import AccessState, TimelineEntry

#: Width of the label column: ``status    pending`` (scripts and tests look for that shape).
_LABEL = 10

#: Prompt fields shown on lines of their own, so not repeated under "fields".
_SHOWN_FIELDS = frozenset({"reason", "duration", "target_id"})

_DECISION_VERBS = {"approve": "approved", "deny": "denied"}


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else "-"


def _value(value: Any) -> str:
    """A field or context value on one line: strings as they are, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _pairs(values: dict[str, Any]) -> str:
    return ", ".join(f"{key}={_value(value)}" for key, value in values.items())


def _line(label: str, text: str) -> str:
    return f"{label.ljust(_LABEL - 1)} {text}"


def _decision(state: AccessState) -> str | None:
    """``approved by bob@example.com: go ahead``: the verb from the timeline's last decision."""
    if not state.approver:
        return None
    verb = "decided"
    for entry in reversed(state.timeline):
        if entry.event in _DECISION_VERBS and entry.actor == state.approver:
            verb = _DECISION_VERBS[entry.event]
            break
    message = f": {state.decision_message}" if state.decision_message else ""
    return f"{verb} by {state.approver}{message}"


def _approvers(state: AccessState) -> str | None:
    """Who may decide a pending request: the flow's named approvers, then permission levels."""
    permissions = state.permissions
    if state.status != "pending" or permissions is None:
        return None
    who = [*permissions.approvers, *(f"any {level}" for level in permissions.levels)]
    if "any admin" not in who:
        who.append("any admin")  # admins may always approve and deny
    return ", ".join(who)


def timeline_lines(entries: list[TimelineEntry]) -> list[str]:
    """The timeline as aligned rows: time, event, who, what they said."""
    rows = [
        (
            entry.at.strftime("%Y-%m-%d %H:%M:%S"),
            entry.event,
            entry.actor or "-",
            entry.message or "",
        )
        for entry in entries
    ]
    if not rows:
        return []
    event_width = max(len(row[1]) for row in rows)
    actor_width = max(len(row[2]) for row in rows)
    return [
        f"  {at}  {event.ljust(event_width)}  {actor.ljust(actor_width)}  {message}".rstrip()
        for at, event, actor, message in rows
    ]


def target_shown(state: AccessState) -> str:
    """The target as ``status`` shows it: its key first, the one identifier that ``request
    --target``, ``jitflow list`` and ``JitTarget`` use, then its label for reading
    (``admin_prod (Admin Role)``). A request that was never resolved (it failed on its input)
    has no key: the target as given, said to be so."""
    resolved = state.resolved
    if resolved is None:
        given = state.input.target or "-"
        return f"{given} (as given; not resolved)" if state.status == "failed" else given
    target = resolved.target
    return f"{target.key} ({target.label})" if target.label else target.key


def describe_state(state: AccessState) -> str:
    """A readable block for a terminal: the request, its decision and its timeline (UTC)."""
    resolved = state.resolved
    lines = [
        _line("request", state.workflow_id),
        _line("status", state.status),
        _line("requester", resolved.requester if resolved else state.input.requester),
        _line("target", target_shown(state)),
    ]
    if resolved:
        lines.append(
            _line(
                "duration",
                f"{format_duration(resolved.duration_seconds)} (flow {resolved.flow_name})",
            )
        )
    fields = dict(resolved.fields) if resolved else dict(state.input.fields)
    reason = fields.get("reason") if resolved else state.input.reason
    if reason:
        lines.append(_line("reason", _value(reason)))
    others = {key: value for key, value in fields.items() if key not in _SHOWN_FIELDS}
    if others:
        lines.append(_line("fields", _pairs(others)))
    context = state.input.context
    if context:
        lines.append(_line("context", _pairs(context)))
    approvers = _approvers(state)
    if approvers:
        lines.append(_line("approvers", approvers))
    decision = _decision(state)
    if decision:
        lines.append(_line("decided", decision))
    if state.escalated_at:
        lines.append(
            _line("granted", f"{_when(state.escalated_at)}, ends {_when(state.expires_at)}")
        )
    if state.preexisting:
        lines.append(_line("note", "standing access: the user already held this role; kept"))
    if state.revoked_by:
        message = f": {state.revoke_message}" if state.revoke_message else ""
        lines.append(_line("revoked", f"by {state.revoked_by}{message}"))
    if state.cancelled_by:
        lines.append(_line("cancelled", f"by {state.cancelled_by}"))
    if state.deescalated_at:
        lines.append(_line("removed", _when(state.deescalated_at)))
    if state.error:
        lines.append(_line("error", state.error))
    for problem in state.hook_errors:
        lines.append(_line("hook error", problem))
    timeline = timeline_lines(state.timeline)
    if timeline:
        lines.append("timeline (UTC)")
        lines += timeline
    return "\n".join(lines)
