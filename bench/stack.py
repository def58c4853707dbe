"""The benchmark's own local stack: dev server, Aptible emulator, moto and the jitflow worker.

Built from ``jitflow.devstack`` (the services ``jitflow dev`` runs) on free loopback ports and a
temporary folder, which also holds the run's configuration (written from the example by
``bench.fixtures.prepare``: nothing in the work tree has to be generated first). The worker and
the emulator run a copy of the code taken at the start (``snapshot_code``). Two deliberate
differences, both in the emulator:

- it serves its state from memory (no ``--state`` file): with a file it rewrites and fsyncs the
  whole JSON document after every change, which at a thousand grants measures the emulator's
  disk writes rather than jitflow;
- lists come back in one page (``--per-page 1000``), as Aptible's own clients get them
  (``aptible-api.md``: "Aptible's own clients load auth lists in one request"); the emulator's
  default of 5 exists to exercise paging in tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.fixtures import BenchFixtures, emulator_state, prepare, seed_identities
from jitflow.devstack.ports import free_port
from jitflow.devstack.stack import (
    StackSettings,
    create_example_secret,
    secrets_manager_service,
    temporal_service,
    worker_service,
)
from jitflow.devstack.supervisor import Service, Supervisor, tcp_ready

REPO = Path(__file__).resolve().parents[1]


@dataclass
class RunningStack:
    fixtures: BenchFixtures
    """The configuration this run generated and its worker loaded, with the pairs to grant."""
    settings: StackSettings
    worker_pid: int
    floor_worker_pid: int
    worker_argv: list[str]
    log_dir: Path

    @property
    def emulator_admin_url(self) -> str:
        return f"{self.settings.aptible_url}/_emulator"


#: What the worker and the emulator run: copied at the start of a run (see ``snapshot_code``).
CODE = ("jitflow", "workflows", "activities", "reducers", "examples", "worker.py")


def snapshot_code(target: Path) -> Path:
    """Copy the project's code into ``target``: the services run that copy (``python -P`` with
    ``PYTHONPATH``), so that edits to the work tree during a run cannot change the code under
    measurement (commands started during the run import it then, and a sandboxed worker re-reads
    workflow modules for new and replayed runs)."""
    target.mkdir(parents=True, exist_ok=True)
    for name in CODE:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / name)
    return target


def _python(code: Path) -> list[str]:
    return [sys.executable, "-P"]  # -P: no cwd on sys.path; PYTHONPATH=code decides


def _emulator_service(settings: StackSettings, code: Path) -> Service:
    probe = tcp_ready(settings.aptible_port, settings.host)
    return Service(
        name="aptible-emulator",
        env={"PYTHONPATH": str(code)},
        argv=[
            *_python(code),
            "-m",
            "jitflow",
            "emulator",
            "aptible",
            "--host",
            settings.host,
            "--port",
            str(settings.aptible_port),
            "--per-page",
            "1000",
            "--log-level",
            "warning",
        ],
        ready=probe,
        ports=(settings.aptible_port,),
    )


def _worker_help(code: Path) -> str | None:
    """``jitflow worker --help``, or None while that command does not exist."""
    result = subprocess.run(
        [*_python(code), "-m", "jitflow", "worker", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(code)},
        check=False,
    )
    return result.stdout if result.returncode == 0 else None


def _worker(settings: StackSettings, log_dir: Path, code: Path) -> Service:
    """``jitflow worker --ready-file`` as ``jitflow dev`` runs it (``worker_service``), from the
    code snapshot. Until the command has that option, ``jitflow worker`` (or ``python
    worker.py``), ready once its log says it serves the task queue."""
    help_text = _worker_help(code)
    env = {**settings.worker_env(), "PYTHONPATH": str(code)}
    if help_text is not None and "--ready-file" in help_text:
        service = worker_service(settings)
        service.argv = [*_python(code), *service.argv[1:]]
        service.env = env
        return service
    log = log_dir / "worker.log"
    log.unlink(missing_ok=True)

    def ready() -> bool:
        try:
            return "jitflow worker serving" in log.read_text(errors="replace")
        except OSError:
            return False

    argv = [*_python(code), "-m", "jitflow", "worker"]
    if help_text is None:
        argv = [*_python(code), str(code / "worker.py")]
    return Service(name="worker", argv=argv, env=env, ready=ready, ready_timeout=90.0)


def child_pid(argv_fragment: str) -> int:
    """The pid of this process's direct child whose command line contains ``argv_fragment``."""
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == me and argv_fragment in cmdline:
            return int(entry.name)
    raise RuntimeError(f"no child process runs {argv_fragment!r}")


def _put_state(admin_url: str, state: dict[str, Any]) -> None:
    response = httpx.put(f"{admin_url}/state", json=state, timeout=30)
    response.raise_for_status()


@contextmanager
def bench_stack(
    echo: Any = print, worker_settings: Mapping[str, str] | None = None
) -> Iterator[RunningStack]:
    """Write the run's configuration and start everything on free ports, in a temporary folder;
    stop it all and delete the folder on the way out. ``worker_settings`` are environment
    variables for the jitflow worker only."""
    with tempfile.TemporaryDirectory(prefix="jitflow-bench-") as tmp:
        state_dir = Path(tmp)
        fixtures = prepare(state_dir / "config")
        settings = StackSettings(
            state_dir=state_dir,
            config_dir=fixtures.config_dir,
            temporal_port=free_port(),
            ui_port=free_port(),
            aptible_port=free_port(),
            aws_port=free_port(),
        )
        log_dir = Path(os.environ.get("JITFLOW_BENCH_LOGS", str(state_dir / "logs")))
        supervisor = Supervisor(log_dir, progress=lambda line: echo(line))
        try:
            supervisor.start(temporal_service(settings))
            code = snapshot_code(state_dir / "code")
            supervisor.start(_emulator_service(settings, code))
            admin = f"{settings.aptible_url}/_emulator"
            _put_state(admin, emulator_state(fixtures))
            supervisor.start(secrets_manager_service(settings))
            create_example_secret(settings)
            seed_identities(fixtures, settings.worker_env()["JITFLOW_DATABASE_URL"])
            worker = _worker(settings, log_dir, code)
            worker.env = {**worker.env, **(worker_settings or {})}
            supervisor.start(worker)
            worker_pid = child_pid(" ".join(worker.argv[1:]))
            floor = _floor_worker(settings)
            supervisor.start(floor)
            floor_pid = child_pid(" ".join(floor.argv[1:]))
            yield RunningStack(
                fixtures, settings, worker_pid, floor_pid, list(worker.argv), log_dir
            )
        finally:
            supervisor.stop_all()


def _floor_worker(settings: StackSettings) -> Service:
    ready_file = settings.state_dir / "floor-worker.ready"
    return Service(
        name="floor-worker",
        argv=[
            sys.executable,
            "-m",
            "bench.floor",
            "--address",
            settings.temporal_address,
            "--ready-file",
            str(ready_file),
        ],
        ready=ready_file.exists,
        ready_timeout=60.0,
    )
