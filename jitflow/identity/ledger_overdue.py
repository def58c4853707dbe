"""Which memberships in the ledger have no grant left: the expiry guard's question.

Functions over one connection, used by ``TrustRecords``. A grant ends at its ticket's
``not_after`` or when it was closed, whichever is first; an until-released ticket that is not
closed holds the membership, whatever its age. A ledger row without any ticket (written before
tickets existed) is not judged, and neither is one written within the grace (a membership being
added right now).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, select, update

from jitflow.identity.models import OverdueMembership
from jitflow.identity.schema import closed_grants, created_memberships, issued_tickets

#: Ticket ids per ``IN (...)``: far below SQLite's and PostgreSQL's bound on parameters.
_CHUNK = 500


def aware(value: datetime) -> datetime:
    """In UTC whatever the backend: SQLite hands back naive timestamps (written in UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def ticket_columns(ticket: str) -> dict[str, Any]:
    """The membership and the end a ticket's JSON names, as ``issued_tickets`` columns."""
    body = json.loads(ticket)
    not_after = body.get("not_after")
    return {
        "org_id": str(body["org_id"]).lower(),
        "role_id": str(body["role_id"]).lower(),
        "user_id": str(body["user_id"]).lower(),
        "not_after": aware(datetime.fromisoformat(not_after)) if not_after else None,
    }


def fill_ticket_columns(connection: Connection) -> None:
    """Fill the columns of tickets written without them (by a jitflow from before migration 0004,
    still serving requests pinned to it during an upgrade), so that no ticket goes unseen."""
    rows = connection.execute(
        select(issued_tickets.c.ticket_id, issued_tickets.c.ticket).where(
            issued_tickets.c.org_id.is_(None)
        )
    ).all()
    for ticket_id, text in rows:
        connection.execute(
            update(issued_tickets)
            .where(issued_tickets.c.ticket_id == ticket_id)
            .values(**ticket_columns(text))
        )


def candidates(connection: Connection, cutoff: datetime) -> Sequence[Row[Any]]:
    """Ledger rows last written before ``cutoff``."""
    return connection.execute(
        select(created_memberships).where(created_memberships.c.updated_at < cutoff)
    ).all()


def judge(connection: Connection, row: Row[Any], cutoff: datetime) -> OverdueMembership | None:
    """``row``'s membership if every one of its grants ended before ``cutoff``."""
    tickets = connection.execute(
        select(issued_tickets.c.ticket_id, issued_tickets.c.not_after).where(
            issued_tickets.c.org_id == row.org_id,
            issued_tickets.c.role_id == row.role_id,
            issued_tickets.c.user_id == row.user_id,
        )
    ).all()
    if not tickets:
        return None
    ids = [t.ticket_id for t in tickets]
    closed: dict[str, datetime] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        found = connection.execute(
            select(closed_grants.c.ticket_id, closed_grants.c.closed_at).where(
                closed_grants.c.ticket_id.in_(chunk)
            )
        ).all()
        closed.update((ticket_id, closed_at) for ticket_id, closed_at in found)
    ends: list[datetime] = []
    for ticket in tickets:
        limits = [aware(t) for t in (ticket.not_after, closed.get(ticket.ticket_id)) if t]
        if not limits:
            return None  # until released, and not released: the membership is held
        ends.append(min(limits))
    last_end = max(ends)
    if last_end >= cutoff:
        return None
    return OverdueMembership(
        org_id=row.org_id,
        role_id=row.role_id,
        user_id=row.user_id,
        membership_id=row.membership_id,
        last_end=last_end,
        tickets=len(tickets),
        updated_at=aware(row.updated_at),
    )
