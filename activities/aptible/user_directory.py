"""One listing of an organization's users, shared by every discovery in a short window.

Aptible cannot search users by email, so discovering a requester's user reads the
organization's user list. Done per requester, that grows with the organization times the new
requesters (100 new requesters of an organization with 2 users a page: thousands of calls, each
retried under faults). Here concurrent discoveries wait for the same listing (single flight),
and later ones within ``ttl`` seconds read it again from memory.

A hit in a cached listing is trusted: a user's id never changes, and a user removed since the
listing fails later, at the membership POST, with Aptible's own error. A *miss* is only
believed from a listing that started after the lookup did, because a user invited a moment
ago must not be reported as unknown (that fails the request for good): a miss in an older
listing starts one fresh listing, which concurrent misses share too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from activities.aptible.models import AptibleUser
from jitflow.contracts.base import normalize_email

#: How long a listing serves later discoveries (seconds).
DEFAULT_TTL_SECONDS = 30.0

ListUsers = Callable[[], Awaitable[list[AptibleUser]]]


@dataclass
class _Listing:
    started: float
    task: asyncio.Task[dict[str, AptibleUser]]
    finished: float | None = None


@dataclass
class UserDirectory:
    """Per-key (bot, organization) listings of users by email; safe for concurrent callers on
    one event loop. ``listings`` counts the listings made (for tests and the benchmark)."""

    ttl: float = DEFAULT_TTL_SECONDS
    clock: Callable[[], float] = time.monotonic
    listings: int = 0
    _entries: dict[tuple[str, str], _Listing] = field(default_factory=dict)

    async def find(
        self, key: tuple[str, str], email: str, list_users: ListUsers
    ) -> AptibleUser | None:
        """The user with ``email`` under ``key``, listing with ``list_users`` only when no
        listing in the window can answer."""
        wanted = normalize_email(email)
        asked = self.clock()
        listing = self._current(key, list_users)
        users = await asyncio.shield(listing.task)
        if wanted in users or listing.started >= asked:
            return users.get(wanted)
        fresh = self._entries.get(key)
        if fresh is None or fresh.started < asked:
            fresh = self._start(key, list_users)
        users = await asyncio.shield(fresh.task)
        return users.get(wanted)

    def forget(self, key: tuple[str, str]) -> None:
        """Drop a listing known to be out of date (this worker removed someone from the
        organization)."""
        self._entries.pop(key, None)

    def _current(self, key: tuple[str, str], list_users: ListUsers) -> _Listing:
        entry = self._entries.get(key)
        now = self.clock()
        if entry is not None and (entry.finished is None or now - entry.finished < self.ttl):
            return entry
        return self._start(key, list_users)

    def _start(self, key: tuple[str, str], list_users: ListUsers) -> _Listing:
        self.listings += 1

        async def run() -> dict[str, AptibleUser]:
            try:
                users = await list_users()
            except BaseException:
                # A failed listing serves nobody later: the next discovery tries again.
                if self._entries.get(key) is entry:
                    del self._entries[key]
                raise
            entry.finished = self.clock()
            return {normalize_email(user.email): user for user in users}

        task = asyncio.get_running_loop().create_task(run())
        # Every waiter may have been cancelled (an activity timed out): the error is theirs to
        # see, not the event loop's "exception never retrieved".
        task.add_done_callback(lambda done: done.cancelled() or done.exception())
        entry = _Listing(started=self.clock(), task=task)
        self._entries[key] = entry
        return entry
