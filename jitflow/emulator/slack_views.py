"""The Slack emulator's modal methods beyond ``views.open``: ``views.update``.

``views.update`` replaces an open modal's content, as Slack does, and guards against lost
updates the way Slack does: every version of a view has a ``hash``; an update that passes the
hash of a version that is no longer the current one is refused with ``hash_conflict`` (the
modal changed since the app read it), and one without a hash always applies. A view that was
never opened is ``not_found``. Every accepted update is recorded (``SlackState.view_updates``)
so tests and the demo can read what the person saw after each change.

Kept apart from ``slack.py`` (messages and clicks); ``slack.py`` registers these in its method
table.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from typing import Any, Protocol

from starlette.responses import JSONResponse, Response

from jitflow.emulator.slack_state import SlackState

Args = dict[str, Any]


class Workspace(Protocol):
    """What these methods need of the emulator's API object: its state."""

    state: SlackState


def view_hash() -> str:
    """A new version's hash, shaped as Slack's (``1712345678.a1b2c3d4``)."""
    return f"{int(time.time())}.{secrets.token_hex(4)}"


def _modal(value: Any) -> dict[str, Any] | None:
    """A ``view`` argument (JSON text in a form post) as a modal, or None."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if isinstance(value, dict) and value.get("type") == "modal":
        return value
    return None


def views_update(api: Workspace, args: Args) -> Response:
    state = api.state
    view = _modal(args.get("view"))
    if view is None:
        return JSONResponse({"ok": False, "error": "invalid_arguments"})
    view_id = str(args.get("view_id") or "")
    current = next((v for v in state.views if v.get("id") == view_id), None)
    if current is None:
        return JSONResponse({"ok": False, "error": "not_found"})
    given = args.get("hash")
    if given and given != current.get("hash"):
        return JSONResponse({"ok": False, "error": "hash_conflict"})
    updated = {**view, "id": view_id, "hash": view_hash()}
    state.views[state.views.index(current)] = updated
    state.view_updates.append({"view_id": view_id, "view": updated})
    return JSONResponse({"ok": True, "view": updated})


VIEW_METHODS: dict[str, Callable[[Workspace, Args], Response]] = {
    "views.update": views_update,
}
