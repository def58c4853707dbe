"""``make chaos``: grants through the ``temporal`` CLI while everything goes wrong, then the count.

A script, not a test (it takes minutes): N grants (default 200) are started with ``temporal
workflow start``, approved with signed decisions and left to expire, while the Aptible emulator
fails a share of calls (5xx before the change, 5xx after it, 429 with Retry-After, dropped
connections), the worker is SIGKILLed every K seconds and started again, and the Temporal dev
server is restarted once on its on-disk database. Then it prints, and writes as JSON:

- escalated once / N: requests that ended ``deescalated`` after their membership was seen (the
  grant on the standing membership's pair: ended ``deescalated`` with that membership kept);
- extra creations: memberships created more than once for one grant;
- leftover memberships: any membership of a target role that is neither standing nor live;
- standing kept: a membership that existed before is still there;
- worst revocation lag: the latest removal after a grant's end.

Usage: ``python -m bench.chaos [--grants N] [--kill-every K] [--out FILE]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bench.fixtures import APPROVER, FLOW, Pair
from bench.measure import Grant, send_decision
from bench.stack import RunningStack, bench_stack, child_pid
from jitflow.contracts.access import AccessState
from jitflow.devstack.binaries import temporal_cli
from jitflow.devstack.stack import temporal_service
from jitflow.temporal import connect

DURATION = 60
"""Each grant's length, in seconds (one of the benchmark flow's allowed durations)."""


@dataclass
class Watch:
    """What the emulator showed of one grant's membership over time."""

    pair: Pair
    workflow_id: str
    seen_ids: set[str] = field(default_factory=set)
    present_at: float | None = None
    gone_at: float | None = None


def _state(admin: str) -> dict[str, Any]:
    response = httpx.get(f"{admin}/state", timeout=30)
    response.raise_for_status()
    data: dict[str, Any] = response.json()
    return data


def _put(admin: str, path: str, body: Any) -> None:
    httpx.put(f"{admin}{path}", json=body, timeout=30).raise_for_status()


async def _watch_state(http: httpx.AsyncClient, admin: str) -> dict[str, Any]:
    """The emulator's state without blocking the event loop, which also sends the approvals:
    a blocking read here delayed every decision and query by its own latency."""
    response = await http.get(f"{admin}/state", timeout=30)
    response.raise_for_status()
    data: dict[str, Any] = response.json()
    return data


class WorkerKiller:
    """Runs the worker, SIGKILLs it every ``every`` seconds and starts it again."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path, every: float) -> None:
        self.argv, self.env, self.log, self.every = argv, env, log, every
        self.process: subprocess.Popen[bytes] | None = None
        self.kills = 0

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(self.argv, env=self.env, stdout=out, stderr=out)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            self.kills += 1

    async def run(self, until: asyncio.Event) -> None:
        last = time.monotonic()
        while not until.is_set():
            await asyncio.sleep(0.5)
            if time.monotonic() - last >= self.every:
                last = time.monotonic()
                self.kill()
                self.start()
            elif self.process is not None and self.process.poll() is not None:
                self.start()  # it exited on its own (the server was restarting): start again


def _restart_temporal(stack: RunningStack, log: Path) -> subprocess.Popen[bytes]:
    """SIGKILL the dev server and start it again on the same database and ports."""
    service = temporal_service(stack.settings)
    pid = child_pid(" ".join(service.argv[1:3]))
    os.kill(pid, signal.SIGKILL)
    time.sleep(1)
    with log.open("ab") as out:
        return subprocess.Popen(
            service.argv, env={**os.environ, **service.env}, stdout=out, stderr=out
        )


def _start(stack: RunningStack, pair: Pair, workflow_id: str) -> None:
    body = {
        "flow": FLOW,
        "target": pair.target,
        "requester": pair.email,
        "duration": f"{DURATION}s",
        "reason": "chaos: investigate incident 42",
    }
    for _ in range(20):
        done = subprocess.run(
            [str(temporal_cli()), "workflow", "start", "--address",
             stack.settings.temporal_address, "--type", "AccessRequest", "--task-queue",
             "jitflow", "--workflow-id", workflow_id, "--input", json.dumps(body)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        if done.returncode == 0 or "already" in done.stderr.lower():
            return
        time.sleep(1)  # the server may be restarting
    raise RuntimeError(f"could not start {workflow_id}: {done.stderr}")


async def _approve(client: Any, watch: Watch) -> None:
    handle = client.get_workflow_handle(watch.workflow_id, result_type=AccessState)
    while True:
        try:
            state: AccessState = await handle.query("status", result_type=AccessState)
            if state.final or state.status != "pending":
                return
            if state.ready_for_decision and state.aptible_user_id:
                run_id = (await handle.describe()).run_id
                pinned = client.get_workflow_handle(
                    watch.workflow_id, run_id=run_id, first_execution_run_id=run_id
                )
                grant = Grant(
                    pair=watch.pair, handle=pinned, started=time.time(), duration=DURATION
                )
                await send_decision(grant, "approve", APPROVER, None)
                return
        except Exception:  # the worker or the server is down this moment: try again
            pass
        await asyncio.sleep(0.5)


async def main(args: argparse.Namespace) -> int:
    with bench_stack(echo=lambda line: print(line, flush=True)) as stack:
        admin = stack.emulator_admin_url
        log = stack.log_dir / "chaos-worker.log"
        # Our own worker process, killed and restarted on a timer.
        os.kill(stack.worker_pid, signal.SIGKILL)
        env = {
            **os.environ,
            **stack.settings.worker_env(),
            "PYTHONPATH": str(stack.settings.state_dir / "code"),
        }
        killer = WorkerKiller(stack.worker_argv, env, log, args.kill_every)
        killer.start()
        pairs = list(stack.fixtures.pairs)[: args.grants]
        # A standing membership in a role one grant targets: it must survive.
        state = _state(admin)
        standing = {"id": "5ad0c000-0000-4000-8000-000000000001", "role_id": pairs[0].role_id,
                    "user_id": pairs[0].user_id, "privileged": False,
                    "created_at": "2026-01-01T00:00:00Z"}  # fmt: skip
        state["memberships"].append(standing)
        _put(admin, "/state", state)
        before = {(m["role_id"], m["user_id"]) for m in _state(admin)["memberships"]}
        faults = {"seed": args.seed, "error_rate": args.error_rate, "rate_limit_rate": args.rate_limit,
                  "retry_after": 1, "drop_rate": args.drop_rate,
                  "scripted": [{"route": "POST /roles/{role}/memberships", "kind": "error",
                                "phase": "after", "count": max(1, args.grants // 10)},
                               {"route": "DELETE /memberships/{membership}", "kind": "error",
                                "phase": "after", "count": max(1, args.grants // 10)}]}  # fmt: skip
        _put(admin, "/faults", faults)

        watches = [Watch(pair, f"chaos-{i:04d}") for i, pair in enumerate(pairs)]
        started = time.monotonic()
        stop = asyncio.Event()
        chaos = asyncio.create_task(killer.run(stop))
        with ThreadPoolExecutor(8) as pool:
            await asyncio.gather(
                *(
                    asyncio.get_running_loop().run_in_executor(
                        pool, _start, stack, w.pair, w.workflow_id
                    )
                    for w in watches
                )
            )
        client = await connect(stack.settings.temporal_address, "default")
        approvals = asyncio.gather(*(_approve(client, w) for w in watches))
        restarted: subprocess.Popen[bytes] | None = None
        deadline = started + args.timeout
        by_pair = {(w.pair.role_id, w.pair.user_id): w for w in watches}
        last_check = 0.0
        http = httpx.AsyncClient()
        while time.monotonic() < deadline:
            try:
                memberships = (await _watch_state(http, admin))["memberships"]
            except httpx.HTTPError:
                await asyncio.sleep(0.5)
                continue
            now = time.monotonic()
            present = {}
            for m in memberships:
                present[(m["role_id"], m["user_id"])] = m["id"]
            for pair_key, watch in by_pair.items():
                if pair_key in present and present[pair_key] != standing["id"]:
                    watch.seen_ids.add(present[pair_key])
                    if watch.present_at is None:
                        watch.present_at = now
                elif (
                    watch.present_at is not None
                    and watch.gone_at is None
                    and pair_key not in present
                ):
                    watch.gone_at = now
            if restarted is None and now - started > args.restart_after:
                restarted = await asyncio.to_thread(
                    _restart_temporal, stack, stack.log_dir / "chaos-temporal.log"
                )
            if approvals.done() and now - last_check > 5:
                last_check = now
                if await _all_closed(client, watches):
                    break
            await asyncio.sleep(0.5)
        stop.set()
        await chaos
        await http.aclose()
        _put(admin, "/faults", {})
        finals = await _finals(client, watches)
        after = {(m["role_id"], m["user_id"]) for m in _state(admin)["memberships"]}
        killer.kill()
        if restarted is not None:
            restarted.send_signal(signal.SIGKILL)
    lags = [w.gone_at - (w.present_at + DURATION) for w in watches if w.gone_at and w.present_at]
    standing_pair = (standing["role_id"], standing["user_id"])
    result = {
        "grants": len(watches),
        # The grant on the standing pair finds the membership already there and never creates
        # one: it counts when it ended deescalated with the standing membership untouched.
        "escalated_once": sum(
            1
            for w in watches
            if finals.get(w.workflow_id) == "deescalated"
            and (w.present_at or (w.pair.role_id, w.pair.user_id) == standing_pair)
        ),
        "extra_creations": sum(max(0, len(w.seen_ids) - 1) for w in watches),
        "leftover_memberships": len(
            (after - before)
            | {
                p
                for p in after & {(w.pair.role_id, w.pair.user_id) for w in watches}
                if p != standing_pair
            }
        ),
        "standing_kept": standing_pair in after,
        "worst_revocation_lag_s": round(max(lags), 1) if lags else None,
        "not_seen_escalated": [
            w.workflow_id
            for w in watches
            if w.present_at is None and (w.pair.role_id, w.pair.user_id) != standing_pair
        ],
        "worker_kills": killer.kills,
        "temporal_restarted": restarted is not None,
        "statuses": {s: list(finals.values()).count(s) for s in set(finals.values())},
        "settings": vars(args),
        "at": datetime.now().isoformat(timespec="seconds"),
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    for name in (
        "grants",
        "escalated_once",
        "extra_creations",
        "leftover_memberships",
        "standing_kept",
        "worst_revocation_lag_s",
        "worker_kills",
        "temporal_restarted",
        "statuses",
    ):
        print(f"{name:28} {result[name]}")
    ok = (result["escalated_once"] == result["grants"] and result["extra_creations"] == 0
          and result["leftover_memberships"] == 0 and result["standing_kept"])  # fmt: skip
    return 0 if ok else 1


async def _all_closed(client: Any, watches: list[Watch]) -> bool:
    try:
        for watch in watches:
            description = await client.get_workflow_handle(watch.workflow_id).describe()
            if description.status is None or description.status.name == "RUNNING":
                return False
    except Exception:
        return False
    return True


async def _finals(client: Any, watches: list[Watch]) -> dict[str, str]:
    finals: dict[str, str] = {}
    for watch in watches:
        for _ in range(60):
            try:
                state: AccessState = await client.get_workflow_handle(watch.workflow_id).query(
                    "status", result_type=AccessState
                )
                finals[watch.workflow_id] = state.status
                break
            except Exception:
                await asyncio.sleep(1)
    return finals


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.chaos", description=__doc__.split("\n\n")[0])
    parser.add_argument("--grants", type=int, default=200)
    parser.add_argument("--kill-every", type=float, default=10.0)
    parser.add_argument(
        "--restart-after", type=float, default=40.0, help="seconds until the dev server restart"
    )
    parser.add_argument("--error-rate", type=float, default=0.3)
    parser.add_argument("--rate-limit", type=float, default=0.1)
    parser.add_argument("--drop-rate", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--timeout", type=float, default=480.0, help="give up after this many seconds"
    )
    parser.add_argument("--out", default="bench/chaos-results.json")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
