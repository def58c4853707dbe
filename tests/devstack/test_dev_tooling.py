"""The first minutes on a fresh clone: a visible install, visible slow starts, clear mistakes.

``make install`` (run by ``make run`` and ``make test`` first) takes about a minute; it shows a
progress line instead of silence. A slow service start says it is still coming. A wrong
``--config`` or option is a sentence, not a traceback (issue 19).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from jitflow.cli.main import main
from jitflow.devstack.demo import after_demo
from jitflow.devstack.pip_progress import run_pip
from jitflow.devstack.stack import StackSettings, aptible_emulator_service
from jitflow.devstack.supervisor import Service, StackError, Supervisor

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("make") is None, reason="no make here")
def test_make_install_shows_progress_while_pip_runs() -> None:
    planned = subprocess.run(
        ["make", "--dry-run", "--always-make", "install"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert planned.returncode == 0, planned.stderr
    lines = planned.stdout.splitlines()
    announce = next(i for i, line in enumerate(lines) if "Installing jitflow" in line)
    installs = [i for i, line in enumerate(lines) if "pip_progress.py" in line]
    assert installs and announce < installs[0]
    assert not any("pip install --quiet" in line for line in lines)


def _fake_pip(*lines: str, code: int = 0) -> list[str]:
    script = "".join(f"print({line!r})\n" for line in lines) + f"raise SystemExit({code})\n"
    return [sys.executable, "-c", script]


def test_pip_progress_follows_pip_and_keeps_its_output(tmp_path: Path) -> None:
    log = tmp_path / "install.log"
    out = io.StringIO()
    lines = [f"Collecting package{n}" for n in range(30)] + ["Installing collected packages"]
    assert run_pip([], log, out, command=_fake_pip(*lines)) == 0
    shown = out.getvalue()
    assert "25 packages: package24" in shown  # off a terminal: a line every 25 packages
    assert "done in" in shown and str(log) in shown
    assert "Collecting package29" in log.read_text(encoding="utf-8")


def test_pip_progress_shows_the_end_of_the_log_when_pip_fails(tmp_path: Path) -> None:
    log = tmp_path / "install.log"
    out = io.StringIO()
    code = run_pip(
        [], log, out, command=_fake_pip("Collecting x", "ERROR: no such package", code=1)
    )
    assert code == 1
    assert "pip failed (exit 1)" in out.getvalue()
    assert "ERROR: no such package" in out.getvalue()


def test_a_slow_service_says_it_is_still_starting(tmp_path: Path) -> None:
    said: list[str] = []
    supervisor = Supervisor(tmp_path / "logs", progress=said.append, still_waiting_every=0.2)
    ready_at = time.monotonic() + 0.7
    try:
        supervisor.start(
            Service(
                name="slowpoke",
                argv=[sys.executable, "-c", "import time; time.sleep(30)"],
                ready=lambda: time.monotonic() > ready_at,
            )
        )
    finally:
        supervisor.stop_all()
    waiting = [line for line in said if "still waiting for slowpoke" in line]
    assert waiting, said
    assert "at most 60s" in waiting[0] and "slowpoke.log" in waiting[0]


def test_a_config_folder_without_emulator_state_is_named(tmp_path: Path) -> None:
    missing = StackSettings(state_dir=tmp_path / "state", config_dir=tmp_path / "nope")
    with pytest.raises(StackError, match=r"there is no folder .*nope"):
        aptible_emulator_service(missing)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(StackError, match=r"has no emulator-state\.json"):
        aptible_emulator_service(StackSettings(state_dir=tmp_path / "state", config_dir=empty))


def test_stop_after_demo_needs_demo() -> None:
    result = CliRunner().invoke(main, ["dev", "--stop-after-demo"])
    assert result.exit_code == 2
    assert "--stop-after-demo goes with --demo" in result.output


def test_an_unreadable_faults_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "faults.json"
    result = CliRunner().invoke(
        main, ["emulator", "aptible", "--port", "0", "--faults", f"@{missing}"]
    )
    assert result.exit_code == 2, result.output
    assert f"cannot read {str(missing)!r}" in result.output
    assert "Traceback" not in result.output


def test_after_the_demo_the_links_are_either_live_or_said_to_be_dead() -> None:
    settings = StackSettings(ui_port=18233)
    kept = after_demo(settings, "demo-1", keep_running=True, jitflow="jitflow")
    assert "http://127.0.0.1:18233/namespaces/default/workflows/demo-1" in kept
    assert "jitflow status demo-1" in kept and "Ctrl-C stops everything" in kept
    stopped = after_demo(settings, "demo-1", keep_running=False)
    assert "no longer works" in stopped
