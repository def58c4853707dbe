"""The worker's Prometheus endpoint (``jitflow/worker_metrics.py``): off unless asked, a bad
address refused with the value named, and temporalio's metrics served where asked."""

from __future__ import annotations

import asyncio
import socket
import urllib.request
import uuid

import pytest
from temporalio import workflow
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from jitflow.worker_metrics import METRICS_ENV, metrics_address, metrics_runtime


def test_metrics_are_off_unless_an_address_is_given() -> None:
    assert metrics_address({}) is None
    assert metrics_address({METRICS_ENV: "  "}) is None
    assert metrics_address({METRICS_ENV: " 0.0.0.0:9464 "}) == "0.0.0.0:9464"
    assert metrics_address({METRICS_ENV: "[::1]:9464"}) == "[::1]:9464"


@pytest.mark.parametrize(
    "bad",
    [
        "9464",
        "localhost",
        "localhost:9464",
        "host:port",
        "127.0.0.1:0",
        "1.2.3.4:70000",
        "::1:9464",
    ],
)
def test_a_bad_metrics_address_is_refused_naming_it(bad: str) -> None:
    with pytest.raises(ValueError) as raised:
        metrics_address({METRICS_ENV: bad})
    assert f"{METRICS_ENV}={bad!r}" in str(raised.value)


def test_the_worker_reports_a_bad_metrics_address_with_its_other_settings() -> None:
    from worker import WorkerConfigError, check_worker_settings

    with pytest.raises(WorkerConfigError) as raised:
        check_worker_settings({METRICS_ENV: "everywhere", "JITFLOW_WORKFLOW_CACHE": "lots"})
    assert "'everywhere'" in str(raised.value) and "'lots'" in str(raised.value)


@workflow.defn(name="MetricsProbe")
class _Probe:
    @workflow.run
    async def run(self) -> str:
        return "done"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _scrape(address: str) -> str:
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=5) as response:
        return str(response.read().decode())


@pytest.mark.asyncio(loop_scope="session")
async def test_a_worker_on_the_metrics_runtime_serves_its_workflow_task_metrics(
    dev_env: WorkflowEnvironment,
) -> None:
    """What an operator watches when many grants end together: workflow task schedule-to-start
    and sticky cache hits, by workflow type."""
    address = f"127.0.0.1:{_free_port()}"
    runtime = metrics_runtime(address)
    client = await Client.connect(
        dev_env.client.service_client.config.target_host,
        namespace=dev_env.client.namespace,
        runtime=runtime,
    )
    queue = f"metrics-{uuid.uuid4()}"
    async with Worker(client, task_queue=queue, workflows=[_Probe]):
        result = await client.execute_workflow(
            _Probe.run, id=f"probe-{uuid.uuid4()}", task_queue=queue
        )
        assert result == "done"
        text = await asyncio.to_thread(_scrape, address)
    assert "temporal_workflow_task_schedule_to_start_latency" in text
    assert 'workflow_type="MetricsProbe"' in text
    assert "temporal_sticky_cache_size" in text
