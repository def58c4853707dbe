"""The bot's bearer tokens, cached in memory per bot username and shared by concurrent callers.

Aptible has no refresh token: a token is renewed by logging in again, shortly before it expires
or once after a 401. One asyncio lock per username makes concurrent callers share one login.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from activities.aptible.credentials import AptibleCredentials
from activities.aptible.errors import AptibleError

#: Seconds a refused login (wrong password, 2FA, SSO) is answered from memory.
REFUSED_LOGIN_MEMORY = 60.0


@dataclass(frozen=True)
class BotToken:
    """A token of the bot; ``access_token`` never appears in a repr."""

    access_token: str = field(repr=False)
    token_id: str | None
    user_id: str | None
    """The bot's own Aptible user id (the token's ``_links.user``)."""
    expires_at: float
    """``time.monotonic()`` value after which the token is no longer valid."""
    obtained_at: float = field(default_factory=time.monotonic)

    def fresh(self, margin: float) -> bool:
        """Still good for ``margin`` seconds (at most half its lifetime, for short-lived tokens)."""
        lifetime = self.expires_at - self.obtained_at
        return time.monotonic() < self.expires_at - min(margin, lifetime / 2)


_FINGERPRINT_KEY = secrets.token_bytes(32)


def password_fingerprint(credentials: AptibleCredentials) -> str:
    """Tells a rotated password from the cached one without keeping the password (keyed per
    process, so the value is useless outside it)."""
    message = f"{credentials.username}\0{credentials.password}".encode()
    return hmac.new(_FINGERPRINT_KEY, message, hashlib.sha256).hexdigest()


@dataclass
class _Entry:
    token: BotToken
    fingerprint: str


Login = Callable[[AptibleCredentials], Awaitable[BotToken]]


class TokenCache:
    """Cached tokens by bot username; ``renew_margin`` seconds before expiry a token is renewed."""

    def __init__(self, login: Login, *, renew_margin: float) -> None:
        self._login = login
        self._renew_margin = renew_margin
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._refused: dict[tuple[str, str], tuple[float, AptibleError]] = {}
        """Logins Aptible refused for these credentials, and when: not tried again for a while."""
        self.logins = 0
        """How many token requests this cache made (for logs and tests)."""

    def _lock(self, username: str) -> asyncio.Lock:
        return self._locks.setdefault(username, asyncio.Lock())

    def _usable(self, credentials: AptibleCredentials) -> BotToken | None:
        entry = self._entries.get(credentials.username)
        if entry is None or entry.fingerprint != password_fingerprint(credentials):
            return None
        return entry.token if entry.token.fresh(self._renew_margin) else None

    async def get(self, credentials: AptibleCredentials) -> BotToken:
        token = self._usable(credentials)
        if token is not None:
            return token
        async with self._lock(credentials.username):
            token = self._usable(credentials)
            if token is None:
                token = await self._renew(credentials)
            return token

    async def refresh(self, credentials: AptibleCredentials, stale: BotToken) -> BotToken:
        """Replace ``stale`` (refused with a 401), unless another caller already has."""
        async with self._lock(credentials.username):
            entry = self._entries.get(credentials.username)
            if (
                entry is not None
                and entry.token is not stale
                and entry.fingerprint == password_fingerprint(credentials)
            ):
                return entry.token
            return await self._renew(credentials)

    async def _renew(self, credentials: AptibleCredentials) -> BotToken:
        self._entries.pop(credentials.username, None)
        key = (credentials.username, password_fingerprint(credentials))
        refused = self._refused.get(key)
        if refused is not None and time.monotonic() - refused[0] < REFUSED_LOGIN_MEMORY:
            # Aptible locks an account after 10 failed logins a minute: callers queued behind a
            # refused login get the same answer, not another attempt. New credentials try again.
            raise refused[1]
        self.logins += 1
        try:
            token = await self._login(credentials)
        except AptibleError as error:
            if not error.retryable:
                self._refused[key] = (time.monotonic(), error)
            raise
        self._refused.pop(key, None)
        self._entries[credentials.username] = _Entry(token, password_fingerprint(credentials))
        return token

    def forget(self, username: str) -> BotToken | None:
        entry = self._entries.pop(username, None)
        return entry.token if entry else None

    def cached(self) -> list[tuple[str, BotToken]]:
        return [(username, entry.token) for username, entry in self._entries.items()]
