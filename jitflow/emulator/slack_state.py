"""The emulated Slack workspace: its people, channels, and every message the bot sent.

The Slack emulator (``slack.py``) answers Web API calls from this state and records what it was
asked to post, update or show, so that tests, the demo and ``make run`` can read back exactly what
Slack would have shown (``GET /_emulator/messages``). The state is a plain pydantic model: tests
change it in place between calls, and ``jitflow emulator slack --state FILE`` loads it from JSON.
"""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any, Literal

from pydantic import BaseModel, Field, PrivateAttr

DEFAULT_TEAM_ID = "T0JITFLOW"
DEFAULT_BOT_TOKEN = "xoxb-jitflow-emulator-token"
DEFAULT_SIGNING_SECRET = "jitflow-emulator-signing-secret"
BOT_USER_ID = "U0JITFLOWBOT"
BOT_ID = "B0JITFLOW"


class SlackUser(BaseModel):
    """A person in the workspace; ``email`` is what ``users.info`` and ``lookupByEmail`` show.

    By default a full member of the workspace. The flags are Slack's own, so that tests can
    stage the accounts jitflow must not take for approvers: a multi-channel guest
    (``is_restricted``), a single-channel guest (``is_ultra_restricted``), someone from another
    organisation met through a shared channel (``is_stranger``, or ``team_id`` naming their
    own workspace), a bot.
    """

    id: str
    name: str
    email: str
    real_name: str = ""
    deleted: bool = False
    is_bot: bool = False
    is_restricted: bool = False
    is_ultra_restricted: bool = False
    is_stranger: bool = False
    team_id: str | None = None
    """The account's home workspace; None means the emulated workspace itself."""

    def body(self, team_id: str) -> dict[str, Any]:
        """The user object as the Web API returns it (the fields jitflow reads, and a few more)."""
        real = self.real_name or self.name
        return {
            "id": self.id,
            "team_id": self.team_id or team_id,
            "name": self.name,
            "real_name": real,
            "deleted": self.deleted,
            "is_bot": self.is_bot,
            "is_restricted": self.is_restricted,
            "is_ultra_restricted": self.is_ultra_restricted,
            "is_stranger": self.is_stranger,
            "profile": {"email": self.email, "real_name": real, "display_name": self.name},
        }


class SlackChannel(BaseModel):
    """A channel (``C…``) or a direct message conversation (``D…``) with its members."""

    id: str
    name: str = ""
    members: list[str] = Field(default_factory=list)
    is_im: bool = False
    is_private: bool = False
    """A private channel: ``conversations.list`` shows it only for ``types=private_channel``."""
    is_archived: bool = False


class SlackUsergroup(BaseModel):
    """A user group (``S…``), what ``@handle`` mentions and ``usergroups.users.list`` answers."""

    id: str
    handle: str = ""
    name: str = ""
    users: list[str] = Field(default_factory=list)
    disabled: bool = False


class MessageVersion(BaseModel):
    """One text and set of blocks a message showed: the first post or a ``chat.update``."""

    text: str = ""
    blocks: list[dict[str, Any]] = Field(default_factory=list)
    at: float = Field(default_factory=time.time)


class RecordedMessage(BaseModel):
    """A message the bot posted, with every update in order; ``ephemeral_to`` for an ephemeral
    message (shown to that one user only)."""

    channel: str
    ts: str
    text: str = ""
    blocks: list[dict[str, Any]] = Field(default_factory=list)
    thread_ts: str | None = None
    ephemeral_to: str | None = None
    updates: list[MessageVersion] = Field(default_factory=list)

    def current(self) -> MessageVersion:
        """What the message shows now: its last update, or the first post."""
        return (
            self.updates[-1] if self.updates else MessageVersion(text=self.text, blocks=self.blocks)
        )


class SlackFault(BaseModel):
    """Answer the next ``count`` Web API calls (``method``: one method, or ``*``) wrongly:
    ``error`` with HTTP ``status`` (5xx), ``rate_limit`` with 429 and ``Retry-After``, or
    ``delay``: ``delay_ms`` late, then as usual (a slow Slack, for what must not wait on it)."""

    kind: Literal["error", "rate_limit", "delay"]
    method: str = "*"
    count: int = Field(default=1, ge=1)
    status: int = Field(default=503, ge=500, le=599)
    retry_after: int = Field(default=1, ge=0)
    delay_ms: int = Field(default=0, ge=0, le=60_000)


class SlackState(BaseModel):
    """The workspace, its credentials and the front door that clicks are sent to."""

    team_id: str = DEFAULT_TEAM_ID
    team_domain: str = "jitflow-emulated"
    bot_token: str = DEFAULT_BOT_TOKEN
    signing_secret: str = DEFAULT_SIGNING_SECRET
    front_door_url: str | None = None
    """Where clicks and form submissions are POSTed (the front door's interactions URL)."""
    commands_url: str | None = None
    """Where slash commands are POSTed (the command's Request URL); ``front_door_url`` without."""
    users: list[SlackUser] = Field(default_factory=list)
    channels: list[SlackChannel] = Field(default_factory=list)
    usergroups: list[SlackUsergroup] = Field(default_factory=list)
    messages: list[RecordedMessage] = Field(default_factory=list)
    views: list[dict[str, Any]] = Field(default_factory=list)
    """Modals opened with ``views.open``, as they show now (``views.update`` replaces one's
    content, keeping its ``id``; each version has a new ``hash``)."""
    view_updates: list[dict[str, Any]] = Field(default_factory=list)
    """Every accepted ``views.update``, in order: ``{"view_id", "view"}``."""
    suggestions: dict[str, dict[str, list[dict[str, Any]]]] = Field(default_factory=dict)
    """The options the app answered to each ``block_suggestion``: view id -> block id ->
    options; a submitted ``external_select`` must pick one of them, as in Slack."""
    down: bool = False
    """An outage: every Web API call answers 503."""
    faults: list[SlackFault] = Field(default_factory=list)

    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _counter: itertools.count[int] = PrivateAttr(default_factory=lambda: itertools.count(1))

    # --- lookups ------------------------------------------------------------------------------

    def user(self, user_id: str) -> SlackUser | None:
        return next((u for u in self.users if u.id == user_id), None)

    def user_by_email(self, email: str) -> SlackUser | None:
        wanted = email.strip().lower()
        return next((u for u in self.users if u.email.lower() == wanted and not u.deleted), None)

    def channel(self, reference: str) -> SlackChannel | None:
        """A channel by id, or by name with or without ``#`` (chat.postMessage takes both)."""
        name = reference.removeprefix("#")
        for channel in self.channels:
            if channel.id == reference or (channel.name and channel.name == name):
                return channel
        return None

    def open_conversation(self, user_ids: list[str]) -> SlackChannel:
        """The direct (or group) conversation of the bot with ``user_ids``, created once."""
        members = sorted(set(user_ids))
        with self._lock:
            for channel in self.channels:
                if channel.is_im and sorted(channel.members) == members:
                    return channel
            channel = SlackChannel(id=f"D{len(self.channels) + 1:08d}", members=members, is_im=True)
            self.channels.append(channel)
            return channel

    def message(self, channel: str, ts: str) -> RecordedMessage | None:
        return next(
            (
                m
                for m in self.messages
                if m.channel == channel and m.ts == ts and not m.ephemeral_to
            ),
            None,
        )

    # --- recording ----------------------------------------------------------------------------

    def next_ts(self) -> str:
        """A message timestamp as Slack writes them (seconds, a dot, six digits), always rising."""
        with self._lock:
            return f"{int(time.time())}.{next(self._counter):06d}"

    def record(self, message: RecordedMessage) -> RecordedMessage:
        with self._lock:
            self.messages.append(message)
        return message

    def take_fault(self, method: str) -> SlackFault | None:
        """The scripted fault for this call, if any (its count goes down by one)."""
        with self._lock:
            for fault in self.faults:
                if fault.method in ("*", method):
                    if fault.count <= 1:
                        self.faults.remove(fault)
                    else:
                        fault.count -= 1
                    return fault
        return None

    def conversation_messages(self, channel: str) -> list[RecordedMessage]:
        return [m for m in self.messages if m.channel == channel]
