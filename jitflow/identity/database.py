"""Engines for the identity store: the database URL, SQLite's locking set-up, PostgreSQL's driver.

SQLite is shared by several processes (the worker, ``jitflow users`` ...): it runs in WAL mode,
waits for locks instead of failing (busy timeout), and starts every transaction that may write
with ``BEGIN IMMEDIATE`` so that two writers queue at the start instead of one failing when it
upgrades a read lock mid-transaction. A transaction the store opens only to read (``READ_ONLY``)
starts with a plain ``BEGIN``: WAL lets it read beside a writer, where taking the write lock made
every removal's ledger reads queue behind all the others' writes, each wait a busy-handler sleep
(``bench/README.md``, "the ledger's reads"). PostgreSQL needs nothing special beyond the
psycopg 3 driver.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

from jitflow.identity.errors import InvalidValue

DATABASE_URL_ENV = "JITFLOW_DATABASE_URL"
DEFAULT_DATABASE_URL = "sqlite:///.jitflow/jitflow.db"

#: Execution option of a connection whose transactions only read (see the module's docstring).
READ_ONLY = "jitflow_read_only"

#: How long a SQLite writer waits for another one before giving up.
SQLITE_BUSY_TIMEOUT_SECONDS = 30.0


def database_url_from_env(explicit: str | None = None) -> str:
    """``explicit`` if given, else ``$JITFLOW_DATABASE_URL``, else ``.jitflow/jitflow.db``."""
    return explicit or os.environ.get(DATABASE_URL_ENV) or DEFAULT_DATABASE_URL


def parse_database_url(raw: str) -> URL:
    """Parse and normalise: ``postgres://`` and ``postgresql://`` use the psycopg 3 driver."""
    try:
        url = make_url(raw.strip())
    except ArgumentError:
        # SQLAlchemy's message repeats the URL, password included: say it without.
        raise InvalidValue(
            "invalid database URL: expected sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
        ) from None
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise InvalidValue(
            f"unsupported database {url.get_backend_name()!r} in "
            f"{url.render_as_string(hide_password=True)!r}: use sqlite or postgresql"
        )
    return url


def safe_url(url: URL | str) -> str:
    """The URL with its password masked, for messages and reprs."""
    parsed = url if isinstance(url, URL) else make_url(url)
    return parsed.render_as_string(hide_password=True)


def _is_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:") or (url.database or "").startswith("file::memory")


def create_store_engine(raw_url: str) -> Engine:
    """An engine for ``raw_url``, creating the SQLite file's folder when needed."""
    url = parse_database_url(raw_url)
    if url.get_backend_name() == "postgresql":
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
    return _sqlite_engine(url)


def _enable_wal(cursor: Any, attempts: int = 100) -> None:
    """Switch a fresh database to WAL. SQLite may answer "database is locked" at once, without
    waiting on the busy timeout, while another process starting at the same moment does the
    same switch or migrates: wait and try again."""
    for attempt in range(attempts):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == attempts - 1:
                raise
            time.sleep(0.05)


def _sqlite_engine(url: URL) -> Engine:
    connect_args: dict[str, Any] = {"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}
    memory = _is_memory(url)
    if memory:
        # One shared connection, usable from asyncio.to_thread's worker threads.
        connect_args["check_same_thread"] = False
        engine = create_engine(url, connect_args=connect_args, poolclass=StaticPool)
    else:
        assert url.database is not None
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args=connect_args)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below decide how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if not memory:
                _enable_wal(cursor)
            cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_SECONDS * 1000)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        reads_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if reads_only else "BEGIN IMMEDIATE")

    return engine
