"""Fixtures of the identity tests: the same store suite runs on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jitflow.identity import IdentityStore
from jitflow.testing.postgres import PostgresServer, PostgresUnavailable, find_postgres_bin_dir


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL cluster for the session; skipped only when no binary exists."""
    try:
        find_postgres_bin_dir()
    except PostgresUnavailable as error:
        print(f"skipping PostgreSQL identity tests: {error}")
        pytest.skip(str(error))
    with PostgresServer() as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database on the session's cluster, dropped afterwards."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url.rsplit("/", 1)[1])


@pytest.fixture
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file in a folder that does not exist yet (the store must create it)."""
    return f"sqlite:///{tmp_path_factory.mktemp('identity') / 'nested' / 'jitflow.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """An empty database URL on each backend."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
def store(database_url: str) -> Iterator[IdentityStore]:
    with IdentityStore.open(database_url) as opened:
        yield opened
