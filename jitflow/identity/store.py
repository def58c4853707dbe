"""The identity store: users (email, names, role) and their ids in services such as Aptible.

One ``IdentityStore`` per process, shared by threads (SQLAlchemy's pool is thread-safe); async
callers use ``asyncio.to_thread``. Every public method is one transaction. Writes are upserts
keyed by the unique columns, so two processes writing at once both land, on SQLite (whose
writers queue, see ``database``) as on PostgreSQL (``INSERT ... ON CONFLICT``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Final, cast

from sqlalchemy import Connection, Engine, Row, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from jitflow.contracts.base import normalize_email
from jitflow.contracts.events import UserData, UserRoleName
from jitflow.identity import migrate
from jitflow.identity.csv_format import ServiceKey, parse_users_csv, render_users_csv
from jitflow.identity.database import create_store_engine, database_url_from_env, safe_url
from jitflow.identity.errors import DatabaseUnavailable, InvalidValue, UserExists, UserNotFound
from jitflow.identity.models import CsvApplyReport, Identity, KeyRecord, User
from jitflow.identity.schema import (
    closed_grants,
    created_memberships,
    identities,
    issued_tickets,
    used_proofs,
    user_keys,
    users,
)
from jitflow.identity.validation import (
    DEFAULT_ROLE,
    checked_email,
    normalize_external_id,
    normalize_name,
    normalize_role,
    normalize_service_type,
    normalize_service_user_id,
)
from jitflow.trust.keys import InvalidKey, normalize_fingerprint, parse_public_key


class _Keep:
    """Marker: leave this column as it is."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = _Keep()


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    """In UTC whatever the backend: SQLite hands back naive timestamps (written in UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _user(row: Row[Any] | Any) -> User:
    return User(
        email=row.email,
        role=cast(UserRoleName, row.role),
        first_name=row.first_name,
        last_name=row.last_name,
        created_at=_aware(row.created_at),
    )


def _identity(row: Row[Any] | Any) -> Identity:
    return Identity(
        email=row.email,
        service_type=row.service_type,
        external_id=row.external_id,
        service_user_id=row.service_user_id,
        updated_at=_aware(row.updated_at),
    )


_IDENTITY_COLUMNS = (
    users.c.email,
    identities.c.service_type,
    identities.c.external_id,
    identities.c.service_user_id,
    identities.c.updated_at,
)


def _key_record(row: Row[Any] | Any) -> KeyRecord:
    return KeyRecord(
        email=row.email,
        fingerprint=row.fingerprint,
        public_key=row.public_key,
        comment=row.comment,
        added_at=_aware(row.added_at),
    )


#: Longest ``.pub`` comment kept (the column's size); a longer one is refused, not cut.
_MAX_KEY_COMMENT = 1000
_MAX_NONCE = 128
_MAX_WORKFLOW_ID = 1000
_MAX_RUN_ID = 128
_MAX_ACTION = 32


def _membership_key(org_id: str, role_id: str, user_id: str) -> tuple[str, str, str]:
    """A membership's ledger key: the three Aptible UUIDs, lower case."""
    return (
        _bounded(org_id.lower(), "organization id", 64),
        _bounded(role_id.lower(), "role id", 64),
        _bounded(user_id.lower(), "user id", 64),
    )


def _membership_where(key: tuple[str, str, str]) -> tuple[Any, ...]:
    return (
        created_memberships.c.org_id == key[0],
        created_memberships.c.role_id == key[1],
        created_memberships.c.user_id == key[2],
    )


def _bounded(value: str, what: str, limit: int) -> str:
    """``value`` unless it is empty or longer than its column: InvalidValue naming it."""
    if not value or len(value) > limit:
        raise InvalidValue(f"invalid {what} {value[:80]!r}: expected 1 to {limit} characters")
    return value


def _key(service_type: str, external_id: str) -> ServiceKey:
    kind = normalize_service_type(service_type)
    return kind, normalize_external_id(kind, external_id)


class IdentityStore:
    """Users and identities in a SQL database, schema migrated when the store is opened."""

    def __init__(self, engine: Engine, *, migrate_schema: bool = True) -> None:
        self._engine = engine
        if migrate_schema:
            try:
                migrate.upgrade(engine)
            except SQLAlchemyError as error:
                raise DatabaseUnavailable(
                    f"could not open or migrate the identity database {self.url}: "
                    f"{type(getattr(error, 'orig', None) or error).__name__}"
                ) from None

    @classmethod
    def open(cls, database_url: str | None = None) -> IdentityStore:
        """Open ``database_url``, else ``$JITFLOW_DATABASE_URL``, else ``.jitflow/jitflow.db``."""
        return cls(create_store_engine(database_url_from_env(database_url)))

    @property
    def url(self) -> str:
        """The database URL with any password masked."""
        return safe_url(self._engine.url)

    @property
    def engine(self) -> Engine:
        return self._engine

    def __repr__(self) -> str:
        return f"IdentityStore({self.url!r})"

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> IdentityStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with self._engine.begin() as connection:
            yield connection

    def _insert(self, table: Any) -> Any:
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        return dialect.insert(table)

    def _ensure_user(self, connection: Connection, email: str) -> int:
        """The id of ``email``'s user, created as a ``member`` if it does not exist yet."""
        now = _now()
        connection.execute(
            self._insert(users)
            .values(email=email, role=DEFAULT_ROLE, created_at=now, updated_at=now)
            .on_conflict_do_nothing(index_elements=[users.c.email])
        )
        user_id: int = connection.execute(
            select(users.c.id).where(users.c.email == email)
        ).scalar_one()
        return user_id

    # Users ---------------------------------------------------------------------------------

    def get_user(self, email: str) -> User | None:
        address = checked_email(email)
        with self._transaction() as connection:
            row = connection.execute(select(users).where(users.c.email == address)).first()
        return _user(row) if row is not None else None

    def list_users(self) -> list[User]:
        """Every user, by email."""
        with self._transaction() as connection:
            rows = connection.execute(select(users).order_by(users.c.email)).all()
        return [_user(row) for row in rows]

    def create_user(
        self,
        email: str,
        role: str = DEFAULT_ROLE,
        first_name: str | None = None,
        last_name: str | None = None,
    ) -> User:
        """Add a new user; raise UserExists if the email is taken."""
        address, chosen = checked_email(email), normalize_role(role)
        first, last = normalize_name(first_name), normalize_name(last_name)
        now = _now()
        with self._transaction() as connection:
            inserted = connection.execute(
                self._insert(users)
                .values(
                    email=address,
                    role=chosen,
                    first_name=first,
                    last_name=last,
                    created_at=now,
                    updated_at=now,
                )
                .on_conflict_do_nothing(index_elements=[users.c.email])
                .returning(users.c.id)
            ).first()
            if inserted is None:
                raise UserExists(address)
        return User(address, chosen, first, last, now)

    def upsert_user(
        self,
        email: str,
        *,
        role: str | None = None,
        first_name: str | _Keep | None = KEEP,
        last_name: str | _Keep | None = KEEP,
    ) -> User:
        """Create or update the user; ``role=None`` and ``KEEP`` names leave those unchanged."""
        address = checked_email(email)
        values: dict[str, Any] = {}
        if role is not None:
            values["role"] = normalize_role(role)
        if not isinstance(first_name, _Keep):
            values["first_name"] = normalize_name(first_name)
        if not isinstance(last_name, _Keep):
            values["last_name"] = normalize_name(last_name)
        with self._transaction() as connection:
            user_id = self._ensure_user(connection, address)
            if values:
                connection.execute(
                    update(users).where(users.c.id == user_id).values(**values, updated_at=_now())
                )
            row = connection.execute(select(users).where(users.c.id == user_id)).one()
        return _user(row)

    def set_role(self, email: str, role: str) -> User:
        """Change an existing user's role; raise UserNotFound for an unknown email."""
        return self._update_existing(email, role=normalize_role(role))

    def set_name(self, email: str, first_name: str | None, last_name: str | None) -> User:
        """Change an existing user's first and last name."""
        return self._update_existing(
            email, first_name=normalize_name(first_name), last_name=normalize_name(last_name)
        )

    def _update_existing(self, email: str, **values: Any) -> User:
        address = checked_email(email)
        with self._transaction() as connection:
            changed = connection.execute(
                update(users).where(users.c.email == address).values(**values, updated_at=_now())
            )
            if changed.rowcount == 0:
                raise UserNotFound(address)
            row = connection.execute(select(users).where(users.c.email == address)).one()
        return _user(row)

    def delete_user(self, email: str) -> bool:
        """Remove the user, their identities and keys; False if there was no such user."""
        address = checked_email(email)
        with self._transaction() as connection:
            user_id = connection.execute(
                select(users.c.id).where(users.c.email == address)
            ).scalar_one_or_none()
            if user_id is None:
                return False
            connection.execute(delete(identities).where(identities.c.user_id == user_id))
            connection.execute(delete(user_keys).where(user_keys.c.email == address))
            connection.execute(delete(users).where(users.c.id == user_id))
        return True

    def role_of(self, email: str) -> UserRoleName:
        """The user's role; ``member`` for anyone the store does not know (Sym's default)."""
        address = normalize_email(email)
        with self._transaction() as connection:
            role = connection.execute(
                select(users.c.role).where(users.c.email == address)
            ).scalar_one_or_none()
        return cast(UserRoleName, role) if role is not None else DEFAULT_ROLE

    def user_roles(self) -> dict[str, UserRoleName]:
        """``email -> role`` of every known user (what ``Permissions.user_roles`` records)."""
        with self._transaction() as connection:
            rows = connection.execute(select(users.c.email, users.c.role)).all()
        return {row.email: cast(UserRoleName, row.role) for row in rows}

    def user_data(self, email: str) -> UserData:
        """The user as reducers see it, identities included; a bare ``member`` if unknown."""
        address = checked_email(email)
        user = self.get_user(address)
        held = {item.column: item.service_user_id for item in self.list_identities(address)}
        if user is None:
            return UserData(email=address, role=DEFAULT_ROLE, identities=held)
        return UserData(
            email=address,
            role=user.role,
            first_name=user.first_name,
            last_name=user.last_name,
            identities=held,
        )

    # Identities ----------------------------------------------------------------------------

    def get_identity(self, email: str, service_type: str, external_id: str) -> str | None:
        """The user's id in the service, or None when none is stored."""
        address, (kind, external) = checked_email(email), _key(service_type, external_id)
        with self._transaction() as connection:
            value: str | None = connection.execute(
                select(identities.c.service_user_id)
                .join(users, users.c.id == identities.c.user_id)
                .where(
                    users.c.email == address,
                    identities.c.service_type == kind,
                    identities.c.external_id == external,
                )
            ).scalar_one_or_none()
        return value

    def set_identity(
        self, email: str, service_type: str, external_id: str, service_user_id: str
    ) -> Identity:
        """Store (or replace) the user's id in the service, creating the user if needed."""
        address, (kind, external) = checked_email(email), _key(service_type, external_id)
        value = normalize_service_user_id(kind, service_user_id)
        now = _now()
        with self._transaction() as connection:
            self._upsert_identity(
                connection, self._ensure_user(connection, address), kind, external, value, now
            )
        return Identity(address, kind, external, value, now)

    def _upsert_identity(
        self,
        connection: Connection,
        user_id: int,
        kind: str,
        external: str,
        value: str,
        now: datetime,
    ) -> None:
        statement = self._insert(identities).values(
            user_id=user_id,
            service_type=kind,
            external_id=external,
            service_user_id=value,
            created_at=now,
            updated_at=now,
        )
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=[
                    identities.c.user_id,
                    identities.c.service_type,
                    identities.c.external_id,
                ],
                set_={"service_user_id": value, "updated_at": now},
            )
        )

    def delete_identity(self, email: str, service_type: str, external_id: str) -> bool:
        """Forget the user's id in the service; False if none was stored."""
        address, (kind, external) = checked_email(email), _key(service_type, external_id)
        with self._transaction() as connection:
            user_id = connection.execute(
                select(users.c.id).where(users.c.email == address)
            ).scalar_one_or_none()
            if user_id is None:
                return False
            deleted = connection.execute(
                delete(identities).where(
                    identities.c.user_id == user_id,
                    identities.c.service_type == kind,
                    identities.c.external_id == external,
                )
            )
        return deleted.rowcount > 0

    def list_identities(
        self, email: str | None = None, service_type: str | None = None
    ) -> list[Identity]:
        """Identities of one user or of all, optionally of one service type, in a stable order."""
        query = select(*_IDENTITY_COLUMNS).join(users, users.c.id == identities.c.user_id)
        if email is not None:
            query = query.where(users.c.email == checked_email(email))
        if service_type is not None:
            query = query.where(identities.c.service_type == normalize_service_type(service_type))
        query = query.order_by(users.c.email, identities.c.service_type, identities.c.external_id)
        with self._transaction() as connection:
            rows = connection.execute(query).all()
        return [_identity(row) for row in rows]

    # Signing keys --------------------------------------------------------------------------

    def add_key(self, email: str, public_key_text: str) -> KeyRecord:
        """Register an OpenSSH Ed25519 public key (a ``.pub`` line) to ``email``.

        The user is created as a member when unknown, as ``set_identity`` does. Adding the same
        key to the same user again changes nothing and returns the stored record. A key already
        registered to someone else is refused (InvalidValue naming both): a signature must
        identify exactly one person.
        """
        address = checked_email(email)
        try:
            key = parse_public_key(public_key_text)
        except InvalidKey as error:
            raise InvalidValue(str(error)) from None
        comment = key.comment
        if len(comment) > _MAX_KEY_COMMENT:
            raise InvalidValue(
                f"the comment of key {key.fingerprint} ({comment[:40]!r}...) is longer than "
                f"{_MAX_KEY_COMMENT} characters"
            )
        with self._transaction() as connection:
            self._ensure_user(connection, address)
            # No conflict target: a duplicate fingerprint (the unique constraint) and a duplicate
            # (email, fingerprint) (the primary key) both leave the row that is already there.
            connection.execute(
                self._insert(user_keys)
                .values(
                    email=address,
                    fingerprint=key.fingerprint,
                    public_key=key.openssh,
                    comment=comment,
                    added_at=_now(),
                )
                .on_conflict_do_nothing()
            )
            row = connection.execute(
                select(user_keys).where(user_keys.c.fingerprint == key.fingerprint)
            ).one()
            if row.email != address:
                raise InvalidValue(
                    f"key {key.fingerprint} is already registered to {row.email!r}, so it cannot "
                    f"also be {address!r}'s: one key belongs to one person (remove it first with "
                    f"jitflow users remove-key {row.email} {key.fingerprint})"
                )
        return _key_record(row)

    def keys(self, email: str | None = None) -> list[KeyRecord]:
        """The keys of one user, or of everyone, by email then by when they were added."""
        query = select(user_keys)
        if email is not None:
            query = query.where(user_keys.c.email == checked_email(email))
        query = query.order_by(user_keys.c.email, user_keys.c.added_at, user_keys.c.fingerprint)
        with self._transaction() as connection:
            rows = connection.execute(query).all()
        return [_key_record(row) for row in rows]

    def all_keys(self) -> list[KeyRecord]:
        """Every registered key: what a verifier loads to refresh its in-memory directory."""
        return self.keys()

    def remove_key(self, email: str, fingerprint: str) -> bool:
        """Unregister ``email``'s key ``fingerprint``; False when that user has no such key."""
        address = checked_email(email)
        try:
            wanted = normalize_fingerprint(fingerprint)
        except InvalidKey as error:
            raise InvalidValue(str(error)) from None
        with self._transaction() as connection:
            deleted = connection.execute(
                delete(user_keys).where(
                    user_keys.c.email == address, user_keys.c.fingerprint == wanted
                )
            )
        return deleted.rowcount > 0

    def key_by_fingerprint(self, fingerprint: str) -> KeyRecord | None:
        """The key with this fingerprint and whom it belongs to; None when none is registered.

        A malformed fingerprint is simply not registered: it comes from a proof, that is from
        outside, and the caller only needs to know that no key answers to it.
        """
        try:
            wanted = normalize_fingerprint(fingerprint)
        except InvalidKey:
            return None
        with self._transaction() as connection:
            row = connection.execute(
                select(user_keys).where(user_keys.c.fingerprint == wanted)
            ).first()
        return _key_record(row) if row is not None else None

    # Decision proofs -----------------------------------------------------------------------

    def consume_proof_nonce(self, nonce: str, workflow_id: str, run_id: str, action: str) -> bool:
        """Record that the proof with ``nonce`` was acted on for (workflow_id, run_id, action).

        True when the nonce is new, or was already recorded for exactly this workflow, run and
        action: an activity retried after a crash must succeed again. False when it was used for
        anything else: the proof is being replayed. Atomic across processes (the primary key
        decides which of two concurrent uses is first).
        """
        nonce = _bounded(nonce, "proof nonce", _MAX_NONCE)
        workflow_id = _bounded(workflow_id, "workflow id", _MAX_WORKFLOW_ID)
        run_id = _bounded(run_id, "run id", _MAX_RUN_ID)
        action = _bounded(action, "proof action", _MAX_ACTION)
        with self._transaction() as connection:
            connection.execute(
                self._insert(used_proofs)
                .values(
                    nonce=nonce,
                    workflow_id=workflow_id,
                    run_id=run_id,
                    action=action,
                    used_at=_now(),
                )
                .on_conflict_do_nothing(index_elements=[used_proofs.c.nonce])
            )
            row = connection.execute(select(used_proofs).where(used_proofs.c.nonce == nonce)).one()
        return (row.workflow_id, row.run_id, row.action) == (workflow_id, run_id, action)

    # Grants that ended -------------------------------------------------------------------

    def close_grants(self, ticket_ids: list[str]) -> None:
        """Record grants as ended (idempotent): their tickets can never add a membership again."""
        rows = [{"ticket_id": tid, "closed_at": _now()} for tid in dict.fromkeys(ticket_ids)]
        if not rows:
            return
        with self._transaction() as connection:
            for row in rows:
                connection.execute(
                    self._insert(closed_grants)
                    .values(**row)
                    .on_conflict_do_nothing(index_elements=[closed_grants.c.ticket_id])
                )

    def grants_closed(self, ticket_ids: list[str]) -> set[str]:
        """Which of ``ticket_ids`` belong to grants that ended."""
        if not ticket_ids:
            return set()
        with self._transaction() as connection:
            found = connection.execute(
                select(closed_grants.c.ticket_id).where(closed_grants.c.ticket_id.in_(ticket_ids))
            ).scalars()
            return set(found)

    # Grant tickets -----------------------------------------------------------------------

    def issue_ticket_once(self, ticket_id: str, ticket: str) -> str:
        """Store ``ticket`` as the one ticket of ``ticket_id`` unless one is stored already;
        returns the stored one (the first issued wins, also between racing workers)."""
        with self._transaction() as connection:
            connection.execute(
                self._insert(issued_tickets)
                .values(ticket_id=ticket_id, ticket=ticket, issued_at=_now())
                .on_conflict_do_nothing(index_elements=[issued_tickets.c.ticket_id])
            )
            stored: str = connection.execute(
                select(issued_tickets.c.ticket).where(issued_tickets.c.ticket_id == ticket_id)
            ).scalar_one()
        return stored

    # Memberships jitflow created ---------------------------------------------------------

    def intend_membership(self, org_id: str, role_id: str, user_id: str) -> None:
        """Record, before the POST, that jitflow is about to create this membership."""
        self._set_membership(org_id, role_id, user_id, None, "intended")

    def confirm_membership(
        self, org_id: str, role_id: str, user_id: str, membership_id: str | None
    ) -> None:
        """Record that jitflow created this membership (its Aptible id when known)."""
        self._set_membership(org_id, role_id, user_id, membership_id, "created")

    def created_membership(self, org_id: str, role_id: str, user_id: str) -> str | None:
        """``"intended"`` or ``"created"`` when the ledger holds the membership, else None."""
        key = _membership_key(org_id, role_id, user_id)
        with self._transaction() as connection:
            state: str | None = connection.execute(
                select(created_memberships.c.state).where(*_membership_where(key))
            ).scalar_one_or_none()
        return state

    def forget_membership(self, org_id: str, role_id: str, user_id: str) -> None:
        """The membership is gone: drop it from the ledger."""
        key = _membership_key(org_id, role_id, user_id)
        with self._transaction() as connection:
            connection.execute(delete(created_memberships).where(*_membership_where(key)))

    def created_memberships(self, org_id: str, role_id: str) -> dict[str, str]:
        """``user_id -> state`` of every ledger row of one role (for the reconciler)."""
        with self._transaction() as connection:
            rows = connection.execute(
                select(created_memberships.c.user_id, created_memberships.c.state).where(
                    created_memberships.c.org_id == org_id.lower(),
                    created_memberships.c.role_id == role_id.lower(),
                )
            ).all()
        return {row.user_id: row.state for row in rows}

    def _set_membership(
        self, org_id: str, role_id: str, user_id: str, membership_id: str | None, state: str
    ) -> None:
        key = _membership_key(org_id, role_id, user_id)
        values = {"membership_id": membership_id, "state": state, "updated_at": _now()}
        with self._transaction() as connection:
            connection.execute(
                self._insert(created_memberships)
                .values(org_id=key[0], role_id=key[1], user_id=key[2], **values)
                .on_conflict_do_update(
                    index_elements=[
                        created_memberships.c.org_id,
                        created_memberships.c.role_id,
                        created_memberships.c.user_id,
                    ],
                    set_=values,
                )
            )

    # CSV -----------------------------------------------------------------------------------

    def export_csv(self) -> str:
        """All users and identities as ``jitflow users update -i`` reads them."""
        with self._transaction() as connection:
            user_rows = connection.execute(select(users)).all()
            identity_rows = connection.execute(
                select(*_IDENTITY_COLUMNS).join(users, users.c.id == identities.c.user_id)
            ).all()
        return render_users_csv(map(_user, user_rows), map(_identity, identity_rows))

    def apply_csv(self, text: str, *, delete_missing: bool = False) -> CsvApplyReport:
        """Make the store match the CSV, all or nothing, in one transaction.

        Rows create or update users; a filled identity cell sets that identity and a blank one
        removes it. Optional columns that are absent leave those fields alone. With
        ``delete_missing`` users without a row are deleted, as symflow does for removed rows.
        Raises CsvRejected (nothing changed) when any line is wrong.
        """
        sheet = parse_users_csv(text)
        created: list[str] = []
        updated: list[str] = []
        unchanged: list[str] = []
        deleted: list[str] = []
        set_count = deleted_count = 0
        now = _now()
        with self._transaction() as connection:
            existing = {row.email: row for row in connection.execute(select(users)).all()}
            held: dict[tuple[int, str, str], str] = {
                (row.user_id, row.service_type, row.external_id): row.service_user_id
                for row in connection.execute(select(identities)).all()
            }
            for line in sheet.rows:
                current = existing.get(line.email)
                changes: dict[str, Any] = {}
                if sheet.has_first_name and (
                    current is None or current.first_name != line.first_name
                ):
                    changes["first_name"] = line.first_name
                if sheet.has_last_name and (current is None or current.last_name != line.last_name):
                    changes["last_name"] = line.last_name
                if line.role is not None and (current is None or current.role != line.role):
                    changes["role"] = line.role
                user_id = (
                    current.id if current is not None else self._ensure_user(connection, line.email)
                )
                if changes:
                    connection.execute(
                        update(users).where(users.c.id == user_id).values(**changes, updated_at=now)
                    )
                identity_changed = False
                for (kind, external), value in line.identities.items():
                    before = held.get((user_id, kind, external))
                    if value is None and before is not None:
                        connection.execute(
                            delete(identities).where(
                                identities.c.user_id == user_id,
                                identities.c.service_type == kind,
                                identities.c.external_id == external,
                            )
                        )
                        deleted_count += 1
                        identity_changed = True
                    elif value is not None and value != before:
                        self._upsert_identity(connection, user_id, kind, external, value, now)
                        set_count += 1
                        identity_changed = True
                if current is None:
                    created.append(line.email)
                elif changes or identity_changed:
                    updated.append(line.email)
                else:
                    unchanged.append(line.email)
            if delete_missing:
                listed = {line.email for line in sheet.rows}
                for email, row in sorted(existing.items()):
                    if email not in listed:
                        connection.execute(delete(identities).where(identities.c.user_id == row.id))
                        connection.execute(delete(user_keys).where(user_keys.c.email == email))
                        connection.execute(delete(users).where(users.c.id == row.id))
                        deleted.append(email)
        return CsvApplyReport(
            created_users=tuple(created),
            updated_users=tuple(updated),
            deleted_users=tuple(deleted),
            set_identities=set_count,
            deleted_identities=deleted_count,
            unchanged_users=tuple(unchanged),
        )
