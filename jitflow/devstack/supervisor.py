"""Child processes that ``jitflow dev`` owns: started in order, checked for readiness, stopped together.

Each service runs in its own process group so that stopping the stack also stops whatever the
service itself spawned (the Temporal CLI starts the UI server, for one); nothing is left running
after Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO


class StackError(RuntimeError):
    """The local stack cannot start; the message says what to do about it."""


@dataclass
class Service:
    """One long-running child process and how to tell it is ready."""

    name: str
    argv: Sequence[str]
    ready: Callable[[], bool]
    env: Mapping[str, str] = field(default_factory=dict)
    ports: Sequence[int] = ()
    ready_timeout: float = 60.0


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def tcp_ready(port: int, host: str = "127.0.0.1") -> Callable[[], bool]:
    """A readiness probe that succeeds once something accepts connections on ``port``."""

    def probe() -> bool:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            return False

    return probe


@contextlib.contextmanager
def single_instance(lock_path: Path) -> Iterator[None]:
    """Refuse a second ``jitflow dev`` in the same folder instead of failing later on a port."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = lock_path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read().strip() or "unknown"
        handle.close()
        raise StackError(
            f"jitflow dev is already running here (pid {owner}); use that one, "
            f"or stop it with Ctrl-C in its terminal (or `kill {owner}`)"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()
        with contextlib.suppress(FileNotFoundError):
            lock_path.unlink()


class Supervisor:
    """Starts services in order and stops them all, newest first."""

    def __init__(
        self,
        log_dir: Path,
        progress: Callable[[str], None] = print,
        *,
        still_waiting_every: float = 10.0,
    ) -> None:
        """``still_waiting_every`` seconds, a service that is slow to start (Temporal creating
        its database on a first run) gets a line saying it is still coming, so that a long wait
        never looks like a hang."""
        self._log_dir = log_dir
        self._progress = progress
        self._still_waiting_every = still_waiting_every
        self._running: list[tuple[Service, subprocess.Popen[bytes], IO[bytes]]] = []

    def start(self, service: Service) -> None:
        """Start ``service`` and wait until it is ready."""
        self.start_together([service])

    def start_together(self, services: Sequence[Service]) -> None:
        """Launch services that do not need each other at once, then wait for each to be
        ready, so the stack starts in the time of the slowest rather than of all together.
        Every port is checked before anything is launched."""
        for service in services:
            for port in service.ports:
                if not port_is_free(port):
                    raise StackError(
                        f"{service.name}: port {port} on 127.0.0.1 is already in use; stop "
                        f"whatever holds it (`ss -ltnp 'sport = :{port}'` shows it) or choose "
                        "other ports with the jitflow dev --*-port options"
                    )
        launched = [(service, *self._launch(service)) for service in services]
        for service, process, log_path in launched:
            self._await_ready(service, process, log_path)

    def _launch(self, service: Service) -> tuple[subprocess.Popen[bytes], Path]:
        self._log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self._log_dir / f"{service.name}.log"
        log = log_path.open("ab")
        self._progress(f"  starting {service.name} ...")
        try:
            process = subprocess.Popen(
                list(service.argv),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **service.env},
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        except FileNotFoundError as error:
            log.close()
            raise StackError(f"{service.name}: cannot run {service.argv[0]!r}: {error}") from error
        self._running.append((service, process, log))
        return process, log_path

    def _await_ready(
        self, service: Service, process: subprocess.Popen[bytes], log_path: Path
    ) -> None:
        started = time.monotonic()
        deadline = started + service.ready_timeout
        next_note = started + self._still_waiting_every
        while not service.ready():
            if time.monotonic() >= next_note:
                self._progress(
                    f"  still waiting for {service.name} ({time.monotonic() - started:.0f}s of "
                    f"at most {service.ready_timeout:.0f}s; log: {log_path})"
                )
                next_note += self._still_waiting_every
            if process.poll() is not None:
                raise StackError(
                    f"{service.name} exited with code {process.returncode} while starting; "
                    f"its log ends with:\n{_tail(log_path)}"
                )
            if time.monotonic() > deadline:
                raise StackError(
                    f"{service.name} was not ready after {service.ready_timeout:.0f}s; "
                    f"its log ({log_path}) ends with:\n{_tail(log_path)}"
                )
            time.sleep(0.1)
        self._progress(f"  {service.name} is ready (log: {log_path})")

    def wait_for_exit(self, poll: float = 0.5) -> Service:
        """Block until one service exits by itself; the stack is not useful without it."""
        while True:
            for service, process, _ in self._running:
                if process.poll() is not None:
                    return service
            time.sleep(poll)

    def stop_all(self, grace: float = 10.0) -> None:
        while self._running:
            service, process, log = self._running.pop()
            if process.poll() is None:
                _signal_group(process, signal.SIGTERM)
                try:
                    process.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    _signal_group(process, signal.SIGKILL)
                    process.wait(timeout=grace)
            else:
                # The leader is gone; make sure nothing it started lingers.
                _signal_group(process, signal.SIGKILL)
            log.close()
            self._progress(f"  stopped {service.name}")


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to SIGTERM it if the supervisor dies, even by SIGKILL,
    so a killed ``jitflow dev`` never leaves servers holding its ports."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


_PR_SET_PDEATHSIG = 1


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])
