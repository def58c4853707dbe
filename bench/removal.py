"""Removal phases: the floor of N removals ending together, and ``jitflow revoke --all``.

Issue 16 judges removal against what bare Temporal needs on the same server for the same number
of workflows ending at the same moment (``BenchFloorRemoval``: a timer, one no-op activity), so
both are measured in the same run. The mass revocation goes through the command an operator
types, ``jitflow revoke --all``, as a separate process signing with the approver's key file,
and the emulator is watched until every membership is gone.
"""

from __future__ import annotations

import asyncio
import functools
import os
import re
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from temporalio.client import Client

from bench.fixtures import APPROVER, BENCH_KEYS, Pair
from bench.floor import FLOOR_REMOVAL_WORKFLOW, FLOOR_TASK_QUEUE, RemovalInput
from bench.measure import (
    BenchError,
    Emulator,
    Grant,
    JitflowDriver,
    bounded_results,
    summary_ms,
)
from jitflow.contracts.names import DEFAULT_TASK_QUEUE, RUNNING_OWNERS_QUERY
from jitflow.trust.keys import private_key_openssh

#: Starts in flight at once for the floor's removals.
START_LANES = 50
#: How long to wait for removals after the last was due before counting them as never removed.
REMOVAL_WAIT_S = 120.0


class Lanes(Protocol):
    def __call__(
        self, lanes: int, items: Sequence[Pair], work: Callable[[Pair], Awaitable[None]]
    ) -> Awaitable[None]: ...


#: Membership owners stay open for a while after their removal (``JITFLOW_OWNER_LINGER``, 30 s
#: by default); their closes must not land in the floor's measurement.
OWNERS_CLOSE_WAIT_S = 120.0


async def owners_closed(client: Client, timeout: float = OWNERS_CLOSE_WAIT_S) -> int:
    """Wait until no membership owner is open (or ``timeout``); how many still were."""
    deadline = time.time() + timeout
    while True:
        open_now = (await client.count_workflows(RUNNING_OWNERS_QUERY)).count
        if not open_now or time.time() > deadline:
            return open_now
        await asyncio.sleep(1.0)


async def floor_removal(client: Client, count: int) -> dict[str, Any]:
    """``count`` bare removals all due at one moment: from that moment, when each ran and when
    the last did (the drain)."""
    semaphore = asyncio.Semaphore(START_LANES)
    # Leave time to start them all before the moment (starts run ~100/s here; margin for load).
    end_at = time.time() + count / 40 + 1.5
    late = 0

    async def start() -> Any:
        nonlocal late
        async with semaphore:
            if time.time() > end_at:
                late += 1
            return await client.start_workflow(
                FLOOR_REMOVAL_WORKFLOW,
                RemovalInput(end_at=end_at),
                id=f"bench/floor-removal/{uuid.uuid4().hex[:12]}",
                task_queue=FLOOR_TASK_QUEUE,
                result_type=float,
            )

    handles = await asyncio.gather(*(start() for _ in range(count)))
    results, _ = await bounded_results([handle.result for handle in handles], REMOVAL_WAIT_S + 60)
    ran = [value for value in results if isinstance(value, float)]
    lags = [max(0.0, value - end_at) for value in ran]
    return {
        "workflows": count,
        "started_after_due": late,
        "not_completed": count - len(ran),
        "lag_ms": summary_ms(lags),
        "drain_s": round(max(lags), 3) if lags else None,
    }


#: Up to this many grants, a mass revocation takes a few seconds and is watched every 0.1 s.
FINE_WATCH_GRANTS = 100


async def _watch_gone(
    emulator: Emulator, grants: Sequence[Grant], deadline: float
) -> dict[tuple[str, str], float]:
    """When each grant's membership was first seen gone: a poll of every role every 0.1 s,
    every 0.5 s above ``FINE_WATCH_GRANTS`` grants (the poll of 20 roles every 0.1 s took about
    a quarter of a core from the two the measured system has, where the floor has no watcher;
    0.5 s is under 3% of the time a revocation of that many takes)."""
    pause = 0.1 if len(grants) <= FINE_WATCH_GRANTS else 0.5
    outstanding = {(g.pair.role_id, g.pair.user_id) for g in grants}
    gone: dict[tuple[str, str], float] = {}
    while outstanding and time.time() < deadline:
        roles = sorted({role for role, _ in outstanding})
        answers = await asyncio.gather(*(emulator.members(role) for role in roles))
        seen = time.time()
        members = dict(zip(roles, answers, strict=True))
        for key in list(outstanding):
            if key[1] not in members[key[0]]:
                gone[key] = seen
                outstanding.discard(key)
        await asyncio.sleep(pause)
    return gone


_COUNT = re.compile(r"^\s+(removed|already gone|failed|still being removed)\s+(\d+)\s*$")


def parse_summary(output: str) -> dict[str, int]:
    """The counts ``jitflow revoke --all`` printed."""
    counts: dict[str, int] = {}
    for line in output.splitlines():
        match = _COUNT.match(line)
        if match:
            counts[match.group(1).replace(" ", "_")] = int(match.group(2))
    return counts


async def mass_revocation(
    *,
    client: Client,
    driver: JitflowDriver,
    emulator: Emulator,
    pairs: Sequence[Pair],
    duration: int,
    setup_lanes: int,
    run_lanes: Lanes,
    address: str,
    work_dir: Path,
) -> dict[str, Any]:
    """Set up ``len(pairs)`` long grants, then run ``jitflow revoke --all`` as bob and time
    until every membership is gone; the floor of as many removals is measured right after."""
    grants: list[Grant] = []
    errors: list[str] = []
    began = time.time()

    async def one(pair: Pair) -> None:
        try:
            grant = await driver.start(pair, duration, "mass-revocation")
            await driver.wait_ready(grant)
            await driver.approve(grant)
            await driver.wait_escalated(grant)
        except BenchError as error:
            errors.append(str(error))
            return
        grants.append(grant)

    await run_lanes(setup_lanes, pairs, one)
    setup_s = time.time() - began
    key_file = work_dir / "bench-approver.key"
    key_file.write_bytes(private_key_openssh(BENCH_KEYS.private(APPROVER)))
    key_file.chmod(0o600)
    # The command runs the code snapshot the worker runs (``bench.stack.snapshot_code``), so
    # that editing the work tree while a run goes on cannot change what is measured.
    code = work_dir / "code"
    command = [
        sys.executable, "-P", "-m", "jitflow", "revoke", "--all", "--by", APPROVER,
        "--key", str(key_file), "--address", address, "--task-queue", DEFAULT_TASK_QUEUE,
        "--message", "bench mass revocation",
    ]  # fmt: skip
    started = time.time()
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=code,
        env={**os.environ, "PYTHONPATH": str(code)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    watching = asyncio.create_task(_watch_gone(emulator, grants, started + REMOVAL_WAIT_S))
    output, _ = await process.communicate()
    command_s = time.time() - started
    gone = await watching
    text = output.decode(errors="replace")
    after = [moment - started for moment in gone.values()]
    # Let the revoked requests finish (their hooks after removal, the owners ending) before the
    # floor runs, so that the floor is measured on a server doing nothing else.
    ended, still_open = await bounded_results(
        [functools.partial(driver.result, grant) for grant in grants], REMOVAL_WAIT_S
    )
    owners_open = await owners_closed(client)
    floor = await floor_removal(client, len(pairs))
    last = max(after) if after else None
    return {
        "grants": len(pairs),
        "escalated": len(grants),
        "setup_errors": len(errors),
        "first_setup_errors": errors[:3],
        "setup_s": round(setup_s, 1),
        "exit_code": process.returncode,
        "summary": parse_summary(text),
        "command_s": round(command_s, 2),
        "gone_after_command_start_ms": summary_ms(after),
        "last_gone_s": round(last, 3) if last is not None else None,
        "never_removed": len(grants) - len(gone),
        "runs_not_completed": len(still_open)
        + sum(1 for end in ended if isinstance(end, BaseException)),
        "output_tail": text.strip().splitlines()[-8:],
        "owners_open_before_floor": owners_open,
        "floor_removal": floor,
        "last_gone_vs_floor_drain": round(last / floor["drain_s"], 3)
        if last is not None and floor["drain_s"]
        else None,
    }
