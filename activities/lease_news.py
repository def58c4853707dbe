"""Telling requests that their grant ended and the membership is gone.

The removal activity sends each request it was asked to tell a ``lease_news`` update carrying
``LeaseEnded``, signed with the worker's key, right after the removal: the request records its
end without releasing its lease and waiting for the owner's answer (no extra activity, owner
update or owner workflow task per removal). Anyone can schedule the removal with any list of
requests, so the worker signs only what its own ticket records show ended (``vouch``), and the
request's validator refuses news that does not verify or comes before its own end. Sending is
best effort: a request that hears nothing releases its lease itself after a grace
(``workflows.access_request.NEWS_GRACE``), so a failure here is only logged.

A removal run as a local activity (``workflows.role_membership.REMOVE_LOCALLY``) hands its news
to the worker's ``NewsCourier`` instead of waiting for it: the owner's workflow task stays open
while its local activity runs, and waiting there for requests that run behind every owner would
hold back the removals still due.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any

from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    WorkflowUpdateStage,
)
from temporalio.service import RPCError, RPCStatusCode

from jitflow.contracts.membership import LeaseEnded, LeaseHolderRun
from jitflow.contracts.names import LEASE_ENDED_UPDATE

logger = logging.getLogger(__name__)

#: How long the removal waits for a request to accept its news, each time. The membership is
#: already gone, so little is worth waiting for: an update the server admitted stays with the
#: request until its next workflow task (which, when many grants end together, comes after every
#: owner's removal: owners run at a higher priority), and a request that never hears releases
#: its lease itself after its grace. Waiting 3 x 10 s held each removal open, heartbeating,
#: while thousands of requests caught up, and slowed the removals still due.
NEWS_RPC_TIMEOUT = timedelta(seconds=2)
#: Attempts, with the same update id each time (a repeat of an admitted update is that update):
#: a timeout before the server admitted it would otherwise leave the request to its grace.
NEWS_ATTEMPTS = 3
#: The waits of the courier's attempts, which hold nothing: it keeps asking for about a minute.
#: With the removals local, a thousand grants ending together are removed within seconds, and
#: their requests, which run behind every owner, accept their news only as the worker reaches
#: them: 3 x 2 s left 228 of 1000 to their grace in the benchmark.
PATIENT_NEWS_TIMEOUTS = tuple(timedelta(seconds=s) for s in (2, 4, 8, 15, 15, 15))
NEWS_RETRY_PAUSE = 0.5
_TRANSIENT = {
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.RESOURCE_EXHAUSTED,
}

Vouch = Callable[[LeaseEnded], Awaitable[LeaseEnded | None]]
"""Signs the news with the worker's key, or None when the worker's records do not show the
grant ended (``GrantAuthority.vouch``, bound to the membership and the moment)."""


async def tell_lease_ended(
    client: Client,
    runs: tuple[LeaseHolderRun, ...],
    *,
    membership_workflow_id: str,
    vouch: Vouch,
    patient: bool = False,
) -> None:
    """Send each request run its signed news; a closed or unknown run needs none. ``patient``
    (the courier's sending, which holds no activity) waits longer for each to be accepted."""
    waits = PATIENT_NEWS_TIMEOUTS if patient else (NEWS_RPC_TIMEOUT,) * NEWS_ATTEMPTS

    async def tell(run: LeaseHolderRun) -> None:
        try:
            news = await vouch(
                LeaseEnded(
                    membership_workflow_id=membership_workflow_id,
                    holder=run.holder,
                    holder_run_id=run.run_id,
                    membership_removed=True,
                    remaining_leases=0,
                )
            )
        except Exception as error:  # the removal is done: news is never worth failing it
            _not_told(run, f"could not sign the news: {type(error).__name__}")
            return
        if news is None:
            _not_told(run, "its grant has not ended by this worker's records")
            return
        handle = client.get_workflow_handle(run.holder, run_id=run.run_id)
        why = ""
        timed_out = False
        for attempt, wait in enumerate(waits):  # one update id: a repeat is the same update
            if attempt:
                await asyncio.sleep(NEWS_RETRY_PAUSE)
            try:
                await handle.start_update(
                    LEASE_ENDED_UPDATE,
                    news,
                    id=f"lease-ended/{run.run_id}",
                    wait_for_stage=WorkflowUpdateStage.ACCEPTED,
                    rpc_timeout=wait,
                )
                return
            except RPCError as error:
                if error.status == RPCStatusCode.NOT_FOUND:
                    return  # the request has ended: it needs no news
                why = error.status.name if error.status else "RPC error"
                timed_out = False
                if error.status not in _TRANSIENT:
                    break
            except WorkflowUpdateFailedError as error:
                why = f"refused: {error.cause}"
                break
            except WorkflowUpdateRPCTimeoutOrCancelledError as error:
                if isinstance(error.__cause__, asyncio.CancelledError):
                    raise  # the activity is being cancelled (or the worker stops)
                # The request's worker is busy; asking again attaches to the admitted update.
                timed_out, why = True, ""
        if timed_out:
            # Usual when many grants end together: requests run behind every owner's removal.
            logger.info(
                "request %s did not accept its lease news within %d attempts (%.0fs); the server "
                "keeps an admitted update for its next task, else it releases its lease after a "
                "grace",
                run.holder,
                len(waits),
                sum(wait.total_seconds() for wait in waits),
            )
            return
        _not_told(run, why)

    await asyncio.gather(*(tell(run) for run in runs))


def _not_told(run: LeaseHolderRun, why: str) -> None:
    logger.warning(
        "could not tell request %s that its lease ended (%s); it releases the lease itself "
        "after a grace",
        run.holder,
        why,
    )


#: How long a stopping worker lets news still being sent finish (then it is dropped, as is news
#: still waiting its turn: each of its requests releases its lease itself after the grace).
COURIER_CLOSE_WAIT = timedelta(seconds=5)


#: Removals whose news is being sent at once by one worker process (each sends to every request
#: its removal ended); the rest wait their turn. Each news is an update, so a workflow task of
#: its request, on the same server and worker as the owners' removals still due: with 2000 at
#: once, 1000 grants ending together were last removed 34 to 42 s after their end (neither the
#: worker nor the server using a whole core; tasks waiting on the worker's sticky queue); with
#: 10, 22 to 28 s, and the last request recorded its end 15 s after the last removal
#: (``bench/README.md``, session of 2026-11-30, second part). Removal is what is urgent; the news
#: is bookkeeping, and a request that never hears releases its lease itself after its grace.
NEWS_AT_ONCE = 10


#: News waits while this worker is in a burst of removals: ``NEWS_BURST`` news or more handed
#: over within the last ``NEWS_QUIET``. While grants end together, each news would be a workflow
#: task of its request competing, on the same server, with the owners' removals still due. In the
#: benchmark's 1000 grants ending together the server, not the worker, set the pace (its one
#: history shard's writes). A steady stream below that rate (the benchmark's lifecycles at
#: concurrency 50: about 5 a second) is not held: each news waiting 0.5 s for quiet made every
#: lifecycle that much longer (throughput 0.81 of the floor, against 0.92 before).
NEWS_QUIET = timedelta(milliseconds=500)
NEWS_BURST = 10
#: ... but no news waits for the burst to end longer than this after its removal, so a long
#: burst cannot hold it back (a request's own grace, ``NEWS_GRACE``, is minutes).
NEWS_HOLD_LIMIT = timedelta(seconds=20)


class NewsCourier:
    """Sends news in the background of one worker process, after the removal that made it has
    returned and, in a burst of removals, once it is over; ``aclose`` lets what is in flight
    finish, for a while, when the worker stops."""

    def __init__(
        self,
        at_once: int = NEWS_AT_ONCE,
        quiet: timedelta = NEWS_QUIET,
        hold_limit: timedelta = NEWS_HOLD_LIMIT,
        burst: int = NEWS_BURST,
    ) -> None:
        self._sending: set[asyncio.Task[None]] = set()
        self._at_once = at_once
        self._quiet = quiet.total_seconds()
        self._hold_limit = hold_limit.total_seconds()
        # When the last ``burst`` news were handed over (the oldest first).
        self._recent: deque[float] = deque(maxlen=burst)
        # Made in the worker's event loop:
        self._turns: asyncio.Semaphore | None = None
        self._stopping: asyncio.Event | None = None

    def send(self, telling: Coroutine[Any, Any, None]) -> None:
        loop = asyncio.get_running_loop()
        handed = loop.time()
        self._recent.append(handed)
        task = loop.create_task(self._in_turn(telling, handed=handed))
        self._sending.add(task)
        task.add_done_callback(self._sent)

    def _stopping_event(self) -> asyncio.Event:
        if self._stopping is None:
            self._stopping = asyncio.Event()
        return self._stopping

    def _burst_ends(self) -> float:
        """When fewer than ``burst`` news will have been handed over within ``quiet`` (the
        loop's clock), if no more come; 0 when that is already so."""
        if len(self._recent) < (self._recent.maxlen or 0):
            return 0.0
        return self._recent[0] + self._quiet

    async def _when_quiet(self, handed: float) -> None:
        """Return once the worker is not in a burst of removals, ``hold_limit`` after
        ``handed`` at the latest, or when the worker stops (what waits is then sent at once, in
        the time ``aclose`` gives)."""
        loop = asyncio.get_running_loop()
        stopping = self._stopping_event()
        while not stopping.is_set():
            wait = min(self._burst_ends(), handed + self._hold_limit) - loop.time()
            if wait <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), wait)

    async def _in_turn(self, telling: Coroutine[Any, Any, None], handed: float) -> None:
        if self._turns is None:
            self._turns = asyncio.Semaphore(self._at_once)
        try:
            async with self._turns:
                await self._when_quiet(handed)
                await telling
        except WorkflowUpdateRPCTimeoutOrCancelledError as error:
            if isinstance(error.__cause__, asyncio.CancelledError):
                raise asyncio.CancelledError from None  # the worker stopped: counted, not logged
            raise
        finally:
            telling.close()  # a no-op once awaited; never-started news leaves no warning

    @property
    def in_flight(self) -> int:
        return len(self._sending)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            error = task.exception()
            logger.warning("lease news could not be sent: %s", type(error).__name__)

    async def aclose(self, wait: timedelta = COURIER_CLOSE_WAIT) -> None:
        self._stopping_event().set()
        if not self._sending:
            return
        _, late = await asyncio.wait(set(self._sending), timeout=wait.total_seconds())
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        if late:
            logger.info(
                "%d lease news not sent before the worker stopped; their requests release "
                "their leases after the grace",
                len(late),
            )
