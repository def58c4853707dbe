"""Create or upgrade the identity schema on start, with Alembic driven from code (no alembic.ini).

Several processes may start at once against one database: the whole upgrade runs in one
transaction that first takes a lock (``BEGIN IMMEDIATE`` on SQLite, an advisory lock on
PostgreSQL), so the second process waits and then finds the schema already current.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

#: Alembic's version table, named for jitflow so that it can share a database with other apps.
VERSION_TABLE = "jitflow_schema_version"

_MIGRATIONS = Path(__file__).with_name("migrations")
#: Arbitrary constant key of the PostgreSQL advisory lock held while migrating.
_PG_LOCK_KEY = 0x6A6974666C6F77


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration shipped with this jitflow."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at; ``None`` before the first migration."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to the newest schema; a no-op when it is already there.

    ``revision`` stops at an older one, so that tests can build a database as an earlier jitflow
    left it and check that upgrading it keeps its data.
    """
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        command.upgrade(_config(connection), revision)
