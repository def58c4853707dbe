"""Sym's Slack helpers: destinations, and calls answered by Slack's Web API.

``user``, ``channel``, ``group``, ``fallback`` and ``mention`` build destinations and call
nothing: ``get_request_notifications`` and ``get_approvers`` return them, and jitflow's Slack
delivery posts the request there. The other functions call Slack with the flow's ``slack``
integration (``sym_integration`` of type ``slack``, named ``slack_id`` in the
``sym_environment`` when there are several) and its bot token (``bot_token_secret``, the token
delivery uses, read from Secrets Manager only when a function needs it). Anything that goes
wrong, a missing integration or Slack being unreachable included, raises ``SlackError``, so
that ``except SymException`` fallbacks work as in Sym.

``send_thread_message`` is the exception: Sym replies in the thread of the request's Slack
message, and a jitflow hook is not told which message that is (the workflow posts it after the
request's hooks and permissions have run, and the event carries no message), so it raises
``SlackError("NOT_SUPPORTED")`` saying so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from jitflow.sdk._context import current_hub, not_available
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

if TYPE_CHECKING:
    from jitflow.integrations.slack import SlackClient

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
_NO_THREAD = (
    "jitflow does not tell hooks which Slack message announced the request, so there is no "
    "thread to reply in; use slack.send_message(slack.channel(...), ...)"
)


def _client(function: str) -> SlackClient:
    """The flow's Slack client for SDK function ``function``, or ``SlackError`` saying why not."""
    return current_hub(function, SlackError).slack()


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
    """Post ``message`` to ``destination``: a channel (``slack.channel("#ops")``, by name or
    id), or people in a direct message (a ``User``, ``slack.user(...)``, ``slack.group(...)``),
    found in Slack by their stored Slack identity, else by email."""
    _client("slack.send_message").send_message(destination, message)


def send_thread_message(message: str) -> None:
    """Sym replies in the thread of the request's message; jitflow cannot (see the module's
    docstring) and raises ``SlackError("NOT_SUPPORTED")`` with the reason."""
    raise not_available("slack.send_thread_message", _NO_THREAD, SlackError)


def get_user_info(user: User) -> dict[str, Any]:
    """The user's Slack user object, as Slack's ``users.info`` returns it (``id``, ``name``,
    ``profile``...); ``SlackError("USER_NOT_FOUND")`` when the workspace has no such person."""
    return _client("slack.get_user_info").get_user_info(user)


def list_users(active_only: bool = True) -> list[Any]:
    """Every account of the workspace as Slack's user objects (``users.list``), bots included;
    deactivated accounts are left out when ``active_only``."""
    return list(_client("slack.list_users").list_users(active_only=active_only))


def is_user_in_group(user: User, *, group_id: str) -> bool:
    """Whether ``user`` is a member of the Slack user group ``group_id`` (``S…``); a user Slack
    does not know is in no group, an unknown group is ``SlackError("GROUP_NOT_FOUND")``."""
    return _client("slack.is_user_in_group").is_user_in_group(user, group_id=group_id)


def users_in_channel(channel: SlackChannelID | SlackChannelName | str) -> list[User]:
    """The members of ``channel`` (``slack.channel(...)``, a ``#name`` or an id) as jitflow
    users, known by their Slack email; bots and deactivated accounts are left out."""
    client = _client("slack.users_in_channel")
    return client.users_in_channel(_as_channel(channel, "slack.users_in_channel"))


def _as_channel(
    reference: SlackChannelID | SlackChannelName | str, function: str
) -> SlackChannelID | SlackChannelName:
    """A channel destination from what Sym's functions accept for one (a ``#name`` or an id
    as text, too); ``SlackError`` for anything else, so a fallback still catches it."""
    if isinstance(reference, SlackChannelID | SlackChannelName):
        return reference
    if isinstance(reference, str):
        try:
            return channel(reference)
        except ValueError as error:
            raise SlackError("INVALID_ARGUMENT", f"{function}: {error}") from None
    raise SlackError(
        "INVALID_ARGUMENT", f"{function}({reference!r}): give slack.channel(...), a #name or an id"
    )
