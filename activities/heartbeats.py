"""Heartbeats for the grant path's activities, so that a worker that dies is noticed in seconds.

Without a heartbeat, an activity whose worker was killed is retried only when its
start-to-close timeout runs out (minutes); with one, as soon as the heartbeat timeout passes.
Removals and grants must not wait minutes for a dead worker.

The first beat comes ``EVERY`` after the start, not at it: the server counts the heartbeat
timeout from the start anyway, so a worker that dies at once is noticed just as soon, and the
beat at the start was one more write on the server for every add and removal, most of which
finish well within ``EVERY`` (``bench/README.md``, "heartbeats"). What it costs: an activity
learns of a cancellation from a heartbeat's answer, and the first answer now comes ``EVERY``
after its start.
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
    """Heartbeat every ``every`` while the block runs, the first ``every`` after it starts
    (nothing outside an activity, nor in a local one: it has no heartbeat timeout, and its
    workflow task is kept alive by the worker while it runs)."""
    if not activity.in_activity() or activity.info().is_local:
        yield
        return

    async def beat() -> None:
        while True:
            await asyncio.sleep(every.total_seconds())
            activity.heartbeat()

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
