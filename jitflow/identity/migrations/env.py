"""Alembic environment for the identity store, run only through ``jitflow.identity.migrate``.

It migrates on the connection (and inside the transaction) that ``migrate.upgrade`` holds, so
the lock taken there covers every step, and no ``alembic.ini`` is needed.
"""

from __future__ import annotations

from alembic import context

from jitflow.identity.migrate import VERSION_TABLE
from jitflow.identity.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "jitflow's identity migrations run on start (jitflow.identity.migrate.upgrade), "
        "not from the alembic command line"
    )
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()
