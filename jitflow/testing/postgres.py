"""A throwaway PostgreSQL cluster: ``initdb`` into a temp folder, ``postgres`` as a child process.

Used by the test suite to run the identity store against a real server. The server listens on a
free loopback port and on a unix socket inside its folder, trusts local connections (it is
reachable only from this machine and lives for one test session), and runs with fsync off.
PostgreSQL refuses to run as root, so under root it runs as the ``postgres`` OS user (or
``nobody``) and its folder is handed to that user. ``stop`` ends the server and removes the folder.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import psycopg
from psycopg import sql

from jitflow.devstack.ports import free_port

SUPERUSER = "jitflow"
_START_TIMEOUT_SECONDS = 30.0
_STOP_TIMEOUT_SECONDS = 10.0
_EXTRA_BIN_GLOB = "/usr/lib/postgresql/*/bin"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine (the message says where they were sought)."""


class PostgresError(RuntimeError):
    """The throwaway cluster could not be created or started; the message holds its log tail."""


def find_postgres_bin_dir() -> Path:
    """The folder of ``initdb`` and ``postgres``: PATH first, then Debian's versioned folders."""
    found = shutil.which("initdb")
    candidates = [Path(found).parent] if found else []
    versioned = sorted(glob.glob(_EXTRA_BIN_GLOB), key=_version_key, reverse=True)
    candidates += [Path(folder) for folder in versioned]
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "postgres").is_file():
            return folder
    raise PostgresUnavailable(
        f"PostgreSQL server binaries (initdb, postgres) not found on PATH nor in {_EXTRA_BIN_GLOB}"
    )


def _version_key(folder: str) -> tuple[int, ...]:
    version = Path(folder).parent.name
    return tuple(int(part) for part in version.split(".") if part.isdigit())


@dataclass(frozen=True)
class _RunAs:
    uid: int
    gid: int
    home: str

    @classmethod
    def for_current_user(cls) -> _RunAs | None:
        """None when not root; otherwise the unprivileged account to run PostgreSQL as."""
        if os.geteuid() != 0:
            return None
        for name in ("postgres", "nobody"):
            try:
                entry = pwd.getpwnam(name)
            except KeyError:
                continue
            return cls(entry.pw_uid, entry.pw_gid, entry.pw_dir)
        raise PostgresError("running as root and neither a `postgres` nor a `nobody` user exists")

    def popen_kwargs(self) -> dict[str, Any]:
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


class PostgresServer:
    """One throwaway cluster; use as a context manager or call ``start``/``stop``."""

    def __init__(self, port: int | None = None) -> None:
        self.host = "127.0.0.1"
        self.port = port if port is not None else free_port(self.host)
        self._bin: Path | None = None
        self._folder: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._run_as: _RunAs | None = None
        self._databases = 0

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"PostgresServer({self.host}:{self.port}, {state})"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def socket_dir(self) -> Path:
        assert self._folder is not None, "server not started"
        return self._folder / "socket"

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL of ``database`` over TCP on loopback."""
        return f"postgresql+psycopg://{SUPERUSER}@{self.host}:{self.port}/{database}"

    def conninfo(self, database: str = "postgres") -> str:
        """libpq connection string of ``database``, for psycopg directly."""
        return f"host={self.host} port={self.port} user={SUPERUSER} dbname={database}"

    def start(self) -> PostgresServer:
        if self._process is not None:
            raise PostgresError(f"{self!r} was already started")
        self._bin = find_postgres_bin_dir()
        self._run_as = _RunAs.for_current_user()
        self._folder = Path(tempfile.mkdtemp(prefix="jitflow-pg-"))
        try:
            self._initdb()
            self._launch()
        except BaseException:
            self.stop()
            raise
        return self

    def _own(self, path: Path) -> None:
        if self._run_as is not None:
            os.chown(path, self._run_as.uid, self._run_as.gid)

    def _run_kwargs(self) -> dict[str, Any]:
        env = {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C", "LANG": "C"}
        if self._run_as is not None:
            env["HOME"] = self._run_as.home
            return {"env": env, **self._run_as.popen_kwargs()}
        return {"env": {**env, "HOME": os.environ.get("HOME", "/tmp")}}

    def _initdb(self) -> None:
        assert self._folder is not None and self._bin is not None
        self._own(self._folder)
        self.socket_dir.mkdir()
        self._own(self.socket_dir)
        result = subprocess.run(
            [
                str(self._bin / "initdb"),
                "--pgdata",
                str(self._folder / "data"),
                "--username",
                SUPERUSER,
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            cwd=self._folder,
            check=False,
            **self._run_kwargs(),
        )
        if result.returncode != 0:
            output = (result.stdout + result.stderr).decode(errors="replace")[-2000:]
            raise PostgresError(f"initdb failed with code {result.returncode}:\n{output}")

    def _launch(self) -> None:
        assert self._folder is not None and self._bin is not None
        log_path = self._folder / "postgres.log"
        log_path.touch()
        self._own(log_path)
        settings = {
            "listen_addresses": self.host,
            "port": str(self.port),
            "unix_socket_directories": str(self.socket_dir),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "100",
            "shared_buffers": "32MB",
            "logging_collector": "off",
        }
        command = [str(self._bin / "postgres"), "-D", str(self._folder / "data")]
        for name, value in settings.items():
            command += ["-c", f"{name}={value}"]
        with log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                cwd=self._folder,
                start_new_session=True,
                **self._run_kwargs(),
            )
        self._wait_until_ready(log_path)

    def _wait_until_ready(self, log_path: Path) -> None:
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise PostgresError(
                    f"postgres exited with code {self._process.returncode}:\n{_tail(log_path)}"
                )
            try:
                with psycopg.connect(self.conninfo(), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                time.sleep(0.05)
        raise PostgresError(
            f"postgres did not accept connections on {self.host}:{self.port} within "
            f"{_START_TIMEOUT_SECONDS:.0f} s:\n{_tail(log_path)}"
        )

    def create_database(self, name: str | None = None) -> str:
        """Create an empty database (a fresh name unless given) and return its SQLAlchemy URL."""
        self._databases += 1
        database = name or f"test_{os.getpid()}_{self._databases}"
        with psycopg.connect(self.conninfo(), autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        return self.url(database)

    def drop_database(self, name: str) -> None:
        """Drop ``name``, closing whatever connections are still open to it."""
        with psycopg.connect(self.conninfo(), autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def stop(self) -> None:
        """Fast shutdown (SIGINT), SIGKILL if it lingers, then remove the folder; safe to repeat."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=_STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        folder, self._folder = self._folder, None
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _tail(path: Path, limit: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-limit:]
    except OSError:
        return "(no log)"
