"""`jitflow dev`: the whole local stack as child processes, and the scripted demo (issue 8)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from jitflow.devstack.ports import free_port
from jitflow.devstack.stack import StackSettings
from jitflow.devstack.supervisor import StackError, single_instance
from jitflow.testing.webui import find_chromium, render_text

REPO = Path(__file__).resolve().parents[2]


def _ports() -> dict[str, int]:
    return {
        "--temporal-port": free_port(),
        "--ui-port": free_port(),
        "--aptible-port": free_port(),
        "--aws-port": free_port(),
        "--slack-port": free_port(),
        "--front-door-port": free_port(),
    }


def _dev_command(state_dir: Path, ports: dict[str, int], *extra: str) -> list[str]:
    argv = [sys.executable, "-m", "jitflow", "dev", "--state-dir", str(state_dir), *extra]
    for option, port in ports.items():
        argv += [option, str(port)]
    return argv


def _stop(process: subprocess.Popen[str]) -> None:
    """Stop a ``jitflow dev`` the way Ctrl-C would, so that it stops its children too."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _read_until(process: subprocess.Popen[str], marker: str, timeout: float = 180) -> str:
    """What ``process`` printed up to and including the line holding ``marker``."""
    assert process.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    for line in process.stdout:
        seen.append(line)
        if marker in line:
            return "".join(seen)
        assert time.monotonic() < deadline, "".join(seen)
    raise AssertionError(f"{marker!r} never printed; exit {process.wait()}:\n{''.join(seen)}")


def test_demo_grants_and_revokes_then_keeps_the_stack_up_until_stopped(tmp_path: Path) -> None:
    ports = _ports()
    process = subprocess.Popen(
        _dev_command(tmp_path / "state", ports, "--demo"),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        out = _read_until(process, "Ctrl-C stops everything")
        for line in (
            "temporal is ready",
            "aptible-emulator is ready",
            "secrets-manager is ready",
            "worker is ready",
            "slack-emulator is ready",
            "slack-front-door is ready",
            "alice@example.com requested admin_prod",
            "Slack #access-requests: alice@example.com requests Admin Role for 10m",
            "[Approve] [Deny]",
            "bob@example.com clicked Approve; the emulator signed the click",
            "the front door told bob@example.com (ephemeral): You approved demo-",
            "escalated: alice@example.com is a member of the Admin Role in Aptible",
            "Access granted (approved by bob@example.com)",
            "Slack DM to alice@example.com: You now have Admin Role until",
            "alice@example.com revoked: deescalated",
            "de-escalated: the membership is gone; the request is deescalated",
            "Access removed (approved by bob@example.com); revoked by alice@example.com",
            "Slack DM to alice@example.com: Your access to Admin Role was removed",
            "Demo finished",
            "The stack stays up",
        ):
            assert line in out, out
        # Ordered as a person would see them.
        assert out.index("[Approve]") < out.index("clicked Approve") < out.index("escalated:")
        assert out.index("escalated:") < out.index("revoked") < out.index("was removed")
        # The link the demo printed works: the stack is still up after the demo.
        link = out.split("see it in the Web UI: ", 1)[1].split()[0]
        with urllib.request.urlopen(link, timeout=10) as page:
            assert page.status == 200
        # The Slack emulator recorded the loop: one message in #access-requests, updated in
        # place with each decision, and the requester's direct messages.
        workflow_id = link.rsplit("/", 1)[1]
        recorded = _slack_messages(out.split("every Slack message: ", 1)[1].split()[0])
        (announced,) = [m for m in recorded if workflow_id in json.dumps(m["blocks"])]
        assert announced["channel"] == "C0ACCESSREQ"
        assert [u["text"].split(": ", 1)[1] for u in announced["updates"]][-1] == "Access removed"
        dms = [m["text"] for m in recorded if m["channel"].startswith("D")]
        assert any("You now have *Admin Role*" in text for text in dms), dms
        assert any("Your access to *Admin Role* was removed" in text for text in dms), dms
        assert all(_listening(port) for port in ports.values())
        assert process.poll() is None

        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=60)
    finally:
        _stop(process)
    assert process.returncode == 0, rest
    assert "stopped temporal" in rest
    # No child is left listening.
    for port in ports.values():
        assert not _listening(port), f"port {port} still open after jitflow dev --demo"
    # State lives in the chosen folder, so requests survive a restart.
    assert (tmp_path / "state" / "temporal.db").exists()
    assert (tmp_path / "state" / "aptible-state.json").exists()


def _slack_messages(url: str) -> list[dict[str, Any]]:
    """What the Slack emulator recorded (``/_emulator/messages``, as printed)."""
    with urllib.request.urlopen(url, timeout=10) as page:
        messages: list[dict[str, Any]] = json.load(page)["messages"]
    return messages


def _printed_commands(printed: str, marker: str) -> list[str]:
    """The copy-paste command lines of the block that follows ``marker``."""
    block = printed.split(marker, 1)[1].split("\n\n", 1)[0]
    return [line.strip() for line in block.splitlines() if line.strip()]


def _run_printed(
    commands: list[str], exits: list[int] | None = None
) -> list[subprocess.CompletedProcess[str]]:
    """Run the lines as a person pasting them into another terminal would (in the repo folder);
    each must end with its expected exit status (0 unless ``exits`` says), never a traceback."""
    results = []
    env = dict(os.environ)
    for command in commands:
        if command.startswith("export "):
            name, _, value = command.removeprefix("export ").partition("=")
            env[name] = value
            continue
        result = subprocess.run(
            ["bash", "-c", command], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
        )
        wanted = exits[len(results)] if exits else 0
        assert result.returncode == wanted, f"{command}\n{result.stdout}{result.stderr}"
        assert "Traceback" not in result.stdout + result.stderr, command
        results.append(result)
    return results


def test_printed_commands_work_as_pasted_and_sigterm_stops_everything(tmp_path: Path) -> None:
    ports = _ports()
    process = subprocess.Popen(
        _dev_command(tmp_path / "state", ports),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        seen: list[str] = []
        deadline = time.monotonic() + 120
        for line in process.stdout:
            seen.append(line)
            if "Ctrl-C stops everything" in line:
                break
            assert time.monotonic() < deadline, "".join(seen)
        printed = "".join(seen)
        ui = f"http://127.0.0.1:{ports['--ui-port']}"
        assert f"{ui}/namespaces/default/workflows" in printed
        assert all(_listening(port) for port in ports.values())

        # jitflow's CLI: request (exit 3: pending), approve (escalated), list --active, revoke,
        # status.
        cli_block = _printed_commands(printed, "with jitflow's CLI:")
        request, approve, active, revoke, status = _run_printed(cli_block, [3, 0, 0, 0, 0])
        assert "status    pending" in request.stdout
        assert "status    escalated" in approve.stdout
        assert "demo-1" in active.stdout and "escalated" in active.stdout
        assert "deescalated" in revoke.stdout
        assert "status    deescalated" in status.stdout
        # make run announces requests in the Slack emulator's channel, at the printed address.
        slack_url = printed.split("(messages: ", 1)[1].split(",", 1)[0]
        (announced,) = [m for m in _slack_messages(slack_url) if "demo-1" in json.dumps(m)]
        assert announced["text"].startswith("alice@example.com requests Admin Role")
        assert "approved by bob@example.com" in json.dumps(announced["updates"])

        # Pasted a second time: every command says what happened; nothing starts a new run.
        request, approve, active, revoke, status = _run_printed(cli_block, [1, 4, 0, 4, 0])
        assert "request 'demo-1' has already ended (deescalated" in request.stderr
        assert "--new-run" in request.stderr
        assert "has ended, so nothing can change it" in approve.stderr + revoke.stderr
        assert "no active grants" in active.stdout
        assert "status    deescalated" in status.stdout

        # The temporal CLI: the same journey for a second request.
        start, t_approve, t_list, t_revoke, t_query = _run_printed(
            _printed_commands(printed, "Or with the temporal CLI:")
        )
        assert "demo-2" in start.stdout
        assert "approved" in t_approve.stdout, t_approve.stdout
        assert "demo-2" in t_list.stdout, t_list.stdout
        assert "deescalated" in t_revoke.stdout
        assert "deescalated" in t_query.stdout

        # The Web UI at the printed address finds the request by its JitRequester.
        chromium = find_chromium()
        if chromium is not None:
            query_url = printed.split("Watch them in the Web UI: ", 1)[1].split()[0]
            text = render_text(query_url, wait_for="demo-1", timeout=30)
            assert "demo-2" in text and "AccessRequest" in text
        else:
            print("no Chromium here: the Web UI part of this test did not run")

        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=60)
    finally:
        _stop(process)
    assert process.returncode == 0, rest
    assert "stopped temporal" in rest
    for port in ports.values():
        assert not _listening(port), f"port {port} still open after SIGTERM"


def test_a_killed_supervisor_leaves_no_server_behind(tmp_path: Path) -> None:
    ports = _ports()
    process = subprocess.Popen(
        _dev_command(tmp_path / "state", ports),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if "Ctrl-C stops everything" in line:
                break
        assert all(_listening(port) for port in ports.values())
        process.kill()  # no chance to clean up: the children must go by themselves
        process.wait(timeout=10)
        deadline = time.monotonic() + 30
        while any(_listening(port) for port in ports.values()):
            assert time.monotonic() < deadline, "a server outlived its killed supervisor"
            time.sleep(0.2)
    finally:
        _stop(process)


def test_a_second_stack_in_the_same_folder_is_refused(tmp_path: Path) -> None:
    lock = tmp_path / "dev.lock"
    refused = pytest.raises(StackError, match=rf"already running here \(pid {os.getpid()}\)")
    with single_instance(lock), refused, single_instance(lock):
        pass
    with single_instance(lock):  # released again
        pass


def test_a_taken_port_is_named_with_the_fix(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        ports = _ports() | {"--aptible-port": taken}
        result = subprocess.run(
            _dev_command(tmp_path / "state", ports, "--demo"),
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 1
    assert f"port {taken} on 127.0.0.1 is already in use" in result.stderr
    assert "--*-port" in result.stderr
    assert not _listening(ports["--temporal-port"]), "temporal left running after the failure"


def test_worker_environment_points_only_at_the_local_endpoints() -> None:
    settings = StackSettings(temporal_port=1, aptible_port=2, aws_port=3)
    env = settings.worker_env()
    assert env["TEMPORAL_ADDRESS"] == "127.0.0.1:1"
    assert env["APTIBLE_AUTH_ROOT_URL"] == "http://127.0.0.1:2"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:3"
