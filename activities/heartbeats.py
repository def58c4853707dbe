"""Heartbeats for the grant path's activities, so that a worker that dies is noticed in seconds.

Without a heartbeat, an activity whose worker was killed is retried only when its
start-to-close timeout runs out (minutes); with one, as soon as the heartbeat timeout passes.
Removals and grants must not wait minutes for a dead worker.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

from temporalio import activity

#: How often a running activity says it is alive (its heartbeat timeout is a few times this).
EVERY = timedelta(seconds=2)


@contextlib.asynccontextmanager
async def heartbeating(every: timedelta = EVERY) -> AsyncIterator[None]:
    """Heartbeat every ``every`` while the block runs (nothing outside an activity)."""
    if not activity.in_activity():
        yield
        return

    async def beat() -> None:
        while True:
            activity.heartbeat()
            await asyncio.sleep(every.total_seconds())

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
