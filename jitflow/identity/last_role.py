"""Whether removing a membership can have been the user's last role in the organization.

Aptible drops a user from the organization with their last role there. Reporting that takes a
listing of the organization's users after the removal; this part of ``IdentityStore`` answers,
from what jitflow already knows, when no listing is needed: the user still holds another
membership jitflow created (in the ledger), or jitflow saw them hold a role it did not create
(standing access found at an escalation, or a listing after an earlier removal that still found
them) recently enough. The report is advice for people, never an input to a decision: a role an
admin removed after that sighting makes it miss an eviction, which the next listing corrects.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from jitflow.identity.schema import created_memberships, standing_roles_seen
from jitflow.identity.trust_records import bounded

#: How long a sighting of a role jitflow did not create spares the eviction listing.
SIGHTING_VALID = timedelta(days=1)


def _ids(*pairs: tuple[str, str]) -> tuple[str, ...]:
    return tuple(bounded(value.lower(), what, 64) for value, what in pairs)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class LastRoleRecords:
    """Sightings of roles jitflow did not create (``IdentityStore`` provides the transactions)."""

    if TYPE_CHECKING:

        def _transaction(self) -> AbstractContextManager[Connection]: ...
        def _reading(self) -> AbstractContextManager[Connection]: ...
        def _insert(self, table: Any) -> Any: ...

    def holds_another_role(
        self, org_id: str, user_id: str, role_id: str, *, valid: timedelta = SIGHTING_VALID
    ) -> bool:
        """True when removing ``role_id`` cannot have been the user's last role: the ledger holds
        another membership of theirs in the organization, or a role jitflow did not create was
        seen within ``valid``. Asked after this membership left the ledger, so of two removals
        of one user at once, the later one to ask sees the other gone and lists."""
        org, user, role = _ids(
            (org_id, "organization id"), (user_id, "user id"), (role_id, "role id")
        )
        with self._reading() as connection:
            other = connection.execute(
                select(created_memberships.c.role_id)
                .where(
                    created_memberships.c.org_id == org,
                    created_memberships.c.user_id == user,
                    created_memberships.c.role_id != role,
                )
                .limit(1)
            ).first()
            if other is not None:
                return True
            seen = connection.execute(
                select(standing_roles_seen.c.seen_at).where(
                    standing_roles_seen.c.org_id == org, standing_roles_seen.c.user_id == user
                )
            ).scalar_one_or_none()
        return seen is not None and _aware(seen) > datetime.now(UTC) - valid

    def saw_standing_role(self, org_id: str, user_id: str) -> None:
        """The user holds a role jitflow did not create (found as standing access)."""
        with self._transaction() as connection:
            self._note_sighting(
                connection, *_ids((org_id, "organization id"), (user_id, "user id"))
            )

    def saw_still_member(self, org_id: str, user_id: str) -> None:
        """A listing after a removal still found the user in the organization: a sighting when
        the ledger holds no membership of theirs there (else that membership may be what keeps
        them in, and it is not standing)."""
        org, user = _ids((org_id, "organization id"), (user_id, "user id"))
        with self._transaction() as connection:
            held = connection.execute(
                select(created_memberships.c.role_id)
                .where(created_memberships.c.org_id == org, created_memberships.c.user_id == user)
                .limit(1)
            ).first()
            if held is None:
                self._note_sighting(connection, org, user)

    def _note_sighting(self, connection: Connection, org: str, user: str) -> None:
        seen_at = datetime.now(UTC)
        connection.execute(
            self._insert(standing_roles_seen)
            .values(org_id=org, user_id=user, seen_at=seen_at)
            .on_conflict_do_update(
                index_elements=[standing_roles_seen.c.org_id, standing_roles_seen.c.user_id],
                set_={"seen_at": seen_at},
            )
        )
