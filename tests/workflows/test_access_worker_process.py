"""``python worker.py`` as a process: it serves, then stops cleanly on SIGTERM; a bad
configuration stops it at once with the reason."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from access_stack import EXAMPLE_CONFIG, Stack

ROOT = Path(__file__).resolve().parents[2]


def _env(stack: Stack, moto_url: str, tmp: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        TEMPORAL_ADDRESS=stack.client.service_client.config.target_host,
        JITFLOW_CONFIG=str(EXAMPLE_CONFIG),
        JITFLOW_TASK_QUEUE=f"proc-{uuid.uuid4().hex[:8]}",
        JITFLOW_DATABASE_URL=f"sqlite:///{tmp / 'proc.db'}",
        APTIBLE_AUTH_ROOT_URL=stack.emulator.base_url,
        AWS_ENDPOINT_URL=moto_url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        **extra,
    )
    return env


@pytest.mark.asyncio(loop_scope="session")
async def test_worker_serves_then_stops_on_sigterm(
    dev_stack: Stack, moto_url: str, tmp_path: Path
) -> None:
    process = subprocess.Popen(
        [sys.executable, "worker.py"],
        cwd=ROOT,
        env=_env(dev_stack, moto_url, tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        deadline = time.monotonic() + 30
        seen = ""
        while "serving task queue" not in seen:
            line = process.stderr.readline()
            assert line or process.poll() is None, f"worker exited early: {seen}"
            seen += line
            assert time.monotonic() < deadline, f"worker did not start: {seen}"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_worker_refuses_a_missing_configuration(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    done = subprocess.run(
        [sys.executable, "-m", "jitflow", "worker", "--config", str(missing)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert str(missing) in done.stderr


@pytest.mark.asyncio(loop_scope="session")
async def test_worker_serves_before_its_aptible_preflight_ends(
    dev_stack: Stack, moto_url: str, tmp_path: Path
) -> None:
    """Aptible hangs on the bot's login: the worker serves at once all the same (a restart during
    an outage must not hold up removals while the preflight waits), and reports the preflight
    when it ends."""
    # Every login attempt the preflight makes hangs past the client's 10 s timeout.
    dev_stack.emulator.admin.fail_next("POST /tokens", "delay", count=5, delay_ms=45_000)
    process = subprocess.Popen(
        [sys.executable, "worker.py"],
        cwd=ROOT,
        env=_env(dev_stack, moto_url, tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        started = time.monotonic()
        seen = ""
        while "serving task queue" not in seen:
            line = process.stderr.readline()
            assert line or process.poll() is None, f"worker exited early: {seen}"
            seen += line
            assert time.monotonic() - started < 60, f"worker did not serve: {seen}"
        # Before the fix the preflight's warning came first, after its retries had run out.
        assert "preflight" not in seen, "the preflight ran before serving"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        dev_stack.emulator.admin.clear_faults()
