"""``RoleMembership``'s messages: the membership key, leases, and the Aptible activity calls.

The owner workflow, the lease activities that reach it with update-with-start, and the Aptible
activities it schedules all speak these. Ids and flags only: never a credential.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import model_validator

from jitflow.contracts.access import TimelineEntry
from jitflow.contracts.base import Contract
from jitflow.contracts.trust import DecisionProof, GrantTicket, canonical_bytes


class MembershipKey(Contract):
    """One (organization, role, Aptible user) membership and the integration managing it."""

    org_id: str
    role_id: str
    user_id: str
    integration_key: str

    @property
    def workflow_id(self) -> str:
        return membership_workflow_id(self.org_id, self.role_id, self.user_id)


def membership_workflow_id(org_id: str, role_id: str, user_id: str) -> str:
    """The deterministic id of the owner of one membership."""
    return f"membership/{org_id.lower()}/{role_id.lower()}/{user_id.lower()}"


def release_update_id(holder: str, holder_run_id: str | None) -> str:
    """The update id of one request run's ``release_lease``: the request's own release and a
    mass revocation's release ahead of it share it, so that while the owner still runs (for
    other leases) the server answers the second with the first's outcome instead of running it
    again; an owner that finished with that lease answers NOT_FOUND, and the release asks the
    ledger whether anything is left."""
    return f"release/{holder}/{holder_run_id}"


class Lease(Contract):
    """A grant's claim on a membership: held by ``holder`` (an AccessRequest) until ``ends_at``."""

    holder: str
    ends_at: datetime | None = None
    """``None`` means until released (flows with ``schedule_deescalation = false``)."""
    granted_at: datetime | None = None
    duration_seconds: int | None = None
    """When set, the owner moves ``ends_at`` to this long after the membership is confirmed, so
    a grant's length counts from escalation even when Aptible was slow or down for a while."""
    ticket: GrantTicket | None = None
    """The worker's signature over this grant; the owner refuses a lease without a valid one."""
    requester: str | None = None
    """Whose access this is (an email), for people: the owner's Web UI summary and details say
    it instead of the Aptible user's UUID. Set by ``acquire_lease`` from the request as started;
    ``None`` in leases from before this field. Presentation only: nothing decides on it."""
    target: str | None = None
    """The target's key (``admin_prod``, as ``jitflow list`` and ``JitTarget`` show it)."""
    target_label: str | None = None
    """The target's label (``Admin Role``), for reading."""


def membership_title(key: MembershipKey, lease: Lease | None = None) -> str:
    """Whose access on which role a ``RoleMembership`` owner holds, in one line for people
    (``alice@example.com in Admin Role (admin_prod)``); the UUIDs when no lease names them."""
    if lease is None or lease.requester is None or lease.target is None:
        return f"Aptible user {key.user_id} in role {key.role_id}"
    role = f"{lease.target_label} ({lease.target})" if lease.target_label else lease.target
    return f"{lease.requester} in {role}"


class LeaseRequest(Contract):
    """Add (or extend) a lease; the owner makes sure the membership exists before answering.

    To ``acquire_lease`` the request carries the evidence of approval (a person's proof); the
    activity checks it and sends the owner a ticketed lease.
    """

    key: MembershipKey
    lease: Lease
    proof: DecisionProof | None = None
    """A person's approval; without one, the worker asks the flow's ``on_request`` itself."""


class LeaseRelease(Contract):
    """Release ``holder``'s lease; the owner removes the membership when no lease is left."""

    key: MembershipKey
    holder: str
    reason: str = "released"


class LeaseGrant(Contract):
    """The owner's answer to a lease: the membership exists, and whether it was standing access."""

    membership_workflow_id: str
    membership_id: str | None
    preexisting: bool
    ends_at: datetime | None
    active_leases: int
    confirmed_at: datetime | None = None
    """When the owner knew the membership existed: the moment access was granted."""


class LeaseReleased(Contract):
    """The owner's answer to a release."""

    membership_workflow_id: str
    released: bool
    """False when the owner held no such lease (already released, or ended on its timer)."""
    membership_removed: bool
    remaining_leases: int
    cleanup: bool = False
    """True when the owner had been closed without removing: a cleanup owner removed what
    jitflow created."""


class MembershipRecord(Contract):
    """What the owner knows about the Aptible membership itself."""

    membership_id: str | None
    preexisting: bool
    created_at: datetime


#: The longest an owner lingers after its removal, whatever its start input asks (anyone can
#: start an owner) and whatever a worker is set to.
OWNER_LINGER_LIMIT = timedelta(minutes=10)


class RoleMembershipInput(Contract):
    """Start (or continue-as-new) state of a ``RoleMembership`` owner."""

    key: MembershipKey
    leases: tuple[Lease, ...] = ()
    membership: MembershipRecord | None = None
    audit: tuple[TimelineEntry, ...] = ()
    """The last entries of the audit trail, carried across continue-as-new."""
    closed: tuple[str, ...] = ()
    """Ticket ids of leases that ended since the last removal, carried across continue-as-new."""
    released: tuple[str, ...] = ()
    """Ticket ids of released leases: a lease arriving after its release is refused."""
    vanished: bool = False
    """The membership was removed outside jitflow: not re-added until a new lease arrives."""
    linger: timedelta = timedelta(0)
    """How long the owner stays open after it removed the membership, for a new lease, before it
    closes (the starting worker's ``JITFLOW_OWNER_LINGER``, at most ``OWNER_LINGER_LIMIT``, and
    carried across continue-as-new): closing is a visibility write the server does while the
    removals still due wait, so it comes after them. Runs started before it had none."""


class RoleMembershipState(Contract):
    """The owner's ``state`` query and result."""

    key: MembershipKey
    leases: tuple[Lease, ...]
    membership: MembershipRecord | None
    audit: tuple[TimelineEntry, ...]


class AddMembershipCall(Contract):
    """Make sure ``key``'s membership exists in Aptible, on the strength of ``tickets``."""

    key: MembershipKey
    tickets: tuple[GrantTicket, ...] = ()


class MembershipAdded(Contract):
    membership_id: str | None
    preexisting: bool


class LeaseHolderRun(Contract):
    """One run of a request that held a lease (a ticket names it: ``ticket_id``)."""

    holder: str
    run_id: str


class LeaseEndNotice(Contract):
    """What one unreleased build (55cb574) signalled instead of ``LeaseEnded``, unsigned: kept
    only so its recorded histories replay; requests from later builds ignore it. Also the part
    of ``LeaseEnded`` that says what became of the membership."""

    membership_workflow_id: str
    membership_removed: bool
    remaining_leases: int

    def as_release(self) -> LeaseReleased:
        """What a release would have answered."""
        return LeaseReleased(
            membership_workflow_id=self.membership_workflow_id,
            released=True,
            membership_removed=self.membership_removed,
            remaining_leases=self.remaining_leases,
        )


class LeaseEnded(LeaseEndNotice):
    """The worker's word to one request run that its grant ended and the membership was removed,
    signed with the worker's key (``signed_bytes``). The worker signs only when the ticket it
    issued for that run is for this membership and its duration has run out, after deleting the
    membership its ledger recorded; the request's validator checks the signature and its own end
    (anyone can send updates, and anyone can schedule the removal activity)."""

    version: Literal[1] = 1
    holder: str
    holder_run_id: str
    key_id: str = ""
    signature: str = ""

    def signed_bytes(self) -> bytes:
        fields = self.model_dump(mode="json", exclude={"signature"})
        return canonical_bytes("jitflow-lease-ended-v1", fields)


class LeaseEndHint(Contract):
    """The owner's unsigned hint that a request's lease ended while the membership stays (for
    another lease, or standing access). It proves nothing: after its end, the request releases
    its lease to hear the outcome from the owner itself, without waiting out ``NEWS_GRACE``."""

    membership_workflow_id: str


class RemoveMembershipCall(Contract):
    """Make sure ``key``'s membership no longer exists in Aptible."""

    key: MembershipKey
    membership_id: str | None
    closed: tuple[str, ...] = ()
    """Ticket ids (``ticket_id``) of the grants that ended: recorded before the removal, so an
    add replayed with one of their tickets is refused."""
    tell: tuple[LeaseHolderRun, ...] = ()
    """Requests whose lease ended on its timer: sent a signed ``LeaseEnded`` once the membership
    is gone, so they record the end without a release round trip."""


class MembershipRemoved(Contract):
    removed: bool
    already_absent: bool
    left_organization: bool


class ReleaseLease(Contract):
    """Body of the owner's ``release_lease`` update: give back ``holder``'s lease.

    A bare JSON string (``"<request workflow id>"``, the form before this model) is still read
    as the holder, so owners running before the change and hand-typed releases keep working.
    """

    holder: str
    reason: str = "released"
    holder_run_id: str | None = None
    """The run of the holder: its late lease, if any, is refused from now on."""

    @model_validator(mode="before")
    @classmethod
    def _holder_as_string(cls, data: Any) -> Any:
        return {"holder": data} if isinstance(data, str) else data


class MembershipVanished(Contract):
    """The reconciler's news to an owner: Aptible had no membership that the ledger says jitflow
    created, in a listing that began at ``listed_at``."""

    listed_at: datetime
