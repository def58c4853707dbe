"""The floor: what Temporal itself costs for a lifecycle shaped like jitflow's, on the same server.

``BenchFloor`` is a bare workflow with the same number of activities as one jitflow grant (both
workflows of it) and one update, whose activities do nothing. Its shape follows jitflow's:
activities before the decision, the ``approve`` update answering after one activity, activities
up to the grant (the last of them stamps the moment "access exists"), a timer for the grant's
duration, then the removal's activities. ``BenchFloorRemoval`` is the floor of a removal alone:
a timer and one no-op activity. Both run on their own task queue with their own worker process
(``python -m bench.floor``), as jitflow's worker is a process of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from pydantic import BaseModel
from temporalio import activity, workflow

FLOOR_WORKFLOW = "BenchFloor"
FLOOR_TASK_QUEUE = "jitflow-bench-floor"


class FloorShape(BaseModel):
    """How many activities run in each stage (jitflow's counts by default: 13 in all)."""

    before_update: int = 5
    """resolve, identity, on_request, after_request, get_permissions"""
    in_update: int = 1
    """on_approve: the update answers after it"""
    to_grant: int = 3
    """after_approve, acquire_lease, add_aptible_membership (the grant)"""
    after_grant: int = 1
    """after_escalate"""
    after_timer: int = 3
    """release_lease, remove_aptible_membership, after_deescalate"""

    @property
    def total(self) -> int:
        return (
            self.before_update
            + self.in_update
            + self.to_grant
            + self.after_grant
            + self.after_timer
        )

    @classmethod
    def with_total(cls, total: int) -> FloorShape:
        """jitflow's shape with the tail adjusted so that ``total`` activities run."""
        shape = cls()
        return shape.model_copy(
            update={"after_timer": max(1, shape.after_timer + total - shape.total)}
        )


class FloorInput(BaseModel):
    shape: FloorShape
    duration_seconds: float


@activity.defn(name="bench_floor_noop")
async def noop(step: str) -> None:
    """Does nothing."""


@activity.defn(name="bench_floor_grant")
async def grant(step: str) -> float:
    """Does nothing but return when it ran (wall clock): the floor's "access exists" moment."""
    return time.time()


_TIMEOUT = timedelta(seconds=30)


async def _step(function: Callable[[str], Awaitable[None]], step: str) -> None:
    await workflow.execute_activity(function, step, start_to_close_timeout=_TIMEOUT)


class FloorStatus(BaseModel):
    ready: bool
    granted_at: float | None


@workflow.defn(name=FLOOR_WORKFLOW)
class FloorWorkflow:
    def __init__(self) -> None:
        self._ready = False
        self._approved = False
        self._answered = False
        self._granted_at: float | None = None

    @workflow.run
    async def run(self, request: FloorInput) -> int:
        shape = request.shape
        for index in range(shape.before_update):
            await _step(noop, f"before-{index}")
        self._ready = True
        await workflow.wait_condition(lambda: self._approved)
        for index in range(shape.in_update):
            await _step(noop, f"decide-{index}")
        self._answered = True
        for index in range(shape.to_grant - 1):
            await _step(noop, f"to-grant-{index}")
        self._granted_at = await workflow.execute_activity(
            grant, "grant", start_to_close_timeout=_TIMEOUT
        )
        for index in range(shape.after_grant):
            await _step(noop, f"after-grant-{index}")
        await workflow.sleep(request.duration_seconds)
        for index in range(shape.after_timer):
            await _step(noop, f"after-timer-{index}")
        return shape.total

    @workflow.update
    async def approve(self, approver: str) -> str:
        self._approved = True
        await workflow.wait_condition(lambda: self._answered)
        return f"approved by {approver}"

    @approve.validator
    def _validate_approve(self, approver: str) -> None:
        if not self._ready:
            raise ValueError("not ready for a decision yet")
        if self._approved:
            raise ValueError("already decided")

    @workflow.query
    def status(self) -> FloorStatus:
        return FloorStatus(ready=self._ready, granted_at=self._granted_at)


FLOOR_REMOVAL_WORKFLOW = "BenchFloorRemoval"


class RemovalInput(BaseModel):
    end_at: float
    """Wall-clock moment (epoch seconds) at which the removal is due."""


@workflow.defn(name=FLOOR_REMOVAL_WORKFLOW)
class FloorRemovalWorkflow:
    """The least Temporal does for one removal: a timer to the end, then one no-op activity
    (where jitflow would call Aptible). Many of them started with one ``end_at`` are what "N
    grants ending together" costs bare Temporal on this server; the result is the moment the
    activity ran, which the benchmark compares with ``end_at``."""

    @workflow.run
    async def run(self, request: RemovalInput) -> float:
        wait = request.end_at - workflow.now().timestamp()
        if wait > 0:
            await workflow.sleep(wait)
        ran: float = await workflow.execute_activity(
            grant, "remove", start_to_close_timeout=_TIMEOUT
        )
        return ran


async def serve(address: str, ready_file: Path) -> None:
    """Run the floor's worker (its own process, as jitflow's worker is) until SIGTERM."""
    from temporalio.worker import Worker

    from jitflow.temporal import connect
    from jitflow.worker_tuning import (
        ACTIVITY_SLOTS,
        task_pollers,
        tune_allocator,
        workflow_cache_size,
        workflow_runner,
        workflow_task_pollers,
    )

    tune_allocator()  # as worker.py does, before the runs' memory is allocated

    client = await connect(address, "default")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    async with Worker(
        client,
        task_queue=FLOOR_TASK_QUEUE,
        workflows=[FloorWorkflow, FloorRemovalWorkflow],
        activities=[noop, grant],
        # Polled, cached and run as jitflow's worker is (jitflow.worker_tuning, the same
        # environment variables), so the floor is bare Temporal tuned the same way, not a
        # handicapped one: until 2026-11-30 it kept temporalio's defaults for all but the
        # activity polls (a sandbox that re-imported this module for every run, a cache of 1000
        # runs, 100 activity slots) and polled workflow tasks with at least 5 polls, not 25.
        workflow_task_poller_behavior=workflow_task_pollers(),
        activity_task_poller_behavior=task_pollers(),
        max_concurrent_activities=ACTIVITY_SLOTS,
        max_cached_workflows=workflow_cache_size(),
        workflow_runner=workflow_runner(),
    ):
        ready_file.write_text("ready\n")
        await stop.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="The benchmark floor's worker.")
    parser.add_argument("--address", required=True)
    parser.add_argument("--ready-file", type=Path, required=True)
    arguments = parser.parse_args()
    asyncio.run(serve(arguments.address, arguments.ready_file))
