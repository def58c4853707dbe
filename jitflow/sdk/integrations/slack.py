"""Slack helpers: destinations build and are recorded; jitflow sends no Slack message yet, and
the calls that need Slack raise ``SlackError("NOT_SUPPORTED")``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from jitflow.sdk._context import not_available
from jitflow.sdk.exceptions import SlackError
from jitflow.sdk.request_destination import (
    RequestDestination,
    RequestDestinationFallback,
    SlackChannelID,
    SlackChannelName,
    SlackUser,
    SlackUserGroup,
)
from jitflow.sdk.user import User

__all__ = [
    "SlackError",
    "channel",
    "fallback",
    "get_user_info",
    "group",
    "is_user_in_group",
    "list_users",
    "mention",
    "send_message",
    "send_thread_message",
    "user",
    "users_in_channel",
]

_SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]+$")
_SLACK_CHANNEL_ID = re.compile(r"^[CDG][A-Z0-9]{5,}$")
_WHY = "jitflow does not send Slack messages or read Slack yet"


def user(identifier: str | User, allow_self: bool = False, timeout: int | None = None) -> SlackUser:
    """A Slack user by id (``U123``), email, ``@handle`` or jitflow ``User``."""
    if isinstance(identifier, User):
        if not identifier.email:
            raise ValueError(f"slack.user({identifier!r}): this user has no email")
        return SlackUser(email=identifier.email, allow_self=allow_self, timeout=timeout)
    if not isinstance(identifier, str) or not identifier.strip():
        raise ValueError(f"slack.user({identifier!r}): give a Slack id, email or @handle")
    text = identifier.strip()
    if text.startswith("@"):
        return SlackUser(handle=text[1:], allow_self=allow_self, timeout=timeout)
    if "@" in text:
        return SlackUser(email=text, allow_self=allow_self, timeout=timeout)
    if _SLACK_USER_ID.match(text):
        return SlackUser(user_id=text, allow_self=allow_self, timeout=timeout)
    raise ValueError(f"slack.user({identifier!r}): give a Slack id (U…), an email or an @handle")


def mention(identifier: str | User) -> str:
    """Text that mentions ``identifier`` in a Slack message."""
    return user(identifier).mention()


def channel(
    name: str, allow_self: bool = False, timeout: int | None = None
) -> SlackChannelID | SlackChannelName:
    """A Slack channel by ``#name`` or id (``C12345``)."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"slack.channel({name!r}): give a channel #name or id")
    text = name.strip()
    if _SLACK_CHANNEL_ID.match(text):
        return SlackChannelID(channel_id=text, allow_self=allow_self, timeout=timeout)
    return SlackChannelName(channel_name=text, allow_self=allow_self, timeout=timeout)


def group(
    users: Sequence[str | User], allow_self: bool = False, timeout: int | None = None
) -> SlackUserGroup:
    """A Slack group DM of 1 to 7 users."""
    return SlackUserGroup(users=[user(u) for u in users], allow_self=allow_self, timeout=timeout)


def fallback(
    *destinations: RequestDestination,
    continue_on_delivery_failure: bool | None = True,
    continue_on_timeout: bool | None = False,
) -> RequestDestinationFallback:
    """Destinations tried in turn (legacy ``get_approvers`` routing)."""
    return RequestDestinationFallback(
        destinations=list(destinations),
        continue_on_delivery_failure=bool(continue_on_delivery_failure),
        continue_on_timeout=bool(continue_on_timeout),
    )


def send_message(destination: User | RequestDestination, message: str) -> None:
    raise not_available("slack.send_message", _WHY, SlackError)


def send_thread_message(message: str) -> None:
    raise not_available("slack.send_thread_message", _WHY, SlackError)


def get_user_info(user: User) -> dict[str, Any]:
    raise not_available("slack.get_user_info", _WHY, SlackError)


def list_users(active_only: bool = True) -> list[Any]:
    raise not_available("slack.list_users", _WHY, SlackError)


def is_user_in_group(user: User, *, group_id: str) -> bool:
    raise not_available("slack.is_user_in_group", _WHY, SlackError)


def users_in_channel(channel: SlackChannelID | SlackChannelName | str) -> list[User]:
    raise not_available("slack.users_in_channel", _WHY, SlackError)
