"""Measurement plumbing: statistics, the emulator's admin API, process memory, and the drivers
that take jitflow's ``AccessRequest`` and the floor's ``BenchFloor`` through their lifecycles.

Every decision the benchmark sends to an ``AccessRequest`` (approve, deny, revoke) goes through
``send_decision`` and nowhere else (``tests/bench`` checks this on the source).
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import httpx
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from bench.fixtures import APPROVER, BENCH_KEYS, FLOW, Pair
from bench.floor import FLOOR_TASK_QUEUE, FLOOR_WORKFLOW, FloorInput, FloorShape, FloorStatus
from jitflow.contracts.access import (
    AccessRequestInput,
    AccessState,
    Decision,
    Revocation,
    UpdateOutcome,
)
from jitflow.contracts.names import (
    ACCESS_WORKFLOW_TYPE,
    APPROVE_UPDATE,
    DEFAULT_TASK_QUEUE,
    DENY_UPDATE,
    REVOKE_UPDATE,
    STATUS_QUERY,
)
from jitflow.trust.keys import public_key_of, sign
from jitflow.trust.signing import sign_decision

REASON = "benchmark run: measuring jitflow"
DECISION_MESSAGE = "benchmark"


class BenchError(RuntimeError):
    """A lifecycle did not go as the benchmark needs (failed run, refused update...)."""


# --- statistics ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (no interpolation: p99 of 200 values is the 198th smallest)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def summary_ms(seconds: Sequence[float]) -> dict[str, float | int | None]:
    """n, min, p50, p95, p99, max and mean of durations given in seconds, in milliseconds."""
    if not seconds:
        return {"n": 0, "min": None, "p50": None, "p95": None, "p99": None, "max": None}
    ms = [value * 1000 for value in seconds]
    return {
        "n": len(ms),
        "min": round(min(ms), 1),
        "p50": round(percentile(ms, 0.50), 1),
        "p95": round(percentile(ms, 0.95), 1),
        "p99": round(percentile(ms, 0.99), 1),
        "max": round(max(ms), 1),
        "mean": round(sum(ms) / len(ms), 1),
    }


# --- waiting for runs ---------------------------------------------------------------------------


#: Result long-polls in flight at once: each holds a server poller slot, and thousands at once
#: exceed the dev server's namespace limit ("namespace concurrent poller limit exceeded").
RESULT_POLLS = 200
#: How long one poll waits before its run goes to the back of the line, so that runs still
#: going (a request waiting out its grace) never keep finished ones from being seen.
RESULT_POLL_S = 5.0
#: Stands for "not ended" in ``bounded_results``' values (a run may well return None).
PENDING: Any = object()


async def bounded_results(
    results: Sequence[Callable[[], Awaitable[Any]]],
    timeout: float,
    *,
    poll_s: float = RESULT_POLL_S,
) -> tuple[list[Any], list[int]]:
    """Wait for each run's result, ``RESULT_POLLS`` polls at a time, each at most ``poll_s``
    before its run is asked again later, all within ``timeout`` seconds: the values in the order
    of ``results`` (a failure as its exception, ``PENDING`` for a run not ended in time) and the
    indices of those not ended. Cancelling the caller cancels every poll."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    values: list[Any] = [PENDING] * len(results)
    line = deque(range(len(results)))

    async def lane() -> None:
        while line:
            left = deadline - loop.time()
            if left <= 0:
                return
            index = line.popleft()
            try:
                values[index] = await asyncio.wait_for(results[index](), min(poll_s, left))
            except TimeoutError:
                line.append(index)
            except Exception as error:
                values[index] = error

    await asyncio.gather(*(lane() for _ in range(min(RESULT_POLLS, len(results)))))
    return values, [index for index, value in enumerate(values) if value is PENDING]


#: Query failures that mean "ask again" (the worker was slow to answer), not a broken run.
#: (The client's own RPC timeout comes back as CANCELLED, "Timeout expired".)
_QUERY_TRANSIENT = frozenset(
    {
        RPCStatusCode.CANCELLED,
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.UNAVAILABLE,
        RPCStatusCode.RESOURCE_EXHAUSTED,
    }
)


# --- process memory -----------------------------------------------------------------------------


def _status_kb(pid: int, key: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


class MemorySampler:
    """Samples a process's VmRSS every ``interval`` seconds; ``reset_peak`` restarts both the
    sampled peak and the kernel's VmHWM (``echo 5 > /proc/<pid>/clear_refs``)."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_kb = 0
        self.run_peak_kb = 0
        """The sampled peak over the whole run, never reset."""
        self.hwm_resettable = False
        self._task: asyncio.Task[None] | None = None

    def reset_peak(self) -> None:
        # The kernel's peak is about to be cleared: the whole run's peak keeps it.
        self.run_peak_kb = max(self.run_peak_kb, self.hwm_kb() or 0)
        self.peak_kb = _status_kb(self.pid, "VmRSS") or 0
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
            self.hwm_resettable = True
        except OSError:
            self.hwm_resettable = False

    def rss_kb(self) -> int | None:
        return _status_kb(self.pid, "VmRSS")

    def phase_peak_kb(self) -> int:
        """The peak since ``reset_peak``: the samples', and the kernel's when it was reset."""
        kernel = (self.hwm_kb() or 0) if self.hwm_resettable else 0
        return max(self.peak_kb, kernel, self.rss_kb() or 0)

    def whole_run_peak_kb(self) -> int:
        """The peak since sampling started, whatever was reset since."""
        return max(self.run_peak_kb, self.hwm_kb() or 0)

    @property
    def peak_source(self) -> str:
        if self.hwm_resettable:
            return "max(sampled VmRSS every 0.25 s, VmHWM after clear_refs)"
        return "sampled VmRSS every 0.25 s (VmHWM could not be reset)"

    def hwm_kb(self) -> int | None:
        return _status_kb(self.pid, "VmHWM")

    async def _run(self) -> None:
        while True:
            rss = self.rss_kb()
            if rss is not None:
                self.peak_kb = max(self.peak_kb, rss)
                self.run_peak_kb = max(self.run_peak_kb, rss)
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


# --- the emulator's admin API ---------------------------------------------------------------------


class Emulator:
    """Async client of the emulator's ``/_emulator`` admin API (not counted by the emulator)."""

    def __init__(self, admin_url: str) -> None:
        self._http = httpx.AsyncClient(
            base_url=admin_url,
            timeout=30.0,
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=32),
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def counters(self) -> dict[str, int]:
        response = await self._http.get("/counters")
        response.raise_for_status()
        counts: dict[str, int] = response.json()["counts"]
        return counts

    async def members(self, role_id: str) -> set[str]:
        """User ids holding the role now. Asked again once when the emulator had closed the
        kept-alive connection as it was reused (``RemoteProtocolError``, seen once in a full
        run's 1000-grant watcher): the listing is a read."""
        path = f"/roles/{role_id}/memberships"
        try:
            response = await self._http.get(path)
        except httpx.RemoteProtocolError:
            response = await self._http.get(path)
        response.raise_for_status()
        return {row["user_id"] for row in response.json()}

    async def created_at(self) -> dict[tuple[str, str], list[float]]:
        """Creation times (wall clock, the emulator's) of every membership, by (role, user)."""
        response = await self._http.get("/state")
        response.raise_for_status()
        found: dict[tuple[str, str], list[float]] = {}
        for row in response.json()["memberships"]:
            moment = datetime.fromisoformat(row["created_at"]).timestamp()
            found.setdefault((row["role_id"], row["user_id"]), []).append(moment)
        return found

    async def wait_member(self, role_id: str, user_id: str, timeout: float = 60.0) -> float:
        """Poll until ``user_id`` holds the role; the wall-clock time it was first seen."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if user_id in await self.members(role_id):
                return time.time()
            await asyncio.sleep(0.002)
        raise BenchError(f"user {user_id} never got role {role_id} within {timeout:.0f}s")


def counter_delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    keys = set(after) | set(before)
    delta = {key: after.get(key, 0) - before.get(key, 0) for key in sorted(keys)}
    return {key: value for key, value in delta.items() if value}


# --- drivers --------------------------------------------------------------------------------------


@dataclass
class Grant:
    """One request the benchmark drove: its handle and the times it saw."""

    pair: Pair
    handle: WorkflowHandle[Any, Any]
    started: float
    duration: float | None = None
    """The duration asked for, in seconds."""
    approve_sent: float = 0.0
    """When the client sent the ``approve`` update."""
    approved: float = 0.0
    """When the ``approve`` update's answer reached the client."""
    escalated_seen: float | None = None
    expires_at: float | None = None
    gone_at: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


BenchDecision = Literal["approve", "deny", "revoke"]
_UPDATES: dict[BenchDecision, str] = {
    "approve": APPROVE_UPDATE,
    "deny": DENY_UPDATE,
    "revoke": REVOKE_UPDATE,
}


async def send_decision(
    grant: Grant, action: BenchDecision, decider: str, message: str | None = DECISION_MESSAGE
) -> UpdateOutcome:
    """Send one decision on one request and return the workflow's answer: the only place the
    benchmark sends ``approve``, ``deny`` or ``revoke`` (time it around the call, not inside).

    Everything a signed decision covers is at hand here: the request's workflow id and first
    run id (``grant.handle``), the organization, role and requester's user id (``grant.pair``),
    the duration asked for (``grant.duration``), the decider and the message.
    """
    key = BENCH_KEYS.private(decider)
    proof = sign_decision(
        action=action,
        workflow_id=grant.handle.id,
        run_id=grant.handle.first_execution_run_id or grant.handle.result_run_id or "",
        decider=decider,
        org_id=grant.pair.org_id,
        role_id=grant.pair.role_id,
        user_id=grant.pair.user_id,
        max_duration_seconds=int(grant.duration) if grant.duration else None,
        message=message,
        fingerprint=public_key_of(key).fingerprint,
        sign=lambda data: sign(key, data),
    )
    body: Decision | Revocation = (
        Revocation(by=decider, message=message, proof=proof)
        if action == "revoke"
        else Decision(approver=decider, message=message, proof=proof)
    )
    outcome: UpdateOutcome = await grant.handle.execute_update(
        _UPDATES[action], body, result_type=UpdateOutcome
    )
    return outcome


class Ema:
    """A running estimate of how long a step takes, so that status polls start when the step
    is likely done instead of loading the worker with queries from the start."""

    def __init__(self, initial: float) -> None:
        self.value = initial

    def add(self, sample: float) -> None:
        self.value = 0.8 * self.value + 0.2 * sample

    def first_poll(self, since: float) -> float:
        return max(0.0, since + 0.8 * self.value - time.time())


async def _poll(delay: float, ceiling: float) -> float:
    await asyncio.sleep(delay)
    return min(delay * 1.5, ceiling)


class JitflowDriver:
    """Requests, approvals and status reads of jitflow's ``AccessRequest``, through Temporal."""

    def __init__(self, client: Client, task_queue: str = DEFAULT_TASK_QUEUE) -> None:
        self.client = client
        self.task_queue = task_queue
        self.ready_after = Ema(0.5)
        self.escalated_after = Ema(0.2)
        self.query_timeouts = 0

    async def start(self, pair: Pair, duration: int, tag: str) -> Grant:
        started = time.time()
        handle = await self.client.start_workflow(
            ACCESS_WORKFLOW_TYPE,
            AccessRequestInput(
                flow=FLOW,
                target=pair.target,
                requester=pair.email,
                duration=duration,
                reason=REASON,
            ),
            id=f"bench/{tag}/{uuid.uuid4().hex[:12]}",
            task_queue=self.task_queue,
            result_type=AccessState,
        )
        return Grant(pair, handle, started, duration=duration)

    async def status(self, grant: Grant) -> AccessState:
        state: AccessState = await grant.handle.query(STATUS_QUERY, result_type=AccessState)
        return state

    async def _poll_status(self, grant: Grant) -> AccessState | None:
        """``status``, or None when the query timed out: under a 3000-grant set-up the worker
        now and then answers a query later than the server waits (a run evicted from its cache
        replays first). The caller polls again within its own deadline; each is counted."""
        try:
            return await self.status(grant)
        except RPCError as error:
            if error.status not in _QUERY_TRANSIENT:
                raise
            self.query_timeouts += 1
            return None

    async def wait_ready(self, grant: Grant, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        await asyncio.sleep(self.ready_after.first_poll(grant.started))
        delay = 0.05
        while time.monotonic() < deadline:
            state = await self._poll_status(grant)
            if state is None:
                delay = await _poll(delay, 0.3)
                continue
            if state.ready_for_decision:
                self.ready_after.add(time.time() - grant.started)
                return
            if state.final:
                raise BenchError(f"{grant.handle.id} ended {state.status}: {state.error}")
            delay = await _poll(delay, 0.3)
        raise BenchError(f"{grant.handle.id} not ready for a decision after {timeout:.0f}s")

    async def approve(self, grant: Grant) -> None:
        grant.approve_sent = time.time()
        outcome = await send_decision(grant, "approve", APPROVER)
        grant.approved = time.time()
        if not outcome.accepted or outcome.status not in ("approved", "escalated"):
            raise BenchError(f"{grant.handle.id}: approve answered {outcome}")

    async def deny(self, grant: Grant) -> UpdateOutcome:
        outcome = await send_decision(grant, "deny", APPROVER)
        if not outcome.accepted:
            raise BenchError(f"{grant.handle.id}: deny answered {outcome}")
        return outcome

    async def revoke(self, grant: Grant) -> UpdateOutcome:
        outcome = await send_decision(grant, "revoke", APPROVER)
        if not outcome.accepted:
            raise BenchError(f"{grant.handle.id}: revoke answered {outcome}")
        return outcome

    async def wait_escalated(self, grant: Grant, timeout: float = 120.0) -> AccessState:
        deadline = time.monotonic() + timeout
        await asyncio.sleep(self.escalated_after.first_poll(grant.approved))
        delay = 0.05
        while time.monotonic() < deadline:
            state = await self._poll_status(grant)
            if state is None:
                delay = await _poll(delay, 0.3)
                continue
            if state.status == "escalated" or state.escalated_at is not None:
                self.escalated_after.add(time.time() - grant.approved)
                if state.expires_at is not None:
                    grant.expires_at = _timestamp(state.expires_at)
                return state
            if state.final:
                raise BenchError(f"{grant.handle.id} ended {state.status}: {state.error}")
            delay = await _poll(delay, 0.3)
        raise BenchError(f"{grant.handle.id} not escalated after {timeout:.0f}s")

    async def result(self, grant: Grant) -> AccessState:
        state: AccessState = await grant.handle.result()
        return state


def _timestamp(moment: datetime) -> float:
    return moment.timestamp()


class FloorDriver:
    """The same steps for the floor workflow."""

    def __init__(self, client: Client, shape: FloorShape) -> None:
        self.client = client
        self.shape = shape
        self.ready_after = Ema(0.5)

    async def start(self, pair: Pair, duration: float, tag: str) -> Grant:
        started = time.time()
        handle = await self.client.start_workflow(
            FLOOR_WORKFLOW,
            FloorInput(shape=self.shape, duration_seconds=duration),
            id=f"bench-floor/{tag}/{uuid.uuid4().hex[:12]}",
            task_queue=FLOOR_TASK_QUEUE,
            result_type=int,
        )
        return Grant(pair, handle, started, duration=duration)

    async def status(self, grant: Grant) -> FloorStatus:
        status: FloorStatus = await grant.handle.query("status", result_type=FloorStatus)
        return status

    async def wait_ready(self, grant: Grant, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        await asyncio.sleep(self.ready_after.first_poll(grant.started))
        delay = 0.05
        while time.monotonic() < deadline:
            if (await self.status(grant)).ready:
                self.ready_after.add(time.time() - grant.started)
                return
            delay = await _poll(delay, 0.3)
        raise BenchError(f"{grant.handle.id} not ready after {timeout:.0f}s")

    async def approve(self, grant: Grant) -> None:
        """The floor's own ``approve`` (a plain string, on ``BenchFloor``): not a jitflow
        decision, so it does not go through ``send_decision``."""
        grant.approve_sent = time.time()
        await grant.handle.execute_update("approve", APPROVER, result_type=str)
        grant.approved = time.time()

    async def granted_at(
        self, grant: Grant, timeout: float = 60.0, first_poll: float = 0.0
    ) -> float:
        await asyncio.sleep(first_poll)
        deadline = time.monotonic() + timeout
        delay = 0.05
        while time.monotonic() < deadline:
            status = await self.status(grant)
            if status.granted_at is not None:
                return status.granted_at
            delay = await _poll(delay, 0.2)
        raise BenchError(f"{grant.handle.id}: no grant after {timeout:.0f}s")

    async def result(self, grant: Grant) -> int:
        total: int = await grant.handle.result()
        return total
