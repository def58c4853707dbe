"""Each grant ticket names its membership and its end in columns of its own, so the expiry guard
finds the tickets of a membership without reading every ticket ever issued.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("issued_tickets") as batch:
        batch.add_column(sa.Column("org_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("role_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("user_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("not_after", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_issued_tickets_membership", ["org_id", "role_id", "user_id"])
    tickets = sa.table(
        "issued_tickets",
        sa.column("ticket_id", sa.String),
        sa.column("ticket", sa.Text),
        sa.column("org_id", sa.String),
        sa.column("role_id", sa.String),
        sa.column("user_id", sa.String),
        sa.column("not_after", sa.DateTime(timezone=True)),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(tickets.c.ticket_id, tickets.c.ticket)).all()
    for ticket_id, text in rows:
        body = json.loads(text)
        not_after = body.get("not_after")
        connection.execute(
            tickets.update()
            .where(tickets.c.ticket_id == ticket_id)
            .values(
                org_id=str(body["org_id"]).lower(),
                role_id=str(body["role_id"]).lower(),
                user_id=str(body["user_id"]).lower(),
                not_after=(
                    datetime.fromisoformat(not_after).astimezone(UTC) if not_after else None
                ),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("issued_tickets") as batch:
        batch.drop_index("ix_issued_tickets_membership")
        batch.drop_column("not_after")
        batch.drop_column("user_id")
        batch.drop_column("role_id")
        batch.drop_column("org_id")
