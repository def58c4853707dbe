"""The worker signs a removal's news only for a grant its own records show ended.

Whoever can run a workflow can schedule the removal activity with any input, including whom it
tells. So ``GrantAuthority.vouch`` reads the ticket the worker issued for that request run from
the identity store and signs only when it is for this membership, has a duration, and that
duration has run out; the request's validator then checks the signature (``lease_ended_refusal``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from activities.grant_authority import GrantAuthority
from jitflow.contracts.membership import LeaseEnded, MembershipKey
from jitflow.contracts.trust import GrantTicket, ticket_id
from jitflow.trust.checks import lease_ended_refusal
from jitflow.trust.directory import TrustDirectory
from jitflow.trust.keys import generate_private_key
from jitflow.trust.worker_key import WorkerKeyring

ISSUED = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
KEY = MembershipKey(org_id="org", role_id="role", user_id="user", integration_key="aptible")


class Tickets:
    """The identity store's issued tickets, and nothing else the authority needs here."""

    def __init__(self) -> None:
        self.tickets: dict[str, str] = {}

    def issued_ticket(self, ticket: str) -> str | None:
        return self.tickets.get(ticket)

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"vouch must not use the store's {name}")


def _issue(store: Tickets, keyring: WorkerKeyring, run_id: str, **changes: Any) -> None:
    fields: dict[str, Any] = {
        "holder": "access/req",
        "holder_run_id": run_id,
        "org_id": "org",
        "role_id": "role",
        "user_id": "user",
        "duration_seconds": 600,
        "not_after": ISSUED + timedelta(minutes=25),
        "approved_by": "bob@example.com",
        "issued_at": ISSUED,
        "key_id": keyring.key_id,
        "signature": "",
        **changes,
    }
    store.tickets[ticket_id("access/req", run_id)] = GrantTicket(**fields).model_dump_json()


def _news(run_id: str) -> LeaseEnded:
    return LeaseEnded(
        membership_workflow_id=KEY.workflow_id,
        holder="access/req",
        holder_run_id=run_id,
        membership_removed=True,
        remaining_leases=0,
    )


@pytest.fixture
def setup() -> tuple[GrantAuthority, Tickets, WorkerKeyring, TrustDirectory]:
    keyring = WorkerKeyring(generate_private_key(), secret_name="in-memory")
    directory = TrustDirectory()
    directory.add_worker_keys(keyring.public_keys())
    store = Tickets()
    authority = GrantAuthority(
        config=None,  # type: ignore[arg-type]
        store=store,  # type: ignore[arg-type]
        signer=keyring,
        directory=directory,
        client=None,  # type: ignore[arg-type]
        permissions=None,  # type: ignore[arg-type]
        hook=None,  # type: ignore[arg-type]
    )
    return authority, store, keyring, directory


@pytest.mark.asyncio
async def test_news_is_signed_only_for_an_ended_timed_grant_of_this_membership(
    setup: tuple[GrantAuthority, Tickets, WorkerKeyring, TrustDirectory],
) -> None:
    authority, store, keyring, directory = setup
    _issue(store, keyring, "ended")
    _issue(store, keyring, "other-role", role_id="another-role")
    _issue(store, keyring, "until-released", duration_seconds=None, not_after=None)
    after_end = ISSUED + timedelta(seconds=601)

    signed = await authority.vouch(_news("ended"), KEY, after_end)
    assert signed is not None and signed.key_id == keyring.key_id
    refusal = lease_ended_refusal(
        signed, holder="access/req", run_id="ended", owner_id=KEY.workflow_id, directory=directory
    )
    assert refusal is None

    assert await authority.vouch(_news("ended"), KEY, ISSUED + timedelta(seconds=599)) is None
    assert await authority.vouch(_news("never-issued"), KEY, after_end) is None
    assert await authority.vouch(_news("other-role"), KEY, after_end) is None
    assert await authority.vouch(_news("until-released"), KEY, after_end) is None


@pytest.mark.asyncio
async def test_signed_news_serves_no_other_run_owner_or_edit(
    setup: tuple[GrantAuthority, Tickets, WorkerKeyring, TrustDirectory],
) -> None:
    authority, store, keyring, directory = setup
    _issue(store, keyring, "ended")
    signed = await authority.vouch(_news("ended"), KEY, ISSUED + timedelta(hours=1))
    assert signed is not None
    checks = {"holder": "access/req", "owner_id": KEY.workflow_id, "directory": directory}
    assert "another request run" in str(lease_ended_refusal(signed, run_id="next-run", **checks))
    other_owner = {**checks, "owner_id": "membership/x/y/z"}
    assert "another membership" in str(lease_ended_refusal(signed, run_id="ended", **other_owner))
    edited = signed.model_copy(update={"remaining_leases": 3})
    assert "signature" in str(lease_ended_refusal(edited, run_id="ended", **checks))
