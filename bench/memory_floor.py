"""The memory floor: what bare Temporal's worker holds for N live grants on the same machine.

Issue 16 asks for jitflow's worker peak RSS at 1000 live grants. A live grant is two runs in the
worker's cache (the request and its membership owner), so the floor holds two bare runs per
grant on the floor's worker, which polls, caches and runs workflows as jitflow's does
(``bench/floor.py``): a ``BenchFloor`` run taken through no-op activities and an update in
jitflow's shape to its grant, then waiting on its timer (the request), and a
``BenchFloorRemoval`` run waiting on its timer (the owner). The figure is the floor worker's
peak RSS from before the first start until all are held, the window of jitflow's
``worker_peak_rss_until_held_mb``. Then every run is cancelled and waited for: a run that
completes leaves the worker's cache (a terminated one would stay in it, no task telling the
worker it ended), so the floor's later measurements start from an empty cache.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from typing import Any

from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import CancelledError
from temporalio.service import RPCError

from bench.fixtures import Pair
from bench.floor import FLOOR_REMOVAL_WORKFLOW, FLOOR_TASK_QUEUE, RemovalInput
from bench.measure import FloorDriver, MemorySampler
from bench.removal import Lanes

#: Measured up to this many grants: at 3000 (6000 runs) both workers hold more runs than their
#: caches, and the floor's set-up alone would add minutes to ``make bench``.
MEMORY_FLOOR_MAX_GRANTS = 1000
#: How long the held runs wait: far past the measurement; they are cancelled, never expire.
HOLD_S = 3600.0
#: How long the cancelled runs may take to complete before they count as not released.
RELEASE_WAIT_S = 120.0


async def floor_memory(
    client: Client,
    driver: FloorDriver,
    sampler: MemorySampler,
    pairs: Sequence[Pair],
    run_lanes: Lanes,
    lanes: int,
) -> dict[str, Any]:
    """Hold ``len(pairs)`` floor grants (two runs each) on the floor's worker; its peak RSS."""
    sampler.reset_peak()
    before_kb = sampler.rss_kb() or 0
    held: list[WorkflowHandle[Any, Any]] = []
    errors: list[str] = []
    started = time.time()

    async def one(pair: Pair) -> None:
        try:
            grant = await driver.start(pair, HOLD_S, "memory")
            held.append(grant.handle)
            await driver.wait_ready(grant)
            await driver.approve(grant)
            await driver.granted_at(grant)
            held.append(
                await client.start_workflow(
                    FLOOR_REMOVAL_WORKFLOW,
                    RemovalInput(end_at=time.time() + HOLD_S),
                    id=f"bench-floor/memory-removal/{uuid.uuid4().hex[:12]}",
                    task_queue=FLOOR_TASK_QUEUE,
                    result_type=float,
                )
            )
        except Exception as error:  # reported with the run's problems, like throughput's
            errors.append(repr(error))

    await run_lanes(lanes, pairs, one)
    setup_s = time.time() - started
    await asyncio.sleep(2.0)  # the last runs' tasks settle
    held_kb = sampler.rss_kb() or 0
    peak_kb = sampler.phase_peak_kb()
    released = await _release(held, lanes)
    after_kb = sampler.rss_kb() or 0
    return {
        "grants": len(pairs),
        "runs_held": len(held),
        "setup_s": round(setup_s, 1),
        "errors": len(errors),
        "first_errors": errors[:3],
        "worker_rss_before_mb": round(before_kb / 1024, 1),
        "worker_rss_held_mb": round(held_kb / 1024, 1),
        "worker_peak_rss_mb": round(peak_kb / 1024, 1),
        "worker_peak_rss_source": sampler.peak_source,
        "kb_per_run_held": round((held_kb - before_kb) / len(held)) if held else None,
        "released": released,
        "worker_rss_after_release_mb": round(after_kb / 1024, 1),
    }


async def _release(handles: Sequence[WorkflowHandle[Any, Any]], lanes: int) -> int:
    """Cancel every held run, ``lanes`` at a time, and wait for it to end cancelled; how many
    did within ``RELEASE_WAIT_S``."""
    gate = asyncio.Semaphore(lanes)

    async def one(handle: WorkflowHandle[Any, Any]) -> bool:
        async with gate:
            try:
                await handle.cancel()
                await asyncio.wait_for(handle.result(), RELEASE_WAIT_S)
            except WorkflowFailureError as failure:
                return isinstance(failure.cause, CancelledError)
            except (RPCError, TimeoutError):
                return False
            return False  # it ran to its end instead: it was never held

    return sum(await asyncio.gather(*(one(handle) for handle in handles)))
