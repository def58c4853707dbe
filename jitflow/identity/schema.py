"""The identity tables as SQLAlchemy Core metadata.

The migrations under ``migrations/versions`` create exactly this; a test compares the two, so
a change here without a new migration fails the suite.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("first_name", String(200), nullable=True),
    Column("last_name", String(200), nullable=True),
    Column("role", String(16), nullable=False, server_default="member"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("role IN ('admin', 'member', 'guest')", name="ck_users_role"),
    CheckConstraint("email = lower(email)", name="ck_users_email_lower"),
)

identities = Table(
    "identities",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "user_id",
        Integer,
        ForeignKey("users.id", ondelete="CASCADE", name="fk_identities_user"),
        nullable=False,
    ),
    Column("service_type", String(64), nullable=False),
    Column("external_id", String(512), nullable=False),
    Column("service_user_id", String(512), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("user_id", "service_type", "external_id", name="uq_identities_key"),
)

user_keys = Table(
    "user_keys",
    metadata,
    Column(
        "email",
        String(320),
        ForeignKey("users.email", ondelete="CASCADE", name="fk_user_keys_user"),
        primary_key=True,
    ),
    Column("fingerprint", String(64), primary_key=True),
    Column("public_key", String(1000), nullable=False),
    Column("comment", String(1000), nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
    # One key belongs to one person: a signature must name exactly one decider.
    UniqueConstraint("fingerprint", name="uq_user_keys_fingerprint"),
)
"""People's OpenSSH Ed25519 public keys (``jitflow users add-key``), which sign their decisions."""

used_proofs = Table(
    "used_proofs",
    metadata,
    Column("nonce", String(128), primary_key=True),
    Column("workflow_id", String(1000), nullable=False),
    Column("run_id", String(128), nullable=False),
    Column("action", String(32), nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=False),
)
"""Nonces of decision proofs already acted on, and where, so that no proof is replayed elsewhere."""

closed_grants = Table(
    "closed_grants",
    metadata,
    Column("ticket_id", String(1200), primary_key=True),
    Column("closed_at", DateTime(timezone=True), nullable=False),
)
"""Grants that ended (``<request workflow id>/<run id>``): their tickets never add again."""

created_memberships = Table(
    "created_memberships",
    metadata,
    Column("org_id", String(64), primary_key=True),
    Column("role_id", String(64), primary_key=True),
    Column("user_id", String(64), primary_key=True),
    Column("membership_id", String(64), nullable=True),
    Column("state", String(16), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("state IN ('intended', 'created')", name="ck_created_memberships_state"),
    Index("ix_created_memberships_user", "org_id", "user_id"),
)
"""Memberships jitflow created, or was about to create (``intended``: written before the POST),
so that one found later is known to be jitflow's and not standing access. A row goes when the
membership is removed."""

issued_tickets = Table(
    "issued_tickets",
    metadata,
    Column("ticket_id", String(1200), primary_key=True),
    Column("ticket", Text(), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("org_id", String(64), nullable=True),
    Column("role_id", String(64), nullable=True),
    Column("user_id", String(64), nullable=True),
    Column("not_after", DateTime(timezone=True), nullable=True),
    Index("ix_issued_tickets_membership", "org_id", "role_id", "user_id"),
)
"""The one grant ticket issued per request run: a retried or replayed acquire gets the same
ticket back (same end), so a reused approval can never lengthen a grant. The membership and the
end are also columns, for the expiry guard (``None`` ends: until released)."""

standing_roles_seen = Table(
    "standing_roles_seen",
    metadata,
    Column("org_id", String(64), primary_key=True),
    Column("user_id", String(64), primary_key=True),
    Column("seen_at", DateTime(timezone=True), nullable=False),
)
"""When jitflow last saw the user hold a role of the organization that jitflow did not create
(standing access found at an escalation, or the user still in the organization after a removal
with no jitflow membership left): until that sighting is old, removing a grant cannot have been
their last role, so the eviction report needs no Aptible call."""
