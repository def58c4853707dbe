"""The identity store's trust records: people's keys, used proofs, grant tickets, the ledger.

A part of ``IdentityStore`` (a base class of it) kept apart from users and identities: what
the grant path reads and writes to decide whether a membership may be added, and to know the
memberships jitflow created. Same database, same transactions.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Row, delete, select

from jitflow.identity import ledger_overdue
from jitflow.identity.errors import InvalidValue
from jitflow.identity.models import KeyRecord, LedgerEntry, OverdueMembership
from jitflow.identity.schema import (
    closed_grants,
    created_memberships,
    issued_tickets,
    used_proofs,
    user_keys,
)
from jitflow.identity.validation import checked_email
from jitflow.trust.keys import InvalidKey, normalize_fingerprint, parse_public_key


def now() -> datetime:
    return datetime.now(UTC)


aware = ledger_overdue.aware


def bounded(value: str, what: str, limit: int) -> str:
    """``value`` unless it is empty or longer than its column: InvalidValue naming it."""
    if not value or len(value) > limit:
        raise InvalidValue(f"invalid {what} {value[:80]!r}: expected 1 to {limit} characters")
    return value


def _key_record(row: Row[Any] | Any) -> KeyRecord:
    return KeyRecord(
        email=row.email,
        fingerprint=row.fingerprint,
        public_key=row.public_key,
        comment=row.comment,
        added_at=aware(row.added_at),
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
        bounded(org_id.lower(), "organization id", 64),
        bounded(role_id.lower(), "role id", 64),
        bounded(user_id.lower(), "user id", 64),
    )


def _membership_where(key: tuple[str, str, str]) -> tuple[Any, ...]:
    return (
        created_memberships.c.org_id == key[0],
        created_memberships.c.role_id == key[1],
        created_memberships.c.user_id == key[2],
    )


class TrustRecords:
    """Keys, proofs, tickets and the ledger (``IdentityStore`` provides the transactions)."""

    if TYPE_CHECKING:

        def _transaction(self) -> AbstractContextManager[Connection]: ...
        def _reading(self) -> AbstractContextManager[Connection]: ...
        def _insert(self, table: Any) -> Any: ...
        def _ensure_user(self, connection: Connection, email: str) -> int: ...

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
                    added_at=now(),
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
        with self._reading() as connection:
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
        with self._reading() as connection:
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
        nonce = bounded(nonce, "proof nonce", _MAX_NONCE)
        workflow_id = bounded(workflow_id, "workflow id", _MAX_WORKFLOW_ID)
        run_id = bounded(run_id, "run id", _MAX_RUN_ID)
        action = bounded(action, "proof action", _MAX_ACTION)
        with self._transaction() as connection:
            connection.execute(
                self._insert(used_proofs)
                .values(
                    nonce=nonce,
                    workflow_id=workflow_id,
                    run_id=run_id,
                    action=action,
                    used_at=now(),
                )
                .on_conflict_do_nothing(index_elements=[used_proofs.c.nonce])
            )
            row = connection.execute(select(used_proofs).where(used_proofs.c.nonce == nonce)).one()
        return (row.workflow_id, row.run_id, row.action) == (workflow_id, run_id, action)

    # Grants that ended -------------------------------------------------------------------

    def close_grants(self, ticket_ids: list[str]) -> None:
        """Record grants as ended (idempotent): their tickets can never add a membership again."""
        rows = [{"ticket_id": tid, "closed_at": now()} for tid in dict.fromkeys(ticket_ids)]
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
        with self._reading() as connection:
            found = connection.execute(
                select(closed_grants.c.ticket_id).where(closed_grants.c.ticket_id.in_(ticket_ids))
            ).scalars()
            return set(found)

    # Grant tickets -----------------------------------------------------------------------

    def issue_ticket_once(self, ticket_id: str, ticket: str) -> str:
        """Store ``ticket`` as the one ticket of ``ticket_id`` unless one is stored already;
        returns the stored one (the first issued wins, also between racing workers)."""
        columns = ledger_overdue.ticket_columns(ticket)
        with self._transaction() as connection:
            connection.execute(
                self._insert(issued_tickets)
                .values(ticket_id=ticket_id, ticket=ticket, issued_at=now(), **columns)
                .on_conflict_do_nothing(index_elements=[issued_tickets.c.ticket_id])
            )
            stored: str = connection.execute(
                select(issued_tickets.c.ticket).where(issued_tickets.c.ticket_id == ticket_id)
            ).scalar_one()
        return stored

    def issued_ticket(self, ticket_id: str) -> str | None:
        """The ticket issued under ``ticket_id`` (its JSON), or None when none was."""
        with self._reading() as connection:
            ticket: str | None = connection.execute(
                select(issued_tickets.c.ticket).where(issued_tickets.c.ticket_id == ticket_id)
            ).scalar_one_or_none()
        return ticket

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
        entry = self.ledger_entry(org_id, role_id, user_id)
        return entry.state if entry is not None else None

    def ledger_entry(self, org_id: str, role_id: str, user_id: str) -> LedgerEntry | None:
        """The ledger's row for the membership, in one read (a removal needs both its state and
        the Aptible id jitflow recorded); None when jitflow holds no record of creating it."""
        key = _membership_key(org_id, role_id, user_id)
        with self._reading() as connection:
            row = connection.execute(
                select(created_memberships.c.state, created_memberships.c.membership_id).where(
                    *_membership_where(key)
                )
            ).one_or_none()
        return (
            None if row is None else LedgerEntry(state=row.state, membership_id=row.membership_id)
        )

    def forget_membership(self, org_id: str, role_id: str, user_id: str) -> None:
        """The membership is gone: drop it from the ledger."""
        key = _membership_key(org_id, role_id, user_id)
        with self._transaction() as connection:
            connection.execute(delete(created_memberships).where(*_membership_where(key)))

    def created_memberships(self, org_id: str, role_id: str) -> dict[str, str]:
        """``user_id -> state`` of every ledger row of one role (for the reconciler)."""
        with self._reading() as connection:
            rows = connection.execute(
                select(created_memberships.c.user_id, created_memberships.c.state).where(
                    created_memberships.c.org_id == org_id.lower(),
                    created_memberships.c.role_id == role_id.lower(),
                )
            ).all()
        return {row.user_id: row.state for row in rows}

    def overdue_memberships(self, at: datetime, grace: timedelta) -> list[OverdueMembership]:
        """Ledger memberships whose every grant ended more than ``grace`` before ``at`` (see
        ``ledger_overdue``); a row that cannot be judged is skipped, never the whole list."""
        cutoff = aware(at) - grace
        overdue: list[OverdueMembership] = []
        with self._transaction() as connection:
            ledger_overdue.fill_ticket_columns(connection)
            rows = ledger_overdue.candidates(connection, cutoff)
        for row in rows:
            with self._transaction() as connection:
                found = ledger_overdue.judge(connection, row, cutoff)
            if found is not None:
                overdue.append(found)
        return overdue

    def overdue_membership(
        self, org_id: str, role_id: str, user_id: str, at: datetime, grace: timedelta
    ) -> OverdueMembership | None:
        """The one membership, judged afresh: the guard asks again right before removing."""
        key = _membership_key(org_id, role_id, user_id)
        cutoff = aware(at) - grace
        with self._transaction() as connection:
            row = connection.execute(
                select(created_memberships).where(*_membership_where(key))
            ).one_or_none()
            if row is None or aware(row.updated_at) >= cutoff:
                return None
            return ledger_overdue.judge(connection, row, cutoff)

    def forget_membership_if_unchanged(
        self, org_id: str, role_id: str, user_id: str, updated_at: datetime
    ) -> bool:
        """Drop the row only if nobody wrote it since ``updated_at`` (a new grant's add rewrites
        it): the guard must never forget a membership it did not judge."""
        key = _membership_key(org_id, role_id, user_id)
        with self._transaction() as connection:
            row = connection.execute(
                select(created_memberships.c.updated_at).where(*_membership_where(key))
            ).one_or_none()
            if row is None or aware(row.updated_at) != aware(updated_at):
                return False
            connection.execute(delete(created_memberships).where(*_membership_where(key)))
        return True

    def _set_membership(
        self, org_id: str, role_id: str, user_id: str, membership_id: str | None, state: str
    ) -> None:
        key = _membership_key(org_id, role_id, user_id)
        values = {"membership_id": membership_id, "state": state, "updated_at": now()}
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
