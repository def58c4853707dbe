"""Sightings of roles jitflow did not create, so a removal knows when it cannot have been the
user's last role (and skips the eviction report's listing); the ledger gets an index by user for
the same question.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "standing_roles_seen",
        sa.Column("org_id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(64), primary_key=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_created_memberships_user", "created_memberships", ["org_id", "user_id"])


def downgrade() -> None:
    op.drop_index("ix_created_memberships_user", table_name="created_memberships")
    op.drop_table("standing_roles_seen")
