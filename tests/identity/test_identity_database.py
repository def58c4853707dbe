"""Database URLs, the default location, and the throwaway PostgreSQL harness itself."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest

from jitflow.identity import IdentityStore, InvalidValue
from jitflow.identity.database import (
    DEFAULT_DATABASE_URL,
    database_url_from_env,
    parse_database_url,
)
from jitflow.testing.postgres import PostgresServer, PostgresUnavailable, find_postgres_bin_dir


def test_the_url_comes_from_the_argument_then_the_environment_then_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("JITFLOW_DATABASE_URL", raising=False)
    assert database_url_from_env() == DEFAULT_DATABASE_URL == "sqlite:///.jitflow/jitflow.db"
    monkeypatch.setenv("JITFLOW_DATABASE_URL", "sqlite:///env.db")
    assert database_url_from_env() == "sqlite:///env.db"
    assert database_url_from_env("sqlite:///arg.db") == "sqlite:///arg.db"


def test_the_default_store_is_a_sqlite_file_under_dot_jitflow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JITFLOW_DATABASE_URL", raising=False)
    with IdentityStore.open() as store:
        store.create_user("a@example.com")
    assert (tmp_path / ".jitflow" / "jitflow.db").is_file()


def test_postgres_urls_use_psycopg_and_passwords_stay_hidden() -> None:
    url = parse_database_url("postgres://app:hunter2@db.internal:5432/jitflow")
    assert url.drivername == "postgresql+psycopg"
    with pytest.raises(InvalidValue, match="'mysql'") as raised:
        parse_database_url("mysql://app:hunter2@db/jitflow")
    assert "hunter2" not in str(raised.value)
    with pytest.raises(InvalidValue) as raised:
        parse_database_url("not a url hunter2")
    assert "hunter2" not in str(raised.value)


def test_a_store_repr_hides_the_password(postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database().replace("jitflow@", "jitflow:hunter2@")
    with IdentityStore.open(url) as store:  # trust authentication ignores the password
        assert "hunter2" not in repr(store) and "***" in repr(store)


def test_the_harness_starts_a_cluster_and_leaves_nothing_behind() -> None:
    try:
        find_postgres_bin_dir()
    except PostgresUnavailable as error:
        pytest.skip(str(error))
    server = PostgresServer().start()
    folder = server.socket_dir.parent
    pid = server._process.pid if server._process else None
    try:
        with psycopg.connect(server.conninfo()) as connection:
            row = connection.execute("SELECT current_user, inet_server_addr()::text").fetchone()
        assert row == ("jitflow", "127.0.0.1/32")
        unix = psycopg.connect(
            host=str(server.socket_dir), port=server.port, user="jitflow", dbname="postgres"
        )
        unix.close()
    finally:
        server.stop()
    assert not server.running
    assert not folder.exists()
    assert pid is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    server.stop()  # a second stop is harmless
