"""Memory per cached workflow run, for the worker's sandbox settings (``python -m bench.memory_probe``).

Starts a Temporal dev server, then, for each setting, a worker in this process serving
``AccessRequest`` with every activity faked by name (``tests/workflows``' ``FakeActivities``),
starts ``--runs`` requests that wait for a decision (so each stays cached), and reports the
process's RSS growth per run. The settings: temporalio's default sandbox, the sandbox with
``workflows`` passed through (``JITFLOW_WORKFLOW_SANDBOX=on``), and the worker's default (no
sandbox; ``jitflow/worker_tuning.py``). Each setting runs in a process of its own, so one does
not inherit another's imported modules.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = ("default", "passthrough", "unsandboxed")


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


async def _measure(setting: str, runs: int) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "tests" / "workflows"))
    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.testing import WorkflowEnvironment
    from temporalio.worker import Worker
    from test_access_fake_activities import FakeActivities

    from jitflow.contracts.access import AccessRequestInput
    from jitflow.contracts.names import hooks_task_queue
    from jitflow.deployment import DeploymentSettings, set_current
    from jitflow.devstack.binaries import temporal_cli
    from jitflow.search_attributes import dev_server_args
    from jitflow.temporal import ensure_search_attributes
    from jitflow.worker_tuning import workflow_runner
    from workflows.access_request import AccessRequestWorkflow

    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_cli()),
        dev_server_extra_args=dev_server_args(),
        data_converter=pydantic_data_converter,
        ui=False,
    )
    try:
        await ensure_search_attributes(env.client)
        queue = f"memory-{uuid.uuid4().hex[:8]}"
        deployment = DeploymentSettings(name=queue, build_id="probe")
        options: dict[str, Any] = {"deployment_config": deployment.worker_config()}
        if setting == "passthrough":
            options["workflow_runner"] = workflow_runner({"JITFLOW_WORKFLOW_SANDBOX": "on"})
        elif setting == "unsandboxed":
            options["workflow_runner"] = workflow_runner({})
        fake = FakeActivities()
        request = AccessRequestInput(
            flow="plain", target="admin", requester="alice@example.com", reason="probe"
        )
        async with (
            Worker(
                env.client,
                task_queue=queue,
                workflows=[AccessRequestWorkflow],
                activities=[fake.resolve, fake.identity, fake.acquire, fake.release],
                max_cached_workflows=runs + 10,
                **options,
            ),
            Worker(
                env.client,
                task_queue=hooks_task_queue(queue),
                activities=[fake.permissions, fake.hook],
            ),
        ):
            await set_current(env.client, deployment)

            async def start() -> Any:
                return await env.client.start_workflow(
                    AccessRequestWorkflow.run, request, id=f"probe-{uuid.uuid4()}", task_queue=queue
                )

            await _wait_ready(await start())  # warms the imports
            gc.collect()
            before = _rss_mb()
            handles = [await start() for _ in range(runs)]
            for handle in handles[-5:]:
                await _wait_ready(handle)
            await asyncio.sleep(3)
            gc.collect()
            after = _rss_mb()
        return {
            "setting": setting,
            "runs": runs,
            "rss_before_mb": round(before, 1),
            "rss_after_mb": round(after, 1),
            "kb_per_run": round((after - before) * 1024 / runs),
        }
    finally:
        await env.shutdown()


async def _wait_ready(handle: Any, timeout: float = 120.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        state = await handle.query("status")
        if state["ready_for_decision"] if isinstance(state, dict) else state.ready_for_decision:
            return
        await asyncio.sleep(0.5)
    raise TimeoutError(f"{handle.id} not ready for a decision after {timeout:.0f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--setting", choices=SETTINGS, help="one setting, in this process")
    args = parser.parse_args()
    if args.setting:
        print(json.dumps(asyncio.run(_measure(args.setting, args.runs))))
        return
    results = []
    for setting in SETTINGS:
        command = [sys.executable, "-m", "bench.memory_probe", "--setting", setting]
        done = subprocess.run(
            [*command, "--runs", str(args.runs)], cwd=ROOT, capture_output=True, text=True
        )
        if done.returncode != 0:
            sys.exit(f"{setting}: probe failed:\n{done.stderr[-2000:]}")
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    for result in results:
        print(
            f"{result['setting']:>11}: {result['kb_per_run']} KB per cached run ({result['runs']} runs)"
        )


if __name__ == "__main__":
    main()
