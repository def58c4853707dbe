"""Checking a person's decision proof and the worker's grant tickets: pure functions.

Each returns ``None`` when the statement holds, otherwise the reason it is refused, in words a
caller can act on. The same functions serve the update validators (with the in-memory
``TrustDirectory``) and the grant path (with keys read from the identity store just before).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from jitflow.contracts.base import normalize_email
from jitflow.contracts.membership import Lease, LeaseEnded, MembershipKey
from jitflow.contracts.trust import DecisionProof, GrantTicket
from jitflow.trust.directory import TrustDirectory

#: Clocks differ: a proof issued this far in the future is still accepted.
CLOCK_SKEW = timedelta(minutes=5)
#: The longest grant jitflow will hold a membership for (a bound that also keeps date arithmetic
#: far from overflow).
MAX_GRANT = timedelta(days=366)
MAX_GRANT_SECONDS = int(MAX_GRANT.total_seconds())


def aware(moment: datetime | None) -> bool:
    return moment is None or (moment.tzinfo is not None and moment.utcoffset() is not None)


def decision_proof_refusal(
    proof: DecisionProof | None,
    *,
    action: str,
    decider: str,
    message: str | None,
    workflow_id: str,
    run_id: str,
    now: datetime,
    directory: TrustDirectory,
) -> str | None:
    """Why ``proof`` does not prove that ``decider`` took ``action`` on this run now."""
    who = normalize_email(decider)
    if proof is None:
        return (
            f"{action} needs a signed proof from {who}: use `jitflow {action} ... --key KEY`, or "
            f"`jitflow sign {action} ...` to make the --input of `temporal workflow update`"
        )
    if proof.action != action:
        return f"the proof is for {proof.action!r}, not {action!r}"
    if normalize_email(proof.decider) != who:
        return f"the proof was signed for {proof.decider}, not {who}"
    if (proof.message or None) != (message or None):
        return "the decision's message differs from the one its proof signs"
    if proof.workflow_id != workflow_id or proof.run_id != run_id:
        return (
            f"the proof is for request {proof.workflow_id} (run {proof.run_id}), "
            f"not this one ({workflow_id}, run {run_id})"
        )
    if not (aware(proof.issued_at) and aware(proof.expires_at)):
        return "the proof's times must carry a time zone"
    if proof.issued_at - CLOCK_SKEW > now:
        return f"the proof was issued in the future ({proof.issued_at.isoformat()})"
    if proof.expires_at < now:
        return f"the proof expired at {proof.expires_at.isoformat()}; sign the decision again"
    person = directory.person(proof.key_fingerprint)
    front_door = directory.front_door_key(proof.key_fingerprint) if person is None else None
    if front_door is not None:
        # A front door (the Slack one) verified who clicked and vouches for them: its key, read
        # from Secrets Manager by this worker, never from the proof, speaks for any decider.
        if not front_door.verify(proof.signed_bytes(), proof.signature):
            return "the proof's signature does not verify with the front door's key"
        return None
    if person is None:
        return (
            f"key {proof.key_fingerprint} is not registered; add it with "
            f"`jitflow users add-key {who} KEY.pub`"
        )
    if person.email != who:
        return f"key {proof.key_fingerprint} belongs to {person.email}, not {who}"
    if not person.key.verify(proof.signed_bytes(), proof.signature):
        return "the proof's signature does not verify"
    return None


def ticket_refusal(
    ticket: GrantTicket | None,
    *,
    key: MembershipKey,
    holder: str | None,
    now: datetime,
    directory: TrustDirectory,
) -> str | None:
    """Why ``ticket`` does not let ``holder`` hold ``key``'s membership now."""
    if ticket is None:
        return "a lease needs a grant ticket signed by the jitflow worker"
    if (ticket.org_id, ticket.role_id, ticket.user_id) != (
        key.org_id.lower(),
        key.role_id.lower(),
        key.user_id.lower(),
    ):
        return "the grant ticket is for another membership"
    if holder is not None and ticket.holder != holder:
        return f"the grant ticket belongs to {ticket.holder}, not {holder}"
    if not (aware(ticket.not_after) and aware(ticket.issued_at)):
        return "the grant ticket's times must carry a time zone"
    if ticket.not_after is not None and ticket.not_after <= now:
        return f"the grant ticket ended at {ticket.not_after.isoformat()}"
    worker_key = directory.worker_key(ticket.key_id)
    if worker_key is None or not worker_key.verify(ticket.signed_bytes(), ticket.signature):
        return "the grant ticket's signature does not verify with the worker's key"
    return None


def lease_refusal(
    lease: Lease, key: MembershipKey, now: datetime, directory: TrustDirectory
) -> str | None:
    """Why the owner must refuse ``lease``: malformed, unsigned, or longer than its ticket."""
    if not lease.holder:
        return "a lease needs a holder"
    if not (aware(lease.ends_at) and aware(lease.granted_at)):
        return "a lease's times must carry a time zone (e.g. 2030-01-01T00:00:00Z)"
    if lease.duration_seconds is not None and not (
        0 < lease.duration_seconds <= MAX_GRANT.total_seconds()
    ):
        return f"duration_seconds {lease.duration_seconds} is outside 1..{int(MAX_GRANT.total_seconds())}"
    refusal = ticket_refusal(
        lease.ticket, key=key, holder=lease.holder, now=now, directory=directory
    )
    if refusal:
        return refusal
    ticket = lease.ticket
    assert ticket is not None
    if ticket.not_after is not None and (lease.ends_at is None or lease.ends_at > ticket.not_after):
        return f"the lease ends after its grant ticket allows ({ticket.not_after.isoformat()})"
    if ticket.duration_seconds != lease.duration_seconds:
        return "the lease's duration differs from its grant ticket's"
    return None


def lease_ended_refusal(
    news: LeaseEnded, *, holder: str, run_id: str, owner_id: str, directory: TrustDirectory
) -> str | None:
    """Why a request must refuse ``news`` of its lease's end: not for this run of this request
    from this request's owner, or not signed by a jitflow worker."""
    if (news.holder, news.holder_run_id) != (holder, run_id):
        return "the news is for another request run"
    if news.membership_workflow_id != owner_id:
        return "the news is from another membership's owner"
    worker_key = directory.worker_key(news.key_id) if news.key_id else None
    if worker_key is None or not worker_key.verify(news.signed_bytes(), news.signature):
        return "the news's signature does not verify with the worker's key"
    return None
