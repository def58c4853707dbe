"""The Slack emulator's directory methods: who is in the workspace, its channels and its groups.

``conversations.list``, ``conversations.members``, ``users.list`` and ``usergroups.users.list``,
answered from the ``SlackState`` as Slack documents them, for reducers' ``slack`` SDK calls
(``slack.users_in_channel``, ``list_users``, ``is_user_in_group``) and a ``get_approvers``
channel's members. Lists are paged as Slack pages them: ``limit`` items at most, and an opaque
``response_metadata.next_cursor`` (empty on the last page) that the next call passes back as
``cursor``; a cursor that is not one is ``invalid_cursor``. A private channel is seen only by a
bot that is a member of it (``channel_not_found`` otherwise), as in Slack.

Kept apart from ``slack.py`` (messages, views, clicks) so that each group of methods can change
on its own; ``slack.py`` registers these in its method table.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from starlette.responses import JSONResponse, Response

from jitflow.emulator.slack_state import BOT_USER_ID, SlackChannel, SlackState

Args = dict[str, Any]
T = TypeVar("T")

#: ``conversations.*`` answer this many items when no ``limit`` is given, and at most 1000.
DEFAULT_CONVERSATION_LIMIT = 100
MAX_LIMIT = 1000
_CONVERSATION_TYPES = frozenset({"public_channel", "private_channel", "mpim", "im"})


class Workspace(Protocol):
    """What these methods need of the emulator's API object: its state."""

    state: SlackState


def _ok(**body: Any) -> JSONResponse:
    return JSONResponse({"ok": True, **body})


def _refused(error: str) -> JSONResponse:
    """Slack's refusal: HTTP 200 and ``ok: false`` with the error's code."""
    return JSONResponse({"ok": False, "error": error})


class _Refused(Exception):
    """An argument Slack would refuse; ``code`` is its error code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _flag(args: Args, name: str) -> bool:
    """A boolean argument, as JSON or as form/query text (``true``, ``1``)."""
    value = args.get(name)
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in ("true", "1")


def _limit(args: Args, default: int) -> int:
    raw = args.get("limit")
    if raw in (None, ""):
        return default
    try:
        limit = int(raw)
    except (TypeError, ValueError):
        raise _Refused("invalid_limit") from None
    if limit < 0 or limit > MAX_LIMIT:
        raise _Refused("invalid_limit")
    return limit or default


def encode_cursor(offset: int) -> str:
    """An opaque cursor, shaped like Slack's (base64 text)."""
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _offset(args: Args) -> int:
    cursor = str(args.get("cursor") or "")
    if not cursor:
        return 0
    try:
        text = base64.b64decode(cursor, validate=True).decode()
        kind, _, number = text.partition(":")
        offset = int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _Refused("invalid_cursor") from None
    if kind != "offset" or offset < 0:
        raise _Refused("invalid_cursor")
    return offset


def _page(items: Sequence[T], args: Args, default_limit: int) -> tuple[list[T], dict[str, str]]:
    """One page of ``items`` and its ``response_metadata``."""
    offset = _offset(args)
    limit = _limit(args, default_limit) or len(items) or 1
    shown = list(items[offset : offset + limit])
    following = offset + len(shown)
    return shown, {"next_cursor": encode_cursor(following) if following < len(items) else ""}


def _visible(channel: SlackChannel) -> bool:
    """Whether the bot can see ``channel``: any public one, a private one it is in."""
    return not channel.is_private or BOT_USER_ID in channel.members


def _channel_body(channel: SlackChannel) -> dict[str, Any]:
    """A conversation object, with the fields ``conversations.list`` returns that matter."""
    return {
        "id": channel.id,
        "name": channel.name,
        "is_channel": not channel.is_im and not channel.is_private,
        "is_group": channel.is_private,
        "is_im": channel.is_im,
        "is_mpim": False,
        "is_private": channel.is_private or channel.is_im,
        "is_archived": channel.is_archived,
        "is_member": BOT_USER_ID in channel.members,
        "num_members": len(channel.members),
    }


def _kind(channel: SlackChannel) -> str:
    if channel.is_im:
        return "im"
    return "private_channel" if channel.is_private else "public_channel"


def conversations_list(api: Workspace, args: Args) -> Response:
    """The channels of the given ``types`` (default public ones) the bot can see."""
    types = {t.strip() for t in str(args.get("types") or "public_channel").split(",") if t.strip()}
    if not types <= _CONVERSATION_TYPES:
        return _refused("invalid_types")
    exclude_archived = _flag(args, "exclude_archived")
    found = [
        c
        for c in api.state.channels
        if _kind(c) in types and _visible(c) and not (exclude_archived and c.is_archived)
    ]
    try:
        shown, metadata = _page(found, args, DEFAULT_CONVERSATION_LIMIT)
    except _Refused as refusal:
        return _refused(refusal.code)
    return _ok(channels=[_channel_body(c) for c in shown], response_metadata=metadata)


def conversations_members(api: Workspace, args: Args) -> Response:
    """The ids of a channel's members; ``channel_not_found`` for one the bot cannot see."""
    channel_id = str(args.get("channel") or "")
    channel = next((c for c in api.state.channels if c.id == channel_id), None)
    if channel is None or not _visible(channel):
        return _refused("channel_not_found")
    try:
        shown, metadata = _page(channel.members, args, DEFAULT_CONVERSATION_LIMIT)
    except _Refused as refusal:
        return _refused(refusal.code)
    return _ok(members=shown, response_metadata=metadata)


def users_list(api: Workspace, args: Args) -> Response:
    """Every account, deactivated ones included (``deleted: true``); without a ``limit``,
    all of them at once, as Slack tries to."""
    state = api.state
    try:
        shown, metadata = _page(state.users, args, 0)
    except _Refused as refusal:
        return _refused(refusal.code)
    return _ok(
        members=[u.body(state.team_id) for u in shown],
        cache_ts=0,
        response_metadata=metadata,
    )


def usergroups_users_list(api: Workspace, args: Args) -> Response:
    """The user ids of a user group; ``no_such_subteam`` for an unknown one, or a disabled
    one unless ``include_disabled``."""
    group_id = str(args.get("usergroup") or "")
    group = next((g for g in api.state.usergroups if g.id == group_id), None)
    if group is None or (group.disabled and not _flag(args, "include_disabled")):
        return _refused("no_such_subteam")
    return _ok(users=list(group.users))


#: Web API method -> handler, merged into the emulator's method table.
DIRECTORY_METHODS: dict[str, Callable[[Workspace, Args], Response]] = {
    "conversations.list": conversations_list,
    "conversations.members": conversations_members,
    "users.list": users_list,
    "usergroups.users.list": usergroups_users_list,
}
