"""Playing a person in Slack: the interaction payloads Slack sends an app, signed as Slack signs.

When someone clicks a button in a message, Slack POSTs ``payload=<urlencoded JSON>`` (a
``block_actions`` payload) to the app's interactivity URL, with ``X-Slack-Request-Timestamp`` and
``X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:{timestamp}:{body}" with the signing secret>``.
A slash command is a form of its fields, signed the same way, and so are a modal's
interactions: its submission (``view_submission``), the choices Slack asks for while someone
types into an ``external_select`` (``block_suggestion``) and the change of an input that
dispatches actions (``block_actions`` from a view). This builds them all, so tests, the
demo and ``make run`` can show a click reaching ``jitflow slack serve`` without Slack; the
signature is computed here with ``hmac`` directly (not with the front door's verifier) so that
the two sides check each other.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from jitflow.emulator.slack_state import RecordedMessage, SlackState, SlackUser

#: The app's id in the emulated workspace.
APP_ID = "A0JITFLOW"


class ClickError(ValueError):
    """The click cannot be played: no such message, button or user."""


def slack_signature(secret: str, timestamp: str, body: str) -> str:
    """``v0=`` and the hex HMAC-SHA256 of ``v0:{timestamp}:{body}``, Slack's request signature."""
    digest = hmac.new(
        secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256
    ).hexdigest()
    return f"v0={digest}"


def signed_headers(
    secret: str, body: str, *, timestamp: int | None = None, content_type: str | None = None
) -> dict[str, str]:
    """The headers Slack sends with ``body``: its timestamp and signature."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "Content-Type": content_type or "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": slack_signature(secret, stamp, body),
    }


def _buttons(message: RecordedMessage) -> list[tuple[str, dict[str, Any]]]:
    """``(block_id, element)`` of every button the message shows now."""
    found = []
    for block in message.current().blocks:
        if block.get("type") != "actions":
            continue
        for element in block.get("elements", []):
            if element.get("type") == "button":
                found.append((str(block.get("block_id", "")), element))
    return found


def find_button(message: RecordedMessage, action: str) -> tuple[str, dict[str, Any]]:
    """The button whose ``action_id`` is ``action`` or whose label is ``action`` (any case)."""
    wanted = action.strip().lower()
    buttons = _buttons(message)
    for block_id, element in buttons:
        label = str(element.get("text", {}).get("text", "")).lower()
        if str(element.get("action_id", "")).lower() == wanted or label == wanted:
            return block_id, element
    shown = ", ".join(str(e.get("action_id")) for _, e in buttons) or "none"
    raise ClickError(f"message {message.ts} has no button {action!r} (buttons: {shown})")


def block_actions_payload(
    state: SlackState, message: RecordedMessage, action: str, user: SlackUser
) -> dict[str, Any]:
    """The ``block_actions`` payload of ``user`` clicking ``action`` on ``message``."""
    block_id, element = find_button(message, action)
    current = message.current()
    channel = state.channel(message.channel)
    now = f"{time.time():.6f}"
    return {
        "type": "block_actions",
        "team": {"id": state.team_id, "domain": state.team_domain},
        "user": {"id": user.id, "username": user.name, "name": user.name, "team_id": state.team_id},
        "api_app_id": APP_ID,
        "token": "emulated-verification-token",
        "container": {
            "type": "message",
            "message_ts": message.ts,
            "channel_id": message.channel,
            "is_ephemeral": False,
        },
        "trigger_id": f"{int(time.time())}.{secrets.token_hex(6)}",
        "channel": {"id": message.channel, "name": channel.name if channel else ""},
        "message": {
            "type": "message",
            "bot_id": "B0JITFLOW",
            "text": current.text,
            "blocks": current.blocks,
            "ts": message.ts,
        },
        "response_url": "",
        "actions": [
            {
                "action_id": element.get("action_id"),
                "block_id": block_id,
                "text": element.get("text"),
                "value": element.get("value"),
                "style": element.get("style"),
                "type": "button",
                "action_ts": now,
            }
        ],
    }


def interaction_body(payload: dict[str, Any]) -> str:
    """The form body Slack posts: ``payload=`` and the payload's JSON, URL-encoded."""
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))})


def slash_command_body(
    state: SlackState, user: SlackUser, command: str, text: str, channel_id: str
) -> str:
    """The form body of a slash command as Slack posts it."""
    return urlencode(
        {
            "token": "emulated-verification-token",
            "team_id": state.team_id,
            "team_domain": state.team_domain,
            "channel_id": channel_id,
            "user_id": user.id,
            "user_name": user.name,
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "response_url": "",
            "trigger_id": f"{int(time.time())}.{secrets.token_hex(6)}",
        }
    )


def _user_body(state: SlackState, user: SlackUser) -> dict[str, Any]:
    return {"id": user.id, "username": user.name, "name": user.name, "team_id": state.team_id}


def _input_state(
    block: dict[str, Any], value: str, suggested: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """What Slack reports for one input block filled with ``value``. An ``external_select``
    can hold only a choice the app answered to a suggestion (``suggested``) or its initial one."""
    element = block.get("element") or {}
    action_id = str(element.get("action_id", ""))
    kind = str(element.get("type", "plain_text_input"))
    if kind == "static_select":
        options = list(element.get("options", []))
    elif kind == "external_select":
        initial = element.get("initial_option")
        options = [*(suggested or []), *([initial] if initial else [])]
    else:
        return {action_id: {"type": kind, "value": value}}
    for option in options:
        if option.get("value") == value or option.get("text", {}).get("text") == value:
            return {action_id: {"type": kind, "selected_option": option}}
    hint = (
        " (play a suggestion first: the app answers its choices)"
        if kind == "external_select"
        else ""
    )
    raise ClickError(f"input {block.get('block_id')!r} offers no option {value!r}{hint}")


def _inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(b.get("block_id")): b for b in view.get("blocks", []) if b.get("type") == "input"}


def _filled(state: SlackState, view: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """``view.state.values`` for ``values`` (by block id), as Slack reports a filled modal: an
    input not given keeps its initial value or choice, as on screen."""
    known = _inputs(view)
    served = state.suggestions.get(str(view.get("id")), {})
    filled: dict[str, Any] = {}
    for block_id, value in values.items():
        if block_id not in known:
            raise ClickError(f"view {view.get('id')} has no input {block_id!r}")
        filled[block_id] = _input_state(known[block_id], value, served.get(block_id))
    for block_id, block in known.items():
        element = block.get("element") or {}
        kind, action_id = str(element.get("type", "")), str(element.get("action_id", ""))
        if block_id in filled:
            continue
        if element.get("initial_option"):
            filled[block_id] = {
                action_id: {"type": kind, "selected_option": element["initial_option"]}
            }
        elif element.get("initial_value"):
            filled[block_id] = {action_id: {"type": kind, "value": element["initial_value"]}}
    return filled


def view_submission_payload(
    state: SlackState, view: dict[str, Any], user: SlackUser, values: dict[str, str]
) -> dict[str, Any]:
    """The ``view_submission`` payload of ``user`` submitting modal ``view`` filled with
    ``values`` (by block id; a select takes an option's value or its label)."""
    return {
        "type": "view_submission",
        "team": {"id": state.team_id, "domain": state.team_domain},
        "user": _user_body(state, user),
        "api_app_id": APP_ID,
        "token": "emulated-verification-token",
        "trigger_id": f"{int(time.time())}.{secrets.token_hex(6)}",
        "view": {**view, "state": {"values": _filled(state, view, values)}},
    }


def block_suggestion_payload(
    state: SlackState, view: dict[str, Any], user: SlackUser, block_id: str, typed: str
) -> dict[str, Any]:
    """The ``block_suggestion`` payload Slack sends while ``user`` types ``typed`` into the
    ``external_select`` of block ``block_id`` of modal ``view``."""
    block = _inputs(view).get(block_id)
    element = (block or {}).get("element") or {}
    if element.get("type") != "external_select":
        raise ClickError(f"view {view.get('id')} has no external_select in block {block_id!r}")
    return {
        "type": "block_suggestion",
        "user": _user_body(state, user),
        "container": {"type": "view", "view_id": view.get("id")},
        "api_app_id": APP_ID,
        "token": "emulated-verification-token",
        "action_id": element.get("action_id"),
        "block_id": block_id,
        "value": typed,
        "team": {"id": state.team_id, "domain": state.team_domain},
        "view": view,
    }


def view_action_payload(
    state: SlackState,
    view: dict[str, Any],
    user: SlackUser,
    block_id: str,
    value: str,
    values: dict[str, str],
) -> dict[str, Any]:
    """The ``block_actions`` payload of ``user`` changing input ``block_id`` of modal ``view``
    to ``value`` (with the other inputs holding ``values``): Slack sends one only for an input
    block with ``dispatch_action: true``."""
    block = _inputs(view).get(block_id)
    if block is None:
        raise ClickError(f"view {view.get('id')} has no input {block_id!r}")
    if not block.get("dispatch_action"):
        raise ClickError(f"input {block_id!r} does not dispatch actions (no dispatch_action)")
    filled = _filled(state, view, {**values, block_id: value})
    entry = next(iter(filled[block_id].values()))
    element = block.get("element") or {}
    action = {
        "action_id": element.get("action_id"),
        "block_id": block_id,
        "type": entry["type"],
        "action_ts": f"{time.time():.6f}",
        **{k: v for k, v in entry.items() if k in ("selected_option", "value")},
    }
    return {
        "type": "block_actions",
        "team": {"id": state.team_id, "domain": state.team_domain},
        "user": _user_body(state, user),
        "api_app_id": APP_ID,
        "token": "emulated-verification-token",
        "container": {"type": "view", "view_id": view.get("id")},
        "trigger_id": f"{int(time.time())}.{secrets.token_hex(6)}",
        "view": {**view, "state": {"values": filled}},
        "actions": [action],
    }
