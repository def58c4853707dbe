"""People's signing keys, the nonces of decision proofs already used, and the grants that ended.

Revision ID: 0002
Revises: 0001
Create Date: 2025-06-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_keys",
        sa.Column(
            "email",
            sa.String(320),
            sa.ForeignKey("users.email", ondelete="CASCADE", name="fk_user_keys_user"),
            primary_key=True,
        ),
        sa.Column("fingerprint", sa.String(64), primary_key=True),
        sa.Column("public_key", sa.String(1000), nullable=False),
        sa.Column("comment", sa.String(1000), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("fingerprint", name="uq_user_keys_fingerprint"),
    )
    op.create_table(
        "used_proofs",
        sa.Column("nonce", sa.String(128), primary_key=True),
        sa.Column("workflow_id", sa.String(1000), nullable=False),
        sa.Column("run_id", sa.String(128), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
    )

    op.create_table(
        "closed_grants",
        sa.Column("ticket_id", sa.String(1200), primary_key=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("closed_grants")
    op.drop_table("used_proofs")
    op.drop_table("user_keys")
