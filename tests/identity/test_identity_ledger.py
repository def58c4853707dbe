"""The ledger's answer to the expiry guard: which memberships jitflow created have no grant left.

Each case writes tickets and ledger rows as the grant path does, then asks at a chosen moment.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from jitflow.identity import IdentityStore
from jitflow.identity.database import create_store_engine
from jitflow.identity.migrate import upgrade

ORG = "0rg00000-0000-4000-8000-000000000001"
ROLE = "R01e0000-0000-4000-8000-000000000001"
USER = "u5e40000-0000-4000-8000-000000000001"
#: A moment just ahead (ledger rows are written now, and a row is judged only after the grace).
T0 = datetime.now(UTC) + timedelta(minutes=1)
#: An end already an hour past.
ENDED = datetime.now(UTC) - timedelta(hours=1)
GRACE = timedelta(minutes=5)


def _ticket(holder: str, not_after: datetime | None, user: str = USER) -> str:
    return json.dumps(
        {
            "holder": holder,
            "holder_run_id": "run-1",
            "org_id": ORG,
            "role_id": ROLE,
            "user_id": user,
            "duration_seconds": 3600 if not_after else None,
            "not_after": not_after.isoformat() if not_after else None,
        }
    )


def _granted(store: IdentityStore, *tickets: tuple[str, datetime | None]) -> None:
    for holder, not_after in tickets:
        store.issue_ticket_once(f"{holder}/run-1", _ticket(holder, not_after))
    store.confirm_membership(ORG, ROLE, USER, "m-1")


def _overdue_users(store: IdentityStore, at: datetime) -> list[str]:
    return [m.user_id for m in store.overdue_memberships(at, GRACE)]


def test_a_membership_is_overdue_once_its_last_ticket_ended_and_the_grace_passed(
    store: IdentityStore,
) -> None:
    _granted(store, ("access-a", T0 + timedelta(hours=1)), ("access-b", T0 + timedelta(hours=2)))
    assert _overdue_users(store, T0 + timedelta(hours=1, minutes=30)) == []  # b still holds it
    assert _overdue_users(store, T0 + timedelta(hours=2, minutes=4)) == []  # within the grace
    [overdue] = store.overdue_memberships(T0 + timedelta(hours=2, minutes=6), GRACE)
    assert (overdue.role_id, overdue.user_id, overdue.membership_id) == (
        ROLE.lower(),
        USER.lower(),
        "m-1",
    )
    assert overdue.last_end == T0 + timedelta(hours=2) and overdue.tickets == 2


def test_a_closed_grant_ends_when_it_was_closed(store: IdentityStore) -> None:
    _granted(store, ("access-a", datetime.now(UTC) + timedelta(days=1)))
    store.close_grants(["access-a/run-1"])
    assert _overdue_users(store, datetime.now(UTC)) == []
    assert _overdue_users(store, datetime.now(UTC) + timedelta(minutes=6)) == [USER.lower()]


def test_an_until_released_grant_holds_the_membership_however_old(store: IdentityStore) -> None:
    _granted(store, ("access-a", ENDED), ("access-forever", None))
    assert _overdue_users(store, T0 + timedelta(days=3650)) == []
    store.close_grants(["access-forever/run-1"])
    assert _overdue_users(store, datetime.now(UTC) + timedelta(minutes=6)) == [USER.lower()]


def test_rows_without_tickets_and_removed_memberships_are_not_judged(store: IdentityStore) -> None:
    store.confirm_membership(ORG, ROLE, USER, "m-1")  # no ticket: predates tickets
    assert _overdue_users(store, T0 + timedelta(days=1)) == []
    store.issue_ticket_once("access-a/run-1", _ticket("access-a", ENDED))
    assert _overdue_users(store, datetime.now(UTC) + timedelta(minutes=6)) == [USER.lower()]
    store.forget_membership(ORG, ROLE, USER)
    assert _overdue_users(store, datetime.now(UTC) + timedelta(minutes=6)) == []


def test_a_membership_written_within_the_grace_is_not_judged(store: IdentityStore) -> None:
    _granted(store, ("access-a", datetime.now(UTC) - timedelta(hours=1)))
    # The row was just written (a membership being added now): left alone for the grace.
    assert _overdue_users(store, datetime.now(UTC)) == []
    assert _overdue_users(store, datetime.now(UTC) + timedelta(minutes=6)) == [USER.lower()]


def test_upgrading_fills_the_ticket_columns_of_tickets_issued_before(database_url: str) -> None:
    engine = create_store_engine(database_url)
    upgrade(engine, "0003")
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO issued_tickets (ticket_id, ticket, issued_at) VALUES (:i, :t, :at)"),
            {"i": "access-a/run-1", "t": _ticket("access-a", ENDED), "at": ENDED},
        )
    with IdentityStore(engine) as store:
        store.confirm_membership(ORG, ROLE, USER, "m-1")
        assert _overdue_users(store, datetime.now(UTC) + timedelta(minutes=6)) == [USER.lower()]


def test_a_row_rewritten_by_a_new_grant_is_not_forgotten_by_the_guard(store: IdentityStore) -> None:
    """The guard judged the row at one moment; a new grant's add rewrote it since: the guard's
    forget must leave it, or the new membership would look like standing access."""
    _granted(store, ("access-a", ENDED))
    later = datetime.now(UTC) + timedelta(minutes=6)
    [judged] = store.overdue_memberships(later, GRACE)
    again = store.overdue_membership(ORG, ROLE, USER, later, GRACE)
    assert again is not None and again.updated_at == judged.updated_at
    store.intend_membership(ORG, ROLE, USER)  # a new grant is adding it again
    fresh = store.overdue_membership(ORG, ROLE, USER, later, GRACE)
    assert fresh is not None and fresh.updated_at != judged.updated_at  # the guard skips it
    assert not store.forget_membership_if_unchanged(ORG, ROLE, USER, judged.updated_at)
    assert store.created_membership(ORG, ROLE, USER) == "intended"
    assert store.forget_membership_if_unchanged(ORG, ROLE, USER, fresh.updated_at)
    assert store.created_membership(ORG, ROLE, USER) is None


def test_tickets_written_without_the_columns_are_filled_and_judged(database_url: str) -> None:
    """A jitflow from before migration 0004, serving requests pinned to it during an upgrade,
    writes tickets without the columns; the guard fills them before judging."""
    with IdentityStore.open(database_url) as store:
        with store._transaction() as connection:
            connection.execute(
                text(
                    "INSERT INTO issued_tickets (ticket_id, ticket, issued_at) VALUES (:i, :t, :at)"
                ),
                {
                    "i": "access-live/run-1",
                    "t": _ticket("access-live", T0 + timedelta(hours=8)),
                    "at": T0,
                },
            )
        _granted(store, ("access-a", ENDED))
        # The old build's live ticket holds the membership: not overdue.
        assert _overdue_users(store, datetime.now(UTC) + timedelta(minutes=6)) == []
