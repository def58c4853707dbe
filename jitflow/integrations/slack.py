"""Sym's ``slack`` SDK functions over Slack's Web API, with the workspace's bot token.

The ``sym_integration`` of type ``slack`` names the workspace (``external_id``, ``T…``) and
the bot token (``bot_token_secret``, the token Slack delivery uses). Reducers run on activity
threads, so this is ``slack_sdk``'s blocking ``WebClient`` (``sync_web_client``: 10 s per call,
a 429, a 500, a 503 or a dropped connection tried twice more). Methods used: ``chat.postMessage``,
``conversations.open``, ``conversations.list``, ``conversations.members``, ``users.info``,
``users.lookupByEmail``, ``users.list`` and ``usergroups.users.list``; lists continue through
``response_metadata.next_cursor``. The bot needs the scopes ``chat:write``, ``im:write``,
``mpim:write``, ``users:read``, ``users:read.email``, ``channels:read``, ``groups:read`` and
``usergroups:read``.

Every failure is a ``SlackError`` whose message names the method and Slack's error code, never
the token, so that a hook's ``except SymException`` fallback works as written. A user is matched
to a Slack account by the ``slack`` identity stored for it, else by email; a Slack account is
turned into a jitflow user by its email (``users.info``).

What ``users.info`` says of an account (its email, and whether it is a guest, a bot, deactivated
or from another workspace) is kept process-wide for ``ACCOUNT_TTL_SECONDS``: ``get_approvers``
reads a channel's members at request time and at each grant check, and reading every member
again each time (or the whole directory with ``users.list``) would spend Slack's rate limits on
answers that rarely change. Who is *in* a channel is never kept: joining or leaving a channel
changes who approves the next request at once; only a change of an account itself (deactivated,
made a guest) may take up to the TTL to be seen.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from jitflow.integrations.http import MAX_PAGES
from jitflow.integrations.people import People
from jitflow.scrub import scrub
from jitflow.sdk.exceptions import SlackError
from jitflow.sdk.request_destination import (
    RequestDestination,
    SlackChannelID,
    SlackChannelName,
    SlackUser,
    SlackUserGroup,
)
from jitflow.sdk.user import User

SERVICE_TYPE = "slack"
#: Items asked for per page of a list (Slack advises at most 200).
PAGE_LIMIT = 200
#: How long what ``users.info`` said of an account serves every call of this process.
ACCOUNT_TTL_SECONDS = 600.0
#: The most accounts kept at once; past it, the oldest answers are dropped first.
ACCOUNT_CACHE_LIMIT = 50_000
#: The most ``users.info`` calls one reading of a channel's members makes. Members beyond it
#: that are not known yet are left out this time (so they do not approve: fewer approvers, never
#: more); those looked up are kept, so the following readings know more. One reducer call
#: (30 s by default) then stays well inside its timeout and inside Slack's ``users.info``
#: allowance (Tier 4, about 100 a minute).
MEMBER_LOOKUP_LIMIT = 50
#: The conversations ``conversations.list`` searches when a channel is given by name.
CHANNEL_TYPES = "public_channel,private_channel"

log = logging.getLogger(__name__)

#: Slack's error codes that have a plainer name here; any other is Slack's code in capitals.
_ERROR_NAMES = {
    "channel_not_found": "CHANNEL_NOT_FOUND",
    "user_not_found": "USER_NOT_FOUND",
    "users_not_found": "USER_NOT_FOUND",
    "no_such_subteam": "GROUP_NOT_FOUND",
    "not_authed": "UNAUTHORIZED",
    "invalid_auth": "UNAUTHORIZED",
    "account_inactive": "UNAUTHORIZED",
    "token_revoked": "UNAUTHORIZED",
    "missing_scope": "FORBIDDEN",
    "ratelimited": "RATE_LIMITED",
}


def failure(method: str, error: Exception) -> SlackError:
    """What went wrong with a call of ``method``, as a ``SlackError`` fit to show: Slack's
    error code or HTTP status, or how the connection failed; never the token."""
    if isinstance(error, SlackApiError) and isinstance(error.response, SlackResponse):
        response = error.response
        data = response.data if isinstance(response.data, dict) else {}
        code = str(data.get("error") or "")
        status = response.status_code
        if status == 200 and code:
            name = _ERROR_NAMES.get(code, code.upper())
            detail = f"Slack refused {method}: {code}"
            needed = data.get("needed")
            if code == "missing_scope" and needed:
                detail += f" (the bot needs the scope {needed})"
            return SlackError(name, scrub(detail))
        if status == 429:
            name = "RATE_LIMITED"
        elif status >= 500:
            name = "SERVER_ERROR"
        else:
            name = _ERROR_NAMES.get(code, "API_ERROR")
        shown = f" ({code})" if code else ""
        return SlackError(name, scrub(f"Slack answered {method} with HTTP {status}{shown}"))
    if isinstance(error, SlackApiError):  # a body that is not JSON: slack_sdk keeps no response
        return SlackError(
            "INVALID_RESPONSE", f"Slack answered {method} with a body that is not JSON"
        )
    if isinstance(error, TimeoutError) or (
        isinstance(error, URLError) and isinstance(error.reason, TimeoutError)
    ):
        return SlackError("TIMEOUT", f"Slack did not answer {method} in time")
    if isinstance(error, OSError):  # URLError, a refused or reset connection
        return SlackError(
            "UNREACHABLE", scrub(f"could not reach Slack for {method} ({type(error).__name__})")
        )
    return SlackError(
        "CLIENT_ERROR", scrub(f"{method} could not be made: {type(error).__name__}: {error}")
    )


@dataclass(frozen=True)
class SlackAccount:
    """What jitflow keeps of a Slack account (``users.info``): its email, and the flags that
    decide whether it may stand for a jitflow user, and whether it may approve."""

    email: str | None
    """In lower case; None when Slack shows none (or the bot lacks ``users:read.email``)."""
    deleted: bool = False
    bot: bool = False
    guest: bool = False
    """A multi- or single-channel guest (``is_restricted``, ``is_ultra_restricted``)."""
    stranger: bool = False
    """Someone from another organisation (``is_stranger``)."""
    team_id: str = ""
    teams: tuple[str, ...] = ()
    """An Enterprise Grid account's workspaces (``enterprise_user.teams``)."""

    @classmethod
    def of(cls, account: Mapping[str, Any]) -> SlackAccount:
        """The account from Slack's user object; an empty one (unknown user) has no email."""
        email = (account.get("profile") or {}).get("email")
        enterprise = account.get("enterprise_user") or {}
        return cls(
            email=str(email).strip().lower() if email else None,
            deleted=bool(account.get("deleted")),
            bot=bool(account.get("is_bot")),
            guest=bool(account.get("is_restricted") or account.get("is_ultra_restricted")),
            stranger=bool(account.get("is_stranger")),
            team_id=str(account.get("team_id") or ""),
            teams=tuple(str(t) for t in enterprise.get("teams") or ()),
        )

    def person_email(self) -> str | None:
        """The email of the jitflow user this account can be: none for a bot or a
        deactivated account (what ``slack.users_in_channel`` answers)."""
        return None if self.deleted or self.bot else self.email

    def refusal(self, workspace: str) -> str | None:
        """Why this account may not approve for ``workspace`` (``T…``), or None.

        Being in an approvers channel is only a reason to approve for the workspace's own
        members: a guest is invited to chosen channels by someone who need not be trusted with
        access decisions, and an account from another organisation (a Slack Connect channel)
        answers to that organisation, whose emails may even look like ours.
        """
        if self.email is None:
            return "has no email jitflow can read"
        if self.deleted:
            return "is deactivated"
        if self.bot:
            return "is a bot"
        if self.guest:
            return "is a guest"
        if self.stranger or (self.team_id != workspace and workspace not in self.teams):
            return "belongs to another workspace"
        return None


class AccountCache:
    """Accounts by (Web API URL, workspace, user id), each answer kept ``ttl_seconds``; shared
    by every call of the process (see the module's docstring for why), safe across threads."""

    def __init__(
        self,
        ttl_seconds: float = ACCOUNT_TTL_SECONDS,
        limit: int = ACCOUNT_CACHE_LIMIT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self.limit = limit
        self.clock = clock
        self._lock = threading.Lock()
        self._kept: dict[tuple[str, str, str], tuple[float, SlackAccount]] = {}

    def get(self, key: tuple[str, str, str]) -> SlackAccount | None:
        """The account kept for ``key``, or None when none is, or it is older than the TTL."""
        with self._lock:
            found = self._kept.get(key)
            if found is None:
                return None
            if self.clock() - found[0] >= self.ttl_seconds:
                del self._kept[key]
                return None
            return found[1]

    def put(self, key: tuple[str, str, str], account: SlackAccount) -> None:
        with self._lock:
            self._kept.pop(key, None)  # re-inserted last: the dict stays oldest first
            self._kept[key] = (self.clock(), account)
            while len(self._kept) > self.limit:
                del self._kept[next(iter(self._kept))]

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()


#: The process's accounts, shared by every ``SlackClient`` made without its own cache.
ACCOUNTS = AccountCache()


class SlackClient:
    """One workspace's answers to Sym's ``slack`` functions, for one reducer call.

    Slack ids found during the call (a user's by email, a channel's by name) are kept for the
    rest of it: a hook that checks several people asks Slack once each. Accounts found by user
    id are kept longer, in ``accounts`` (the process's ``ACCOUNTS`` unless another is given).
    """

    def __init__(
        self,
        web: WebClient,
        team_id: str,
        people: People,
        *,
        page_limit: int = PAGE_LIMIT,
        accounts: AccountCache | None = None,
    ) -> None:
        self._web = web
        self._team_id = team_id
        self._people = people
        self._page_limit = page_limit
        self._directory = accounts if accounts is not None else ACCOUNTS
        self._accounts: dict[str, dict[str, Any]] = {}
        self._missing: set[str] = set()
        self._channels: dict[str, str] = {}

    def __repr__(self) -> str:  # never the token
        return f"SlackClient({self._team_id!r}, {self._web.base_url!r})"

    # -- Sym's functions ----------------------------------------------------------------------

    def send_message(self, destination: User | RequestDestination, message: str) -> None:
        """Post ``message`` to a channel (by id or name), or directly to people: a ``User`` or
        ``slack.user`` (a direct message), ``slack.group`` (a group direct message)."""
        if isinstance(destination, SlackChannelID):
            channel = destination.channel_id
        elif isinstance(destination, SlackChannelName):
            channel = _channel_label(destination.channel_name)
        elif isinstance(destination, User | SlackUser | SlackUserGroup):
            channel = self._open(destination)
        else:
            raise SlackError(
                "INVALID_DESTINATION",
                f"slack.send_message cannot send to {destination!r}: give a User, "
                "slack.user(...), slack.group(...) or slack.channel(...)",
            )
        self._call(
            "chat.postMessage",
            lambda: self._web.chat_postMessage(channel=channel, text=message, unfurl_links=False),
        )

    def get_user_info(self, user: User) -> dict[str, Any]:
        """The user's Slack user object, as ``users.info`` returns it; ``USER_NOT_FOUND`` when
        the workspace has no such person."""
        known = self._people.known_id(user, SERVICE_TYPE, self._team_id)
        if known:
            response = self._call("users.info", lambda: self._web.users_info(user=known))
            return dict(response.get("user") or {})
        found = self._lookup(user.email or "")
        if found is None:
            raise SlackError(
                "USER_NOT_FOUND", f"Slack has no user with the email {user.email or user.username}"
            )
        return found

    def list_users(self, active_only: bool = True) -> list[dict[str, Any]]:
        """Every account of the workspace (``users.list``'s user objects, bots included), but
        deactivated ones when ``active_only``."""
        members = self._pages(
            "users.list", "members", lambda cursor: self._web.users_list(**self._page(cursor))
        )
        return [
            dict(m)
            for m in members
            if isinstance(m, dict) and not (active_only and m.get("deleted"))
        ]

    def is_user_in_group(self, user: User, *, group_id: str) -> bool:
        """Whether ``user`` is a member of the user group (``S…``, a ``@handle`` group);
        ``GROUP_NOT_FOUND`` when there is no such group. A user Slack does not know is in no
        group."""
        response = self._call(
            "usergroups.users.list", lambda: self._web.usergroups_users_list(usergroup=group_id)
        )
        members = {str(m) for m in response.get("users") or []}
        user_id = self._user_id(user)
        return user_id is not None and user_id in members

    def users_in_channel(self, channel: SlackChannelID | SlackChannelName) -> list[User]:
        """The channel's members as jitflow users, found by their Slack email; bots, deleted
        accounts and accounts without an email are left out (no jitflow user is them)."""
        accounts = self._members(channel)
        return self._people.users([e for e in (a.person_email() for a in accounts) if e])

    # -- what legacy get_approvers destinations reach ------------------------------------------

    def approver_emails(self, destination: RequestDestination) -> list[str]:
        """The emails of the people a ``get_approvers`` destination reaches: a channel's
        members, a Slack user id's person. Only the workspace's own members count: guests,
        accounts of other organisations, bots and deactivated accounts are left out of a
        channel, and one named by id is ``NOT_AN_APPROVER`` (``USER_NOT_FOUND`` without an
        email). Destinations that name people by email need no Slack and give nothing here."""
        if isinstance(destination, SlackChannelID | SlackChannelName):
            found: list[str] = []
            left_out: Counter[str] = Counter()
            for account in self._members(destination):
                why = account.refusal(self._team_id)
                if why is None and account.email:
                    found.append(account.email)
                elif why is not None:
                    left_out[why] += 1
            if left_out:  # counts only: enough to spot a wrong external_id, no one's email
                log.info(
                    "Slack channel %s: members left out of the approvers: %s",
                    destination,
                    ", ".join(f"{n} {why}" for why, n in sorted(left_out.items())),
                )
            return found
        if isinstance(destination, SlackUser) and destination.user_id:
            account = self._account(destination.user_id)
            if account.email is None:
                raise SlackError(
                    "USER_NOT_FOUND",
                    f"Slack user {destination.user_id} has no email jitflow can read "
                    "(no such account, or the bot lacks users:read.email)",
                )
            why = account.refusal(self._team_id)
            if why is not None:
                raise SlackError(
                    "NOT_AN_APPROVER",
                    f"Slack user {destination.user_id} {why}: only the workspace's own members "
                    "approve",
                )
            return [account.email]
        return []

    # -- lookups ------------------------------------------------------------------------------

    def _user_id(self, user: User) -> str | None:
        """The user's Slack id: stored, else the account with that email; None when none."""
        known = self._people.known_id(user, SERVICE_TYPE, self._team_id)
        if known:
            return known
        found = self._lookup(user.email or "")
        return str(found["id"]) if found and found.get("id") else None

    def _lookup(self, email: str) -> dict[str, Any] | None:
        """The Slack account with ``email`` (``users.lookupByEmail``), or None; the answer is
        kept for the rest of the call."""
        wanted = email.strip().lower()
        if not wanted or wanted in self._missing:
            return None
        if wanted in self._accounts:
            return self._accounts[wanted]
        try:
            response = self._call(
                "users.lookupByEmail", lambda: self._web.users_lookupByEmail(email=wanted)
            )
        except SlackError as error:
            if error.error_code == "Slack:USER_NOT_FOUND":
                self._missing.add(wanted)
                return None
            raise
        self._accounts[wanted] = dict(response.get("user") or {})
        return self._accounts[wanted]

    def _person_id(self, person: User | SlackUser) -> str:
        """The Slack id of someone to message; ``USER_NOT_FOUND`` when there is none."""
        if isinstance(person, User):
            found = self._user_id(person)
            shown = person.email or person.username
        elif person.user_id:
            return person.user_id
        elif person.handle:
            raise SlackError(
                "USER_NOT_FOUND",
                f"@{person.handle}: Slack handles cannot be looked up; use slack.user(email) "
                "or a Slack id",
            )
        else:
            account = self._lookup(person.email or "")
            found = str(account.get("id") or "") or None if account else None
            shown = str(person.email)
        if found is None:
            raise SlackError("USER_NOT_FOUND", f"Slack has no user with the email {shown}")
        return found

    def _open(self, people: User | SlackUser | SlackUserGroup) -> str:
        """The direct (or group direct) conversation of the bot with ``people``."""
        members = people.users if isinstance(people, SlackUserGroup) else [people]
        ids = ",".join(dict.fromkeys(self._person_id(p) for p in members))
        response = self._call("conversations.open", lambda: self._web.conversations_open(users=ids))
        return str((response.get("channel") or {}).get("id") or "")

    def _members(self, channel: SlackChannelID | SlackChannelName) -> list[SlackAccount]:
        """The accounts of the channel's members, read now (membership is never kept); those
        not known yet are looked up one ``users.info`` each, at most ``MEMBER_LOOKUP_LIMIT``."""
        channel_id = self._channel_id(channel)
        members = self._pages(
            "conversations.members",
            "members",
            lambda cursor: self._web.conversations_members(
                channel=channel_id, **self._page(cursor)
            ),
        )
        ids = list(dict.fromkeys(str(m) for m in members))
        known = {i: a for i in ids if (a := self._directory.get(self._key(i))) is not None}
        unknown = [i for i in ids if i not in known]
        for user_id in unknown[:MEMBER_LOOKUP_LIMIT]:
            known[user_id] = self._account(user_id)
        if len(unknown) > MEMBER_LOOKUP_LIMIT:
            log.warning(
                "Slack channel %s: %d members not looked up this time (at most %d per "
                "reading); they are left out until a later reading finds them",
                channel_id,
                len(unknown) - MEMBER_LOOKUP_LIMIT,
                MEMBER_LOOKUP_LIMIT,
            )
        return [known[i] for i in ids if i in known]

    def _account(self, user_id: str) -> SlackAccount:
        """A Slack account by id: kept, else ``users.info`` (then kept); an account Slack does
        not know has no email."""
        key = self._key(user_id)
        found = self._directory.get(key)
        if found is not None:
            return found
        try:
            response = self._call("users.info", lambda: self._web.users_info(user=user_id))
        except SlackError as error:
            if error.error_code != "Slack:USER_NOT_FOUND":
                raise
            response = None
        account = SlackAccount.of((response.get("user") or {}) if response is not None else {})
        self._directory.put(key, account)
        return account

    def _key(self, user_id: str) -> tuple[str, str, str]:
        """Where an account is kept: the Web API's URL too, so that two Slacks (an emulator and
        the real one, in tests) never answer for each other."""
        return (str(self._web.base_url), self._team_id, user_id)

    def _channel_id(self, channel: SlackChannelID | SlackChannelName) -> str:
        """A channel's id; a name is looked up among the channels the bot can see.

        Only a channel whose name is exactly the one given (Slack's names are lower case) and
        that is not archived is taken, whatever ``conversations.list`` was asked to leave out:
        approval rights follow this answer, so a lookalike (``#Approvers``) or a retired
        channel must not stand in for the one the flow names.
        """
        if isinstance(channel, SlackChannelID):
            return channel.channel_id
        wanted = channel.channel_name.strip().removeprefix("#")
        if wanted in self._channels:
            return self._channels[wanted]
        for found in self._pages(
            "conversations.list",
            "channels",
            lambda cursor: self._web.conversations_list(
                types=CHANNEL_TYPES, exclude_archived=True, **self._page(cursor)
            ),
        ):
            if (
                isinstance(found, dict)
                and found.get("name") == wanted
                and not found.get("is_archived")
                and found.get("id")
            ):
                self._channels[wanted] = str(found["id"])
                return self._channels[wanted]
        raise SlackError(
            "CHANNEL_NOT_FOUND",
            f"Slack has no channel #{wanted} that the bot can see (a private channel must "
            "have the bot as a member; an archived one is left out)",
        )

    # -- calls --------------------------------------------------------------------------------

    def _page(self, cursor: str | None) -> dict[str, Any]:
        return {"limit": self._page_limit, **({"cursor": cursor} if cursor else {})}

    def _pages(
        self, method: str, key: str, fetch: Callable[[str | None], SlackResponse]
    ) -> Iterator[Any]:
        """Every item of a cursor-paged list (user objects, or ids for
        ``conversations.members``), up to ``MAX_PAGES`` pages: a bound on what one hook call
        may cost."""
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            response = self._call(method, partial(fetch, cursor))
            yield from response.get(key) or []
            cursor = str((response.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                return

    @staticmethod
    def _call(method: str, call: Callable[[], SlackResponse]) -> SlackResponse:
        """Make one Web API call; any failure is a ``SlackError`` naming ``method``."""
        try:
            return call()
        except Exception as error:  # slack_sdk, urllib and socket errors alike
            raise failure(method, error) from None


def _channel_label(name: str) -> str:
    """``#name`` as ``chat.postMessage`` takes a channel name."""
    text = name.strip()
    return text if text.startswith("#") else f"#{text}"
