"""What the Web UI and ``temporal workflow list`` show of an ``AccessRequest``.

Pure presentation: the ``Jit*`` search attributes (only those that changed are upserted, since
each upsert is a command in history) and the Markdown of the workflow's current details. Both
are derived from the request's state; nothing here decides anything.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeKey, SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from jitflow.contracts.access import AccessState, ResolvedRequest
    from jitflow.contracts.base import normalize_email
    from workflows import search_keys
    from workflows.permissions import describe_approvers

_KEYWORD_KEYS: dict[str, SearchAttributeKey[str]] = {
    "JitStatus": search_keys.JIT_STATUS,
    "JitRequester": search_keys.JIT_REQUESTER,
    "JitFlow": search_keys.JIT_FLOW,
    "JitTarget": search_keys.JIT_TARGET,
    "JitApprover": search_keys.JIT_APPROVER,
}


_MARKDOWN = str.maketrans({c: f"\\{c}" for c in "\\`*_{}[]()<>#+-.!|~"})
#: Longest text from a request shown in one place (a search attribute, a line of details).
MAX_SHOWN = 200


def text(value: object) -> str:
    """A value from a request as plain text in Markdown: one line, bounded, every character
    that Markdown would act on escaped, so that no input becomes a link, an image or a heading."""
    line = " ".join(str(value).split())
    if len(line) > MAX_SHOWN:
        line = line[: MAX_SHOWN - 1] + "…"
    return line.translate(_MARKDOWN)


def bounded(value: str) -> str:
    """A search attribute value: one line, at most ``MAX_SHOWN`` characters."""
    line = " ".join(value.split())
    return line if len(line) <= MAX_SHOWN else line[: MAX_SHOWN - 1] + "…"


def duration_text(seconds: int) -> str:
    """``3600`` -> ``"1h"``: the largest unit that divides the duration."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def target_text(resolved: ResolvedRequest) -> str:
    """The target as a person reads it: its label, else its name."""
    return resolved.target.label or resolved.target.name


def target_id(state: AccessState) -> str:
    """The one identifier of the target, as people type and search it: the target's key
    (``admin_prod``, what ``jitflow request --target`` and ``request --help`` use). Before the
    request is resolved (and when it failed to resolve) that is the target as given."""
    return state.resolved.target.key if state.resolved else state.input.target


def search_attributes(state: AccessState) -> dict[str, object]:
    """The ``Jit*`` values the request should have now."""
    resolved = state.resolved
    wanted: dict[str, object] = {
        "JitStatus": state.status,
        "JitRequester": resolved.requester if resolved else normalize_email(state.input.requester),
        "JitFlow": resolved.flow_name if resolved else state.input.flow,
        "JitTarget": target_id(state),
    }
    if state.approver:
        wanted["JitApprover"] = state.approver
    if state.expires_at:
        wanted["JitExpiresAt"] = state.expires_at
    return wanted


def upsert_cadence(state: AccessState) -> dict[str, object]:
    """The values whose changes decide *when* an upsert is due: those of the first releases,
    in which ``JitTarget`` held the target's ``name`` once resolved.

    Each upsert is a command in history, so a run recorded by an earlier build replays only if
    this code upserts at exactly the same moments. ``JitTarget`` now holds the key, which
    changes at other moments than the name did (not at all, when the key was typed), so the
    moments still follow the name; what an upsert carries is today's values."""
    wanted = search_attributes(state)
    if state.resolved is not None:
        wanted["JitTarget"] = state.resolved.target.name
    return wanted


def details(state: AccessState, duration: int, doing: str) -> str:
    """The Markdown the Web UI shows as the workflow's current details."""
    resolved = state.resolved
    status = f"Status: **{state.status}**" + (f", {text(doing)}" if doing != state.status else "")
    if resolved is None:
        # Not resolved (yet, or never: the input was refused): the input as given.
        given = state.input
        lines = [
            f"**{text(given.requester)}** requests {text(given.target)} for "
            f"{text(given.duration if given.duration is not None else '?')} "
            f"(flow {text(given.flow)})",
            status,
        ]
        if state.error:
            lines.append(f"Error: {text(state.error)}")
        return "\n\n".join(lines)
    lines = [
        # The label is for reading; the key beside it is what `jitflow list`, `JitTarget` and
        # `jitflow request --target` use, so a reader can search for it as shown.
        f"**{text(resolved.requester)}** requests **{text(target_text(resolved))}** "
        f"(target {text(resolved.target.key)}, flow "
        f"{text(resolved.flow_label or resolved.flow_name)}) for {duration_text(duration)}",
        status,
    ]
    if state.permissions is not None and state.status == "pending":
        lines.append(f"Approvers: {text(describe_approvers(state.permissions))}")
    if state.approver:
        lines.append(f"Decided by {text(state.approver)}")
    if state.revoked_by:
        lines.append(f"Revoked by {text(state.revoked_by)}")
    if state.cancelled_by:
        lines.append(f"Cancelled by {text(state.cancelled_by)}")
    if state.deescalated_at:
        lines.append(f"Access removed at {state.deescalated_at.isoformat(timespec='seconds')}")
    elif state.expires_at:
        lines.append(f"Access ends at {state.expires_at.isoformat(timespec='seconds')}")
    if state.error:
        lines.append(f"Error: {text(state.error)}")
    return "\n\n".join(lines)


class RequestView:
    """Keeps the Web UI in line with the state, upserting only attributes that changed."""

    def __init__(self) -> None:
        self._published: dict[str, object] = {}
        self._cadence: dict[str, object] = {}
        #: Upsert only when a value changes (``CURRENT_REQUEST`` runs), not on the first
        #: releases' cadence (``upsert_cadence``), which runs recorded before it replay.
        self.upsert_on_change = False

    def show(self, state: AccessState, duration: int, doing: str) -> None:
        """Set the current details (not a command: free to call as often as needed)."""
        workflow.set_current_details(details(state, duration, doing))

    def publish(self, state: AccessState, duration: int) -> None:
        """Upsert the ``Jit*`` search attributes that changed, then the current details.

        An upsert happens when ``upsert_cadence`` says one is due (see there); it carries every
        value that changed since the last one, and the due ones even when unchanged, so that
        an upsert of an earlier build's history is never empty."""
        cadence = search_attributes(state) if self.upsert_on_change else upsert_cadence(state)
        due = {name for name, value in cadence.items() if self._cadence.get(name) != value}
        if not due:
            self.show(state, duration, state.status)
            return
        changed = {
            name: value
            for name, value in search_attributes(state).items()
            if name in due or self._published.get(name) != value
        }
        updates: list[SearchAttributeUpdate[Any]] = []
        for name, value in changed.items():
            if name == "JitExpiresAt":
                assert isinstance(value, datetime)
                updates.append(search_keys.JIT_EXPIRES_AT.value_set(value))
            else:
                updates.append(_KEYWORD_KEYS[name].value_set(bounded(str(value))))
        workflow.upsert_search_attributes(updates)
        self._published.update(changed)
        self._cadence.update(cadence)
        self.show(state, duration, state.status)
