"""``make bench`` / ``make bench-quick`` / ``make bench-smoke``: measure jitflow against the floor.

Writes the run's configuration from ``examples/aptible`` and starts its own Temporal dev server,
Aptible emulator, moto, jitflow worker and floor worker on free loopback ports, all in a temporary
folder; runs the phases below, writes the JSON (``bench/results.json`` by default) and prints a
short table. ``bench/README.md`` explains each figure and its target.

1. approve -> escalated latency (jitflow), then the same for the floor;
2. lifecycle throughput at concurrency 50, jitflow and the floor in turn, over
   ``--throughput-rounds`` rounds (3 by default) whose medians are compared;
3. revocation lag for each ``--grants`` size (100, 1000 and 3000 by default), with the Aptible calls
   per grant and the worker's peak RSS;
4. the floor of as many removals ending together (``bench/removal.py``), after each of those,
   and up to 1000 grants the memory floor: the floor's worker holding as many grants' runs
   (``bench/memory_floor.py``);
5. ``jitflow revoke --all`` of ``--mass-grants`` grants against that floor (``mass_revocation``);
6. (``--smoke``, or ``--phases decisions``) one request denied and one approved then revoked.

``--smoke`` runs every phase with a few grants, for CI: it exits 1 when the run had errors
(``report.run_problems``) and never judges speed.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import importlib.metadata
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from temporalio.client import Client

from bench.fixtures import BenchFixtures, Pair
from bench.floor import FloorShape
from bench.measure import (
    BenchError,
    Emulator,
    FloorDriver,
    Grant,
    JitflowDriver,
    MemorySampler,
    bounded_results,
    counter_delta,
    summary_ms,
)
from bench.memory_floor import MEMORY_FLOOR_MAX_GRANTS, floor_memory
from bench.removal import OWNERS_CLOSE_WAIT_S, floor_removal, mass_revocation, owners_closed
from bench.report import evaluate_targets, render_table, run_problems
from bench.stack import REPO, RunningStack, bench_stack
from jitflow.devstack.binaries import temporal_cli
from jitflow.temporal import connect
from jitflow.worker_tuning import OWNER_LINGER_ENV
from workflows.access_request import NEWS_GRACE

ESCALATION_ROUTES = ("GET /roles/{role}/memberships", "POST /roles/{role}/memberships")
TOKEN_ROUTE = "POST /tokens"
DELETE_ROUTE = "DELETE /memberships/{membership}"
PHASES = ("latency", "throughput", "revocation", "mass_revocation")
"""What ``make bench`` and ``make bench-quick`` measure."""
ALL_PHASES = (*PHASES, "decisions")
SMOKE_DEADLINE_S = 600.0
"""A smoke run still measuring after this long is stuck: it is stopped and fails. (Not a speed
judgment: a smoke run takes well under a minute.)"""
#: ``--grace`` is for up to this many grants ending together, and grows in proportion above it.
GRACE_SCALE_GRANTS = 1000


@dataclass(frozen=True)
class ModeDefaults:
    latency_requests: int
    latency_duration: int
    throughput_concurrency: int
    throughput_duration: int
    throughput_run: float
    grants: str
    setup_concurrency: int
    grace: float
    phases: tuple[str, ...]
    output: str
    """File name under ``bench/`` (each is git-ignored, except the committed quick results)."""
    deadline: float | None = None
    mass_grants: int = 5
    """Grants revoked at once by the ``mass_revocation`` phase."""
    throughput_rounds: int = 1
    """Rounds of the throughput phase, each measuring jitflow and the floor in turn."""


MODES: dict[str, ModeDefaults] = {
    "full": ModeDefaults(
        200,
        5,
        50,
        2,
        30.0,
        "100,1000,3000",
        50,
        60.0,
        PHASES,
        "results.json",
        mass_grants=1000,
        throughput_rounds=3,
    ),
    "quick": ModeDefaults(
        30, 5, 50, 2, 10.0, "50", 50, 15.0, PHASES, "results-quick.json", mass_grants=50
    ),
    # A few grants through every phase: does the benchmark still run, end to end?
    "smoke": ModeDefaults(
        3, 2, 3, 1, 2.0, "5", 5, 30.0, ALL_PHASES, "results-smoke.json", SMOKE_DEADLINE_S
    ),
}


@dataclass(frozen=True)
class Options:
    mode: str
    latency_requests: int
    latency_lanes: int
    latency_duration: int
    throughput_concurrency: int
    throughput_duration: int
    throughput_run: float
    grants: tuple[int, ...]
    setup_concurrency: int
    grace: float
    output: Path
    phases: tuple[str, ...] = PHASES
    deadline: float | None = None
    """Seconds after which the measuring is stopped as stuck (smoke runs only)."""
    mass_grants: int = 5
    throughput_rounds: int = 1


def echo(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass
class Context:
    options: Options
    fixtures: BenchFixtures
    stack: RunningStack
    client: Client
    emulator: Emulator
    jitflow: JitflowDriver
    worker_memory: MemorySampler
    floor_worker_memory: MemorySampler
    floor_shape: FloorShape = field(default_factory=FloorShape)
    setup_rate: float = 5.0
    """Grants set up per second at ``setup_concurrency`` (measured, for aligning expiries)."""
    setup_latency: float = 1.0


# --- helpers ------------------------------------------------------------------------------------


async def run_lanes(
    lanes: int, items: Sequence[Pair], work: Callable[[Pair], Awaitable[None]]
) -> None:
    queue = list(reversed(items))

    async def lane() -> None:
        while queue:
            await work(queue.pop())

    await asyncio.gather(*(lane() for _ in range(min(lanes, len(items)))))


async def drain(
    results: Sequence[Callable[[], Awaitable[Any]]], timeout: float
) -> tuple[list[int], int]:
    """Wait for the runs to end: the indices of those still open after ``timeout`` seconds, and
    how many failed (the first few are printed)."""
    values, pending = await bounded_results(results, timeout)
    failures = [value for value in values if isinstance(value, BaseException)]
    for failure in failures[:3]:
        echo(f"    a run failed: {failure!r}")
    return pending, len(failures)


async def count_activities(ctx: Context, grant: Grant) -> dict[str, Any]:
    """Activities, updates and workflow tasks one jitflow grant cost (both workflows, once its
    owner has closed), and of those, what its removal cost: from the lease-end timer firing to
    the end of the workflow task that removed (``removal``); and what the owner's close cost,
    which comes after it lingered (``close``)."""
    moves = ("activities", "local_activities", "updates", "workflow_tasks", "events")
    counts: dict[str, Any] = dict.fromkeys(moves, 0)
    removal = dict.fromkeys(moves, 0)
    close = dict.fromkeys(moves, 0)
    state = await ctx.jitflow.status(grant)
    handles = [grant.handle]
    if state.membership_workflow_id:
        owner = ctx.client.get_workflow_handle(state.membership_workflow_id)
        await bounded_results([owner.result], OWNERS_CLOSE_WAIT_S)
        handles.append(owner)
    for handle in handles:
        events = list((await handle.fetch_history()).events)
        for event in events:
            counts["events"] += 1
            kind = _event_kind(event)
            if kind:
                counts[kind] += 1
        removing, closing = _removal_and_close(events)
        for part, total in ((removing, removal), (closing, close)):
            for event in part:
                total["events"] += 1
                kind = _event_kind(event)
                if kind:
                    total[kind] += 1
    counts["removal"] = removal
    counts["close"] = close
    return counts


def _removal_and_close(events: list[Any]) -> tuple[list[Any], list[Any]]:
    """A history's removal (from the timer that fired before its last local activity, or its
    last timer, to the next timer firing or workflow task) and what came after it (the owner's
    close)."""
    fired = [i for i, e in enumerate(events) if e.HasField("timer_fired_event_attributes")]
    if not fired:
        return [], []
    local = [i for i, e in enumerate(events) if _event_kind(e) == "local_activities"]
    start = max((i for i in fired if local and i < local[-1]), default=fired[-1])
    end = next(
        (
            i
            for i in range(start + 2, len(events))
            if events[i].HasField("workflow_task_scheduled_event_attributes")
            or events[i].HasField("timer_fired_event_attributes")
        ),
        len(events),
    )
    return events[start:end], events[end:]


def _event_kind(event: Any) -> str | None:
    """Which of the counted moves ``event`` records, if any."""
    if event.HasField("activity_task_scheduled_event_attributes"):
        return "activities"
    if event.HasField("marker_recorded_event_attributes"):
        return (
            "local_activities"
            if event.marker_recorded_event_attributes.marker_name == ("core_local_activity")
            else None
        )
    if event.HasField("workflow_execution_update_accepted_event_attributes"):
        return "updates"
    if event.HasField("workflow_task_completed_event_attributes"):
        return "workflow_tasks"
    return None


async def history_breakdown(ctx: Context, grants: Sequence[Grant]) -> dict[str, Any]:
    """Where a grant's time goes, from the histories of sampled grants (both workflows): per
    activity type, the wait in the task queue (scheduled -> started) and the run (started ->
    completed); per workflow, the wait for a workflow task and its processing in the worker."""
    waits: dict[str, list[float]] = {}
    runs: dict[str, list[float]] = {}
    task_wait: dict[str, list[float]] = {}
    task_run: dict[str, list[float]] = {}
    for grant in grants:
        state = await ctx.jitflow.status(grant)
        handles: list[tuple[str, Any]] = [("AccessRequest", grant.handle)]
        if state.membership_workflow_id:
            owner = ctx.client.get_workflow_handle(state.membership_workflow_id)
            handles.append(("RoleMembership", owner))
        for kind, handle in handles:
            history = await handle.fetch_history()
            scheduled: dict[int, tuple[str, float]] = {}
            started: dict[int, float] = {}
            task_scheduled: dict[int, float] = {}
            task_started: dict[int, float] = {}
            for event in history.events:
                at = event.event_time.ToDatetime().timestamp()
                if event.HasField("activity_task_scheduled_event_attributes"):
                    name = event.activity_task_scheduled_event_attributes.activity_type.name
                    scheduled[event.event_id] = (name, at)
                elif event.HasField("activity_task_started_event_attributes"):
                    sid = event.activity_task_started_event_attributes.scheduled_event_id
                    started[sid] = at
                    name, when = scheduled[sid]
                    waits.setdefault(name, []).append(at - when)
                elif event.HasField("activity_task_completed_event_attributes"):
                    sid = event.activity_task_completed_event_attributes.scheduled_event_id
                    name, _ = scheduled[sid]
                    if sid in started:
                        runs.setdefault(name, []).append(at - started[sid])
                elif event.HasField("workflow_task_scheduled_event_attributes"):
                    task_scheduled[event.event_id] = at
                elif event.HasField("workflow_task_started_event_attributes"):
                    sid = event.workflow_task_started_event_attributes.scheduled_event_id
                    task_started[event.event_id] = at
                    if sid in task_scheduled:
                        task_wait.setdefault(kind, []).append(at - task_scheduled[sid])
                elif event.HasField("workflow_task_completed_event_attributes"):
                    sid = event.workflow_task_completed_event_attributes.started_event_id
                    if sid in task_started:
                        task_run.setdefault(kind, []).append(at - task_started[sid])

    def p50(values: list[float]) -> float:
        return round(sorted(values)[len(values) // 2] * 1000, 1)

    return {
        "sampled_grants": len(grants),
        "activity_queue_wait_ms_p50": {name: p50(v) for name, v in sorted(waits.items())},
        "activity_run_ms_p50": {name: p50(v) for name, v in sorted(runs.items())},
        "workflow_task_queue_wait_ms_p50": {k: p50(v) for k, v in sorted(task_wait.items())},
        "workflow_task_run_ms_p50": {k: p50(v) for k, v in sorted(task_run.items())},
    }


# --- phases -------------------------------------------------------------------------------------


class CreationLog:
    """Reads the emulator's state every ``period`` seconds and keeps each membership's creation
    time, so that latency needs no tight polling (which would load the emulator under test)."""

    def __init__(self, emulator: Emulator, period: float = 1.0) -> None:
        self.emulator = emulator
        self.period = period
        self.seen: dict[tuple[str, str], set[float]] = {}

    async def read(self) -> None:
        for key, moments in (await self.emulator.created_at()).items():
            self.seen.setdefault(key, set()).update(moments)

    async def run(self) -> None:
        while True:
            await self.read()
            await asyncio.sleep(self.period)

    def created_after(self, pair: Pair, moment: float) -> float | None:
        later = [m for m in self.seen.get((pair.role_id, pair.user_id), ()) if m >= moment]
        return min(later) if later else None


async def latency_jitflow(ctx: Context) -> dict[str, Any]:
    """approve -> membership created, from the emulator's own ``created_at`` of the membership."""
    options = ctx.options
    pairs = ctx.fixtures.pairs[: options.latency_requests]
    grants: list[Grant] = []
    log = CreationLog(ctx.emulator)
    reading = asyncio.create_task(log.run())

    async def one(pair: Pair) -> None:
        grant = await ctx.jitflow.start(pair, options.latency_duration, "latency")
        grants.append(grant)
        await ctx.jitflow.wait_ready(grant)
        await ctx.jitflow.approve(grant)
        await asyncio.sleep(0.15)  # keeps the lanes from outrunning the worker

    started = time.time()
    await run_lanes(options.latency_lanes, pairs, one)
    elapsed = time.time() - started
    await asyncio.sleep(1.5)
    reading.cancel()
    await asyncio.gather(reading, return_exceptions=True)
    await log.read()
    latencies: list[float] = []
    after_answer: list[float] = []
    answers: list[float] = []
    setups: list[float] = []
    missing = 0
    for grant in grants:
        created = log.created_after(grant.pair, grant.started)
        if created is None:
            missing += 1
            continue
        latencies.append(created - grant.approve_sent)
        after_answer.append(created - grant.approved)
        answers.append(grant.approved - grant.approve_sent)
        setups.append(created - grant.started)
    open_runs, failures = await drain(
        [functools.partial(ctx.jitflow.result, g) for g in grants], options.latency_duration + 60
    )
    failed = len(open_runs) + failures
    shape = await count_activities(ctx, grants[0])
    breakdown = await history_breakdown(ctx, grants[:: max(1, len(grants) // 20)])
    return {
        "requests": len(grants),
        "concurrency": options.latency_lanes,
        "approve_to_escalated_ms": summary_ms(latencies),
        "approve_answer_ms": summary_ms(answers),
        "approve_answered_to_escalated_ms": summary_ms(after_answer),
        "request_to_escalated_ms": summary_ms(setups),
        "memberships_not_seen": missing,
        "elapsed_s": round(elapsed, 1),
        "runs_not_completed": failed,
        "per_grant_history": shape,
        "where_time_goes": breakdown,
    }


async def latency_floor(ctx: Context) -> dict[str, Any]:
    """The same for the floor: approve -> its grant activity ran (the activity's own clock)."""
    options = ctx.options
    floor = FloorDriver(ctx.client, ctx.floor_shape)
    pairs = ctx.fixtures.pairs[: options.latency_requests]
    grants: list[Grant] = []
    reads: list[asyncio.Task[float]] = []

    async def one(pair: Pair) -> None:
        grant = await floor.start(pair, options.latency_duration, "latency")
        grants.append(grant)
        await floor.wait_ready(grant)
        await floor.approve(grant)
        reads.append(asyncio.create_task(floor.granted_at(grant, first_poll=0.5)))
        await asyncio.sleep(0.15)

    await run_lanes(options.latency_lanes, pairs, one)
    granted = await asyncio.gather(*reads)
    latencies = [at - grant.approve_sent for at, grant in zip(granted, grants, strict=True)]
    open_runs, failures = await drain(
        [functools.partial(floor.result, g) for g in grants], options.latency_duration + 60
    )
    failed = len(open_runs) + failures
    return {
        "requests": len(latencies),
        "concurrency": options.latency_lanes,
        "approve_to_granted_ms": summary_ms(latencies),
        "runs_not_completed": failed,
    }


async def throughput(ctx: Context, which: str) -> dict[str, Any]:
    """Full lifecycles per second at ``throughput_concurrency``, each lane with its own pair,
    in steady state: completions after the first wave (the first ``concurrency`` completions)
    until the lanes stop starting new lifecycles, divided by that time."""
    options = ctx.options
    driver: JitflowDriver | FloorDriver = (
        ctx.jitflow if which == "jitflow" else FloorDriver(ctx.client, ctx.floor_shape)
    )
    pairs = ctx.fixtures.pairs[: options.throughput_concurrency]
    t0 = time.time()
    stop_at = t0 + options.throughput_run
    completions: list[float] = []
    errors: list[str] = []

    async def lane(pair: Pair) -> None:
        while time.time() < stop_at:
            try:
                grant = await driver.start(pair, options.throughput_duration, "throughput")
                await driver.wait_ready(grant)
                await driver.approve(grant)
                result = await driver.result(grant)
            except Exception as error:
                errors.append(repr(error))
                await asyncio.sleep(0.5)
                continue
            if isinstance(result, int) or result.status == "deescalated":
                completions.append(time.time())
            else:
                errors.append(f"{grant.handle.id} ended {result.status}: {result.error}")

    await asyncio.gather(*(lane(pair) for pair in pairs))
    ordered = sorted(completions)
    per_s = len(ordered) / max(ordered[-1] - t0, 0.001) if ordered else 0.0
    wave = ordered[len(pairs) - 1] if len(ordered) >= len(pairs) else None
    steady: float | None = None
    if wave is not None and wave < stop_at - 1:
        steady = len([t for t in ordered if wave < t <= stop_at]) / (stop_at - wave)
    return {
        "concurrency": len(pairs),
        "duration_s": options.throughput_duration,
        "run_s": options.throughput_run,
        "first_wave_s": round(wave - t0, 1) if wave else None,
        "completed": len(completions),
        "per_s": round(per_s, 2),
        "per_s_method": "all lifecycles / (last completion - first start)",
        "steady_per_s": None if steady is None else round(steady, 2),
        "errors": len(errors),
        "first_errors": errors[:3],
    }


async def throughput_rounds(ctx: Context) -> dict[str, Any]:
    """``throughput`` of jitflow and of the floor, in turn, ``throughput_rounds`` times; the
    order alternates between rounds (jitflow first, then the floor first), so that neither side
    always runs on the server the other just left. One 30 s round each measured 0.87 of the floor
    in a full run and 1.03 in a one-phase run of the same code: the server's state (its SQLite
    checkpoints, the owners of earlier phases closing) moves a single round's rate by more than
    the target's margin. After every jitflow round the next round waits for its membership
    owners to close (30 s after their removal), as the floor's measurements always have."""
    options = ctx.options
    sides: dict[str, list[dict[str, Any]]] = {"jitflow": [], "floor": []}
    for index in range(options.throughput_rounds):
        order = ("jitflow", "floor") if index % 2 == 0 else ("floor", "jitflow")
        for which in order:
            echo(
                f"throughput round {index + 1}/{options.throughput_rounds}: {which}, "
                f"concurrency {options.throughput_concurrency}"
            )
            run = await throughput(ctx, which)
            if which == "jitflow":
                run["owners_open_before_floor"] = await owners_closed(ctx.client)
            sides[which].append(run)
    jitflow, floor = combine_rounds(sides["jitflow"]), combine_rounds(sides["floor"])
    jitflow["vs_floor_by_round"] = [
        round(mine["per_s"] / theirs["per_s"], 3) if theirs["per_s"] else None
        for mine, theirs in zip(sides["jitflow"], sides["floor"], strict=True)
    ]
    return {"throughput": jitflow, "floor_throughput": floor}


def combine_rounds(rounds: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One side's rounds as one result: the median rate (the ratio to the floor compares
    medians), every round's rate, and every round's failures and open owners summed, so that
    a failure in any round is reported."""
    if not rounds:
        raise ValueError("no throughput rounds to combine")
    steady = [run["steady_per_s"] for run in rounds if run.get("steady_per_s") is not None]
    errors = [error for run in rounds for error in run["first_errors"]]
    return {
        "concurrency": rounds[0]["concurrency"],
        "duration_s": rounds[0]["duration_s"],
        "run_s": rounds[0]["run_s"],
        "rounds": len(rounds),
        "per_s": round(statistics.median(run["per_s"] for run in rounds), 2),
        "per_s_method": "median over rounds of: all lifecycles / (last completion - first start)",
        "per_s_by_round": [run["per_s"] for run in rounds],
        "steady_per_s": round(statistics.median(steady), 2) if steady else None,
        "first_wave_s_by_round": [run["first_wave_s"] for run in rounds],
        "completed": sum(run["completed"] for run in rounds),
        "errors": sum(run["errors"] for run in rounds),
        "first_errors": errors[:3],
        "owners_open_before_floor": sum(run.get("owners_open_before_floor", 0) for run in rounds),
    }


class RevocationWatcher:
    """Polls the emulator for the roles of registered grants; notes when each membership is gone.

    Slow polls (0.5 s) while no grant is near its end; fast ones (50 ms pause between rounds of
    one request per role) from 1.5 s before the earliest outstanding expiry. A removal is noted
    at the end of the first round that no longer sees it (resolution: one round). Only grants
    registered before a round's listings were asked for are judged by them: a grant registered
    while they were in flight is not in them yet, and was once taken for removed (at 3000
    grants, whose set-up takes minutes, lags of -550 s).
    """

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.outstanding: dict[tuple[str, str], Grant] = {}
        self.fast_rounds: list[float] = []
        self.errors: list[str] = []

    def register(self, grant: Grant) -> None:
        self.outstanding[(grant.pair.role_id, grant.pair.user_id)] = grant

    async def run(self, stop: asyncio.Event) -> None:
        while not (stop.is_set() and not self.outstanding):
            if stop.is_set() and not self.outstanding:
                return
            now = time.time()
            expiries = [g.expires_at for g in self.outstanding.values() if g.expires_at]
            fast = bool(expiries) and min(expiries) - now < 1.5
            asked = set(self.outstanding)
            roles = sorted({role for role, _ in asked})
            if roles:
                began = time.time()
                try:
                    answers = await asyncio.gather(*(self.emulator.members(r) for r in roles))
                except Exception as error:
                    self.errors.append(repr(error))
                    await asyncio.sleep(0.1)
                    continue
                seen = time.time()
                if fast:
                    self.fast_rounds.append(seen - began)
                members = dict(zip(roles, answers, strict=True))
                for key, grant in list(self.outstanding.items()):
                    if key in asked and key[1] not in members[key[0]]:
                        grant.gone_at = seen
                        del self.outstanding[key]
            await asyncio.sleep(0.05 if fast else 0.5)


async def revocation(ctx: Context, count: int) -> dict[str, Any]:
    """``count`` grants set up at ``setup_concurrency``, durations chosen so that all expire
    within a few seconds of a common moment; then the time from each expiry to removal."""
    options = ctx.options
    fixtures = ctx.fixtures
    if count > len(fixtures.pairs):
        raise BenchError(f"--grants {count}: the bench state has {len(fixtures.pairs)} pairs")
    pairs = fixtures.pairs[:count]
    before = await ctx.emulator.counters()
    timeouts_before = ctx.jitflow.query_timeouts
    ctx.worker_memory.reset_peak()
    setup_window = count / ctx.setup_rate * 1.3 + 5.0
    target = time.time() + setup_window
    estimate = [options.setup_concurrency / ctx.setup_rate]  # Little's law
    grants: list[Grant] = []
    errors: list[str] = []
    watcher = RevocationWatcher(ctx.emulator)
    stop = asyncio.Event()
    watching = asyncio.create_task(watcher.run(stop))
    started = time.time()

    async def one(pair: Pair) -> None:
        wanted = target - time.time() - estimate[0]
        duration = fixtures.duration_at_least(max(1.0, wanted))
        try:
            grant = await ctx.jitflow.start(pair, duration, f"revocation-{count}")
            await ctx.jitflow.wait_ready(grant)
            await ctx.jitflow.approve(grant)
            await ctx.jitflow.wait_escalated(grant)
        except BenchError as error:
            errors.append(str(error))
            return
        grant.extra["duration"] = duration
        estimate[0] = 0.8 * estimate[0] + 0.2 * (time.time() - grant.started)
        grants.append(grant)
        watcher.register(grant)

    await run_lanes(options.setup_concurrency, pairs, one)
    setup_elapsed = time.time() - started
    # Until the last grant is set up (the memory floor's window; grants that expired during
    # the set-up, the earliest ones at small sizes, have been removed by then).
    held_peak_kb = ctx.worker_memory.phase_peak_kb()
    escalated = await ctx.emulator.counters()
    expiries = [g.expires_at for g in grants if g.expires_at is not None]
    # The grace scales past 1000 grants: a drain takes longer the more grants end together.
    grace = options.grace * max(1.0, count / GRACE_SCALE_GRANTS)
    deadline = (max(expiries) if expiries else time.time()) + grace
    stop.set()
    while watcher.outstanding and time.time() < deadline:
        await asyncio.sleep(0.1)
    watching.cancel()
    (crash,) = await asyncio.gather(watching, return_exceptions=True)
    if isinstance(crash, BaseException) and not isinstance(crash, asyncio.CancelledError):
        watcher.errors.append(f"watcher crashed: {crash!r}")
    never = len(watcher.outstanding)
    peak_kb = ctx.worker_memory.phase_peak_kb()
    results = [functools.partial(ctx.jitflow.result, g) for g in grants]
    record_wait = 60.0 * max(1.0, count / GRACE_SCALE_GRANTS)
    recorded_late, failed = await drain(results, record_wait)
    still_open = len(recorded_late)
    if recorded_late and options.mode != "smoke":
        # A request whose lease news was lost (its update not admitted while thousands of
        # requests ran behind the owners) records its end after its own grace: late, but not a
        # run that failed. (A smoke run's five grants have no such excuse.) Those get the same
        # wait again from the end of that grace: thousands release then, all at once.
        graces_end = max(expiries) + NEWS_GRACE.total_seconds()
        more, more_failed = await drain(
            [results[index] for index in recorded_late],
            max(0.0, graces_end - time.time()) + record_wait,
        )
        still_open, failed = len(more), failed + more_failed
    after = await ctx.emulator.counters()
    still_present = 0
    for role in {g.pair.role_id for g in grants}:
        members = await ctx.emulator.members(role)
        still_present += sum(
            1 for g in grants if g.pair.role_id == role and g.pair.user_id in members
        )
    lags = [g.gone_at - g.expires_at for g in grants if g.gone_at and g.expires_at]
    late = [g for g in grants if g.expires_at and g.expires_at < target - 2]
    ctx.setup_rate = max(1.0, len(grants) / max(setup_elapsed, 0.001))
    phase_calls = counter_delta(after, before)
    calls = {key: value for key, value in phase_calls.items() if key != TOKEN_ROUTE}
    escalation_calls = sum(calls.get(route, 0) for route in ESCALATION_ROUTES)
    deescalation_calls = sum(v for k, v in calls.items() if k not in ESCALATION_ROUTES)
    n = max(len(grants), 1)
    deletes = max(calls.get(DELETE_ROUTE, 0), 1)
    return {
        "grants": count,
        "escalated": len(grants),
        "setup_errors": len(errors),
        "first_setup_errors": errors[:3],
        "setup_s": round(setup_elapsed, 1),
        "setup_per_s": round(ctx.setup_rate, 2),
        "expiry_spread_s": round(max(expiries) - min(expiries), 2) if expiries else None,
        "expired_before_aimed_moment": len(late),
        "lag_ms": summary_ms(lags),
        "never_revoked": never,
        "still_present_after_drain": still_present,
        "grace_s": round(grace, 1),
        "poll_round_ms": summary_ms(watcher.fast_rounds),
        "poll_errors": watcher.errors[:5],
        "status_query_timeouts": ctx.jitflow.query_timeouts - timeouts_before,
        "runs_recorded_after_drain_wait": len(recorded_late),
        "runs_not_completed": still_open + failed,
        "aptible_calls": {
            "by_route": phase_calls,
            "during_setup": counter_delta(escalated, before),
            "per_escalation": round(escalation_calls / n, 3),
            "per_deescalation": round(deescalation_calls / deletes, 3),
            "deescalations": calls.get(DELETE_ROUTE, 0),
            "token_requests": phase_calls.get(TOKEN_ROUTE, 0),
        },
        "worker_peak_rss_mb": round(peak_kb / 1024, 1),
        "worker_peak_rss_source": ctx.worker_memory.peak_source,
        "worker_peak_rss_until_held_mb": round(held_peak_kb / 1024, 1),
    }


async def decisions(ctx: Context) -> dict[str, Any]:
    """Each kind of decision once, through ``send_decision``: a request denied while pending, and
    one approved, escalated, then revoked. Checks how each ended and that no membership is left;
    not timed (the smoke run's check that deny and revoke still work as the benchmark sends them).
    Uses the last two pairs, which no other phase of a smoke or quick run touches."""
    fixtures = ctx.fixtures
    driver = ctx.jitflow
    longest = fixtures.durations[-1]  # only the revoke may end the revoked grant
    denied_pair, revoked_pair = fixtures.pairs[-1], fixtures.pairs[-2]
    problems: list[str] = []
    outcome: dict[str, Any] = {"deny": None, "revoke": None, "problems": problems}

    async def gone(pair: Pair, what: str) -> None:
        if pair.user_id in await ctx.emulator.members(pair.role_id):
            problems.append(f"{what}: {pair.email} still holds {pair.target} in the emulator")

    try:
        denied = await driver.start(denied_pair, longest, "decisions-deny")
        await driver.wait_ready(denied)
        answer = await driver.deny(denied)
        end = await asyncio.wait_for(driver.result(denied), 120.0)
        outcome["deny"] = {"answer": answer.status, "ended": end.status}
        if end.status != "denied":
            problems.append(f"deny: {denied.handle.id} ended {end.status}: {end.error}")
        await gone(denied_pair, "deny")

        revoked = await driver.start(revoked_pair, longest, "decisions-revoke")
        await driver.wait_ready(revoked)
        await driver.approve(revoked)
        await driver.wait_escalated(revoked)
        if revoked_pair.user_id not in await ctx.emulator.members(revoked_pair.role_id):
            problems.append(f"revoke: {revoked.handle.id} escalated without a membership")
        answer = await driver.revoke(revoked)
        end = await asyncio.wait_for(driver.result(revoked), 120.0)
        outcome["revoke"] = {"answer": answer.status, "ended": end.status}
        if end.status != "deescalated":
            problems.append(f"revoke: {revoked.handle.id} ended {end.status}: {end.error}")
        await gone(revoked_pair, "revoke")
    except (BenchError, TimeoutError) as error:
        problems.append(f"decisions: {error!r}")
    return outcome


# --- the run ------------------------------------------------------------------------------------


def machine_facts() -> dict[str, Any]:
    try:
        cli = subprocess.run(
            [str(temporal_cli()), "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except Exception as error:
        cli = f"unknown ({error})"
    meminfo = Path("/proc/meminfo").read_text().splitlines()[0].split()
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "cpu_model": next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        ),
        "memory_mb": int(meminfo[1]) // 1024,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "temporalio": importlib.metadata.version("temporalio"),
        "temporal_cli": cli,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


async def measure(options: Options, stack: RunningStack) -> dict[str, Any]:
    fixtures = stack.fixtures
    client = await connect(stack.settings.temporal_address, "default")
    emulator = Emulator(stack.emulator_admin_url)
    worker_memory = MemorySampler(stack.worker_pid)
    floor_memory_sampler = MemorySampler(stack.floor_worker_pid)
    worker_memory.start()
    floor_memory_sampler.start()
    ctx = Context(
        options,
        fixtures,
        stack,
        client,
        emulator,
        JitflowDriver(client),
        worker_memory,
        floor_memory_sampler,
    )
    results: dict[str, Any] = {}
    start_counters = await emulator.counters()
    try:
        if "latency" in options.phases:
            lanes = options.latency_lanes
            echo(f"latency: {options.latency_requests} requests, {lanes} at a time")
            results["latency"] = await latency_jitflow(ctx)
            history = results["latency"]["per_grant_history"]
            ctx.floor_shape = FloorShape.with_total(history["activities"])
            latency = results["latency"]["request_to_escalated_ms"]
            ctx.setup_latency = (latency["p50"] or 1000) / 1000
            # Owners close 30 s after their removal: not during the floor's measurement.
            results["latency"]["owners_open_before_floor"] = await owners_closed(ctx.client)
            echo(f"floor latency ({ctx.floor_shape.total} no-op activities)")
            results["floor_latency"] = await latency_floor(ctx)
        if "throughput" in options.phases:
            results.update(await throughput_rounds(ctx))
        results["revocation"] = []
        for count in options.grants if "revocation" in options.phases else ():
            echo(f"revocation: {count} grants")
            run = await revocation(ctx, count)
            run["owners_open_before_floor"] = await owners_closed(client)
            echo(f"floor removal: {count} workflows ending together")
            run["floor_removal"] = await floor_removal(client, count)
            if count <= MEMORY_FLOOR_MAX_GRANTS:
                echo(f"memory floor: {count} grants held by the floor's worker")
                run["floor_memory"] = await floor_memory(
                    client,
                    FloorDriver(client, ctx.floor_shape),
                    ctx.floor_worker_memory,
                    fixtures.pairs[:count],
                    run_lanes,
                    options.setup_concurrency,
                )
            results["revocation"].append(run)
        if "mass_revocation" in options.phases:
            count = options.mass_grants
            echo(f"mass revocation: {count} grants, jitflow revoke --all, then its floor")
            results["mass_revocation"] = await mass_revocation(
                client=client,
                driver=ctx.jitflow,
                emulator=emulator,
                pairs=fixtures.pairs[:count],
                duration=fixtures.durations[-1],
                setup_lanes=options.setup_concurrency,
                run_lanes=run_lanes,
                address=stack.settings.temporal_address,
                work_dir=stack.settings.state_dir,
            )
        if "decisions" in options.phases:
            echo("decisions: one deny, one approve then revoke")
            results["decisions"] = await decisions(ctx)
        end_counters = await emulator.counters()
        results["aptible_calls_whole_run"] = counter_delta(end_counters, start_counters)
        # Absolute: the emulator started with this run, and the worker logs in at start-up,
        # before the first measurement.
        results["token_requests_whole_run"] = end_counters.get(TOKEN_ROUTE, 0)
        results["floor_worker_peak_rss_mb"] = round(
            floor_memory_sampler.whole_run_peak_kb() / 1024, 1
        )
    finally:
        await worker_memory.stop()
        await floor_memory_sampler.stop()
        await emulator.aclose()
    return results


def ratios(results: dict[str, Any]) -> dict[str, float | None]:
    def ratio(a: float | None, b: float | None) -> float | None:
        return round(a / b, 3) if a is not None and b else None

    out: dict[str, float | None] = {}
    if "throughput" in results:
        out["throughput_vs_floor"] = ratio(
            results["throughput"]["per_s"], results["floor_throughput"]["per_s"]
        )
    if "latency" in results:
        jit = results["latency"]["approve_to_escalated_ms"]
        floor = results["floor_latency"]["approve_to_granted_ms"]
        out["latency_p50_vs_floor"] = ratio(jit["p50"], floor["p50"])
        out["latency_p99_vs_floor"] = ratio(jit["p99"], floor["p99"])
    if "mass_revocation" in results:
        # Against the fastest removal floor of as many workflows measured in the run: the floor
        # right after the mass revocation drained 1000 in 28.5 s where the same floor took 11.0 s
        # earlier in the same run (the dev server's store timing out), which flattered jitflow.
        mass = results["mass_revocation"]
        drains = [
            run["floor_removal"]["drain_s"]
            for run in [mass, *results.get("revocation", [])]
            if run["grants"] == mass["grants"] and run["floor_removal"]["drain_s"]
        ]
        out["mass_revocation_vs_floor_drain"] = ratio(
            mass["last_gone_s"], min(drains) if drains else None
        )
    for run in results.get("revocation", []):
        drain = run["floor_removal"]["drain_s"]
        last = run["lag_ms"]["max"]
        out[f"revocation_{run['grants']}_last_lag_vs_floor_drain"] = (
            ratio(last / 1000, drain) if last is not None else None
        )
        if "floor_memory" in run:
            out[f"revocation_{run['grants']}_rss_vs_floor"] = ratio(
                run["worker_peak_rss_until_held_mb"], run["floor_memory"]["worker_peak_rss_mb"]
            )
    return out


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="the smaller run of make bench-quick")
    mode.add_argument(
        "--smoke",
        action="store_true",
        help="a few grants through every phase, well under a minute (make bench-smoke, CI): "
        "exits 1 when the run had errors; speed is not judged",
    )
    parser.add_argument(
        "--grants",
        help="comma-separated numbers of concurrent grants for the revocation runs "
        "(default 100,1000,3000, at most 3000; quick: 50; smoke: 5)",
    )
    parser.add_argument("--latency-requests", type=int)
    parser.add_argument(
        "--throughput-rounds",
        type=int,
        help="rounds of the throughput phase, jitflow and the floor in turn; their medians are "
        "compared (default 3; quick and smoke: 1)",
    )
    parser.add_argument(
        "--mass-grants",
        type=int,
        help="grants the mass_revocation phase revokes at once (default 1000; quick: 50; smoke: 5)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="JSON file (default bench/results.json; quick: bench/results-quick.json; "
        "smoke: bench/results-smoke.json)",
    )
    parser.add_argument(
        "--phases",
        help=f"comma-separated subset of {','.join(ALL_PHASES)} (for development; a partial run "
        "checks only the targets it measured; default: all but decisions, smoke: all)",
    )
    args = parser.parse_args(argv)
    name = "smoke" if args.smoke else "quick" if args.quick else "full"
    defaults = MODES[name]
    grants = args.grants or defaults.grants
    phases = (
        tuple(part.strip() for part in args.phases.split(",") if part.strip())
        if args.phases
        else defaults.phases
    )
    if args.throughput_rounds is not None and args.throughput_rounds < 1:
        parser.error(f"--throughput-rounds {args.throughput_rounds}: give 1 or more")
    unknown = sorted(set(phases) - set(ALL_PHASES))
    if unknown:
        parser.error(f"unknown phase(s) {', '.join(unknown)}; known: {', '.join(ALL_PHASES)}")
    return Options(
        mode=name,
        latency_requests=args.latency_requests or defaults.latency_requests,
        latency_lanes=4,
        latency_duration=defaults.latency_duration,
        throughput_concurrency=defaults.throughput_concurrency,
        throughput_duration=defaults.throughput_duration,
        throughput_run=defaults.throughput_run,
        grants=tuple(int(part) for part in grants.split(",") if part.strip()),
        setup_concurrency=defaults.setup_concurrency,
        grace=defaults.grace,
        output=args.output or REPO / "bench" / defaults.output,
        phases=phases,
        deadline=defaults.deadline,
        mass_grants=args.mass_grants or defaults.mass_grants,
        throughput_rounds=args.throughput_rounds or defaults.throughput_rounds,
    )


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # unwinds through bench_stack, which stops every service


async def measure_within(options: Options, stack: RunningStack) -> dict[str, Any]:
    """``measure``, stopped as stuck after ``options.deadline`` seconds when one is set."""
    if options.deadline is None:
        return await measure(options, stack)
    try:
        return await asyncio.wait_for(measure(options, stack), options.deadline)
    except TimeoutError:
        raise BenchError(
            f"the {options.mode} run was still measuring after {options.deadline:.0f} s: stuck"
        ) from None


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    signal.signal(signal.SIGTERM, _terminate)
    os.chdir(REPO)
    began = time.time()
    facts = machine_facts()
    echo(f"jitflow bench ({options.mode}): writing its configuration, starting the local stack")
    # A smoke run judges no speed: its owners close with their removal instead of lingering
    # (JITFLOW_OWNER_LINGER), so that it stays well under a minute.
    settings = {OWNER_LINGER_ENV: "0"} if options.mode == "smoke" else {}
    with bench_stack(echo=lambda line: echo(line), worker_settings=settings) as stack:
        results = asyncio.run(measure_within(options, stack))
    facts["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    document: dict[str, Any] = {
        "mode": options.mode,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "wall_time_s": round(time.time() - began, 1),
        "machine": facts,
        "options": {
            key: (str(value) if isinstance(value, Path) else value)
            for key, value in options.__dict__.items()
        },
        "emulator": {"per_page": 1000, "persisted": False},
        **results,
        "ratios": ratios(results),
    }
    # A smoke run checks that the benchmark works, not how fast jitflow is.
    document["targets"] = [] if options.mode == "smoke" else evaluate_targets(document)
    document["problems"] = run_problems(document)
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(render_table(document))
    shown = (
        options.output.relative_to(REPO) if options.output.is_relative_to(REPO) else options.output
    )
    print(f"\nwrote {shown}")
    if options.mode == "smoke" and document["problems"]:
        echo(f"bench smoke FAILED: {len(document['problems'])} problem(s), listed above")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
