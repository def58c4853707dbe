"""Create or upgrade the identity schema on start, with Alembic driven from code (no alembic.ini).

Several processes may start at once against one database: the whole upgrade runs in one
transaction that first takes a lock (``BEGIN IMMEDIATE`` on SQLite, an advisory lock on
PostgreSQL), so the second process waits and then finds the schema already current.

Alembic is imported only when there is something to migrate: a worker keeps every module it
imports for its whole life, and Alembic is 11 MB of it, for a check that on nearly every start
finds the schema current. That check reads the version table with SQLAlchemy and compares it
with the newest migration's ``revision`` line (``shipped_head``, which the tests hold equal to
Alembic's own answer).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

from jitflow.identity.database import READ_ONLY

if TYPE_CHECKING:
    from alembic.config import Config

#: Alembic's version table, named for jitflow so that it can share a database with other apps.
VERSION_TABLE = "jitflow_schema_version"

_MIGRATIONS = Path(__file__).with_name("migrations")
#: Arbitrary constant key of the PostgreSQL advisory lock held while migrating.
_PG_LOCK_KEY = 0x6A6974666C6F77


#: A migration file's ``revision`` / ``down_revision`` line with a quoted id or None; a file whose
#: lines are anything else (a merge's tuple) makes ``shipped_head`` hand the check to Alembic.
_REVISION = re.compile(r"""^revision\b[^=\n]*=\s*(?:"([^"\n]+)"|'([^'\n]+)')\s*$""", re.MULTILINE)
_DOWN_REVISION = re.compile(
    r"""^down_revision\b[^=\n]*=\s*(?:"([^"\n]+)"|'([^'\n]+)'|(None))\s*$""", re.MULTILINE
)


class SchemaUnknown(Exception):
    """The database's schema revision is none this jitflow ships (a newer jitflow migrated it)."""


def _config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration shipped with this jitflow, as Alembic reads it."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at; ``None`` before the first migration."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to the newest schema; a no-op when it is already there.

    ``revision`` stops at an older one, so that tests can build a database as an earlier jitflow
    left it and check that upgrading it keeps its data.
    """
    if revision == "head":
        head = shipped_head()
        if head is not None and stored_revision(engine) == head:
            return
    from alembic import command
    from alembic.util import CommandError

    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        try:
            command.upgrade(_config(connection), revision)
        except CommandError as error:
            raise SchemaUnknown(
                f"Alembic could not bring its schema to this jitflow's ({error}); a schema "
                f"revision this jitflow does not ship means a newer jitflow migrated it"
            ) from None


def shipped_head() -> str | None:
    """The newest migration shipped, from the migration files' ``revision`` and
    ``down_revision`` lines: the one revision no other migration follows. ``None`` when a file
    says it another way (or the files have no single head): then Alembic decides."""
    revisions: set[str] = set()
    followed: set[str] = set()
    for path in (_MIGRATIONS / "versions").glob("*.py"):
        if path.name == "__init__.py":
            continue
        source = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(source), _DOWN_REVISION.search(source)
        if revision is None or down is None:
            return None
        revisions.add(revision.group(1) or revision.group(2))
        if down.group(3) is None:
            followed.add(down.group(1) or down.group(2))
    heads = revisions - followed
    return heads.pop() if len(heads) == 1 else None


def stored_revision(engine: Engine) -> str | None:
    """The revision in the version table, read without Alembic (and, on SQLite, without the
    write lock); ``None`` without the table."""
    with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        row = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).first()
    return None if row is None else str(row[0])
