"""Hints name jitflow the way it was run, and point at ``make run`` for the local stack (issue 19).

A person who typed ``.venv/bin/jitflow ...`` cannot paste ``jitflow status ID``; and the local
stack is started with ``make run``, not a bare ``temporal server start-dev``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from jitflow.cli.main import main
from jitflow.cli.naming import command_name, name_commands, unreachable_hint
from jitflow.devstack.demo import instructions
from jitflow.devstack.ports import free_port
from jitflow.devstack.stack import StackSettings

REPO = Path(__file__).resolve().parents[2]


def test_the_command_is_named_as_it_was_typed(tmp_path: Path) -> None:
    venv_bin = tmp_path / "repo" / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    script = venv_bin / "jitflow"
    script.write_text("#!/bin/sh\n", encoding="utf-8")
    script.chmod(0o755)
    repo = str(tmp_path / "repo")
    elsewhere = str(tmp_path)

    # Typed as a relative path: as typed.
    assert command_name(".venv/bin/jitflow", cwd=repo, search_path="") == ".venv/bin/jitflow"
    # Found on PATH (the kernel passes the full path): the bare name.
    assert command_name(str(script), cwd=elsewhere, search_path=str(venv_bin)) == "jitflow"
    # A full path not on PATH: relative to the current folder when below it, else in full.
    assert command_name(str(script), cwd=repo, search_path="") == ".venv/bin/jitflow"
    assert command_name(str(script), cwd=elsewhere, search_path="") == "repo/.venv/bin/jitflow"
    assert command_name(str(script), cwd="/", search_path="") == str(script).lstrip("/")
    # Another file of the same name on PATH does not make the bare name right.
    other_bin = tmp_path / "other"
    other_bin.mkdir()
    (other_bin / "jitflow").write_text("#!/bin/sh\n", encoding="utf-8")
    (other_bin / "jitflow").chmod(0o755)
    assert command_name(str(script), cwd=repo, search_path=str(other_bin)) == ".venv/bin/jitflow"
    # python -m jitflow: the interpreter as it can be typed.
    python = str(venv_bin / "python")
    module = str(REPO / "jitflow" / "__main__.py")
    assert (
        command_name(module, executable=python, cwd=repo, search_path="")
        == ".venv/bin/python -m jitflow"
    )
    # A test runner or an embedding says nothing about how a person runs jitflow.
    assert command_name("/usr/bin/pytest", cwd=repo, search_path="") == "jitflow"


def test_messages_name_commands_but_not_prose() -> None:
    text = (
        "use `jitflow approve ... --key KEY`, or jitflow users add-key bob@example.com KEY.pub; "
        "jitflow needs a key"
    )
    renamed = name_commands(text, ".venv/bin/jitflow")
    assert renamed == (
        "use `.venv/bin/jitflow approve ... --key KEY`, or .venv/bin/jitflow users add-key "
        "bob@example.com KEY.pub; jitflow needs a key"
    )
    assert name_commands(renamed, ".venv/bin/jitflow") == renamed  # renaming twice: no change
    module = name_commands("`jitflow status x`", "python3 -m jitflow")
    assert name_commands(module, "python3 -m jitflow") == "`python3 -m jitflow status x`"


def test_an_unreachable_local_temporal_points_at_make_run() -> None:
    for address in ("127.0.0.1:7233", "localhost:7233", "[::1]:7233"):
        assert "`make run`" in unreachable_hint(address)
    remote = unreachable_hint("temporal.example.com:7233")
    assert "make run" not in remote and "TEMPORAL_ADDRESS" in remote


def test_cli_errors_name_the_command_as_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", [".venv/bin/jitflow"])
    port = free_port()  # nothing listens there
    result = CliRunner().invoke(main, ["status", "demo-1", "--address", f"127.0.0.1:{port}"])
    assert result.exit_code == 1
    assert f"cannot reach Temporal at 127.0.0.1:{port}" in result.output
    assert "Connection refused" in result.output and "tonic" not in result.output
    assert "`make run`" in result.output and "start-dev" not in result.output
    assert "Traceback" not in result.output

    missing_key = CliRunner().invoke(
        main, ["approve", "demo-1", "--approver", "bob@example.com", "--key", "/no/such/key"]
    )
    assert missing_key.exit_code == 1
    assert "`.venv/bin/jitflow users add-key EMAIL FILE`" in missing_key.output


def test_the_printed_commands_use_the_name_jitflow_dev_was_run_by() -> None:
    block = instructions(StackSettings(), jitflow="jitflow", temporal="temporal")
    assert "\n  jitflow request --target admin_prod" in block
    assert '--input "$(jitflow sign approve demo-2' in block
    assert ".venv/bin" not in block


def test_the_console_script_names_itself_as_typed(tmp_path: Path) -> None:
    """The real entry point, run by a relative path from the repo folder as the README does."""
    port = free_port()
    done = subprocess.run(
        [".venv/bin/jitflow", "status", "x", "--address", f"127.0.0.1:{port}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "`make run`" in done.stderr


def test_an_unexpected_error_is_one_line_unless_debugging() -> None:
    """A bug still reaching the entry point: one line saying so, the traceback on request."""
    code = (
        "import jitflow.cli.main as m\n"
        "def boom(): raise RuntimeError('wires crossed')\n"
        "m.main = boom\n"
        "m.run()\n"
    )
    quiet = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO
    )
    assert quiet.returncode == 1
    assert "unexpected RuntimeError: wires crossed" in quiet.stderr
    assert "JITFLOW_DEBUG=1" in quiet.stderr and "Traceback" not in quiet.stderr
    loud = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={**os.environ, "JITFLOW_DEBUG": "1"},
    )
    assert loud.returncode == 1 and "Traceback" in loud.stderr
