"""The reconciler's messages: what Aptible holds, what jitflow holds, and what was done about it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from jitflow.contracts.base import Contract
from jitflow.contracts.membership import MembershipKey

RECONCILE_WORKFLOW_TYPE = "ReconcileMemberships"

DriftKind = Literal["orphan", "unknown", "vanished"]


class ReconcileInput(Contract):
    """Reconcile one integration's target roles; ``dry_run`` reports without changing anything."""

    integration_key: str
    dry_run: bool = False


class RoleMember(Contract):
    """One membership of a target role, with what jitflow knows of it."""

    key: MembershipKey
    membership_id: str
    ledger: str | None
    """``created``/``intended`` when jitflow created it (the ledger), else None."""
    remove_unknown: bool = False
    """The target's flow asks for unknown memberships to go (``vars.reconcile = "remove"``)."""


class RoleListing(Contract):
    """Every membership of an integration's target roles, and the ledger's rows without one."""

    members: tuple[RoleMember, ...]
    vanished: tuple[MembershipKey, ...] = ()
    """Memberships the ledger says jitflow created that Aptible no longer has."""
    problems: tuple[str, ...] = ()
    """Roles that could not be listed, and why (the others are reconciled all the same)."""
    listed_at: datetime | None = None
    """When the listing began: an owner told its membership vanished ignores the news when its
    membership was created after this (the listing could not have seen it)."""


class ListingCall(Contract):
    integration_key: str


class RunningOwners(Contract):
    workflow_ids: tuple[str, ...]


class Drift(Contract):
    """One difference between Aptible and jitflow, and what the reconciler did."""

    kind: DriftKind
    key: MembershipKey
    action: Literal["removed", "reported", "would remove", "told the owner", "would tell the owner"]


class ReconcileReport(Contract):
    """The result of one reconcile run (its workflow's result, and ``jitflow reconcile``'s)."""

    integration_key: str
    dry_run: bool
    memberships_seen: int
    drift: tuple[Drift, ...]
    problems: tuple[str, ...] = ()
