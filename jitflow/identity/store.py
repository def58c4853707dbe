"""The identity store: users (email, names, role) and their ids in services such as Aptible.

One ``IdentityStore`` per process, shared by threads (SQLAlchemy's pool is thread-safe); async
callers run them on a thread (the worker: its I/O pool, ``activities/blocking.py``). Every public method is one transaction. Writes are upserts
keyed by the unique columns, so two processes writing at once both land, on SQLite (whose
writers queue, see ``database``) as on PostgreSQL (``INSERT ... ON CONFLICT``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from types import TracebackType
from typing import Any, Final, cast

from sqlalchemy import Connection, Engine, Row, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from jitflow.contracts.base import normalize_email
from jitflow.contracts.events import UserData, UserRoleName
from jitflow.identity import migrate
from jitflow.identity.csv_format import ServiceKey, parse_users_csv, render_users_csv
from jitflow.identity.database import (
    READ_ONLY,
    create_store_engine,
    database_url_from_env,
    safe_url,
)
from jitflow.identity.errors import DatabaseUnavailable, UserExists, UserNotFound
from jitflow.identity.last_role import LastRoleRecords
from jitflow.identity.models import CsvApplyReport, Identity, User
from jitflow.identity.schema import identities, user_keys, users
from jitflow.identity.trust_records import TrustRecords, aware
from jitflow.identity.trust_records import now as utc_now
from jitflow.identity.validation import (
    DEFAULT_ROLE,
    checked_email,
    normalize_external_id,
    normalize_name,
    normalize_role,
    normalize_service_type,
    normalize_service_user_id,
)


class _Keep:
    """Marker: leave this column as it is."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = _Keep()


def _user(row: Row[Any] | Any) -> User:
    return User(
        email=row.email,
        role=cast(UserRoleName, row.role),
        first_name=row.first_name,
        last_name=row.last_name,
        created_at=aware(row.created_at),
    )


def _identity(row: Row[Any] | Any) -> Identity:
    return Identity(
        email=row.email,
        service_type=row.service_type,
        external_id=row.external_id,
        service_user_id=row.service_user_id,
        updated_at=aware(row.updated_at),
    )


_IDENTITY_COLUMNS = (
    users.c.email,
    identities.c.service_type,
    identities.c.external_id,
    identities.c.service_user_id,
    identities.c.updated_at,
)


def _key(service_type: str, external_id: str) -> ServiceKey:
    kind = normalize_service_type(service_type)
    return kind, normalize_external_id(kind, external_id)


class IdentityStore(TrustRecords, LastRoleRecords):
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
            except migrate.SchemaUnknown as error:
                raise DatabaseUnavailable(
                    f"could not migrate the identity database {self.url}: {error}"
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

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        """A transaction that only reads: on SQLite it does not wait for the write lock."""
        with self._engine.connect() as connection:
            connection.execution_options(**{READ_ONLY: True})
            with connection.begin():
                yield connection

    def _insert(self, table: Any) -> Any:
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        return dialect.insert(table)

    def _ensure_user(self, connection: Connection, email: str) -> int:
        """The id of ``email``'s user, created as a ``member`` if it does not exist yet."""
        now = utc_now()
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
        with self._reading() as connection:
            row = connection.execute(select(users).where(users.c.email == address)).first()
        return _user(row) if row is not None else None

    def list_users(self) -> list[User]:
        """Every user, by email."""
        with self._reading() as connection:
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
        now = utc_now()
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
                    update(users)
                    .where(users.c.id == user_id)
                    .values(**values, updated_at=utc_now())
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
                update(users).where(users.c.email == address).values(**values, updated_at=utc_now())
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
        with self._reading() as connection:
            role = connection.execute(
                select(users.c.role).where(users.c.email == address)
            ).scalar_one_or_none()
        return cast(UserRoleName, role) if role is not None else DEFAULT_ROLE

    def user_roles(self) -> dict[str, UserRoleName]:
        """``email -> role`` of every known user (what ``Permissions.user_roles`` records)."""
        with self._reading() as connection:
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
        with self._reading() as connection:
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
        now = utc_now()
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
        with self._reading() as connection:
            rows = connection.execute(query).all()
        return [_identity(row) for row in rows]

    # CSV -----------------------------------------------------------------------------------

    def export_csv(self) -> str:
        """All users and identities as ``jitflow users update -i`` reads them."""
        with self._reading() as connection:
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
        now = utc_now()
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
