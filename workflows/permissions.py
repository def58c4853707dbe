"""Who may approve, deny, cancel and revoke a request: pure rules over recorded permissions.

The update validators of ``AccessRequest`` call these with data already in history (the resolved
request and the recorded ``Permissions``), so a refusal needs no I/O and replays identically.
Each function returns ``None`` when the action is allowed, otherwise the reason it is refused.
"""

from __future__ import annotations

from datetime import datetime

from jitflow.contracts.access import AccessState, ResolvedRequest
from jitflow.contracts.base import normalize_email
from jitflow.contracts.events import Permissions
from jitflow.contracts.trust import DecisionProof
from jitflow.trust.checks import decision_proof_refusal
from jitflow.trust.directory import TrustDirectory


def may_decide(permissions: Permissions, email: str) -> bool:
    """Whether ``email`` is covered by the flow's approve/deny permission (admins always are)."""
    who = normalize_email(email)
    role = permissions.role_of(who)
    if role == "admin":
        return True
    if who in {normalize_email(approver) for approver in permissions.approvers}:
        return True
    levels = set(permissions.levels)
    if "all_users" in levels:
        return True
    if role == "member":
        return "member" in levels
    return "guest" in levels


def _guest_refusal(
    permissions: Permissions, resolved: ResolvedRequest, email: str, action: str
) -> str | None:
    if permissions.role_of(normalize_email(email)) == "guest" and not (
        resolved.allow_guest_interaction
    ):
        return (
            f"{email} is a guest and flow {resolved.flow_name!r} does not allow guests to {action} "
            "(params.allow_guest_interaction is false)"
        )
    return None


def decision_refusal(
    permissions: Permissions, resolved: ResolvedRequest, actor: str, action: str
) -> str | None:
    """Why ``actor`` may not ``approve`` or ``deny`` this request, or ``None``."""
    if not actor.strip():
        return f"{action} needs an approver email"
    refusal = _guest_refusal(permissions, resolved, actor, action)
    if refusal:
        return refusal
    if normalize_email(actor) == resolved.requester and not permissions.allow_self_approval:
        return (
            f"{actor} requested this access and may not {action} their own request "
            "(allow_self_approval is false)"
        )
    if not may_decide(permissions, actor):
        return (
            f"{actor} is not an approver of flow {resolved.flow_name!r}"
            f" (approvers: {describe_approvers(permissions)})"
        )
    return None


def revoke_refusal(
    permissions: Permissions, resolved: ResolvedRequest, actor: str, approver: str | None
) -> str | None:
    """Why ``actor`` may not revoke this grant, or ``None``: the requester or an approver may."""
    if not resolved.allow_revoke:
        return f"flow {resolved.flow_name!r} does not allow revoking (params.allow_revoke is false)"
    if not actor.strip():
        return "revoke needs the email of who revokes (by)"
    refusal = _guest_refusal(permissions, resolved, actor, "revoke")
    if refusal:
        return refusal
    who = normalize_email(actor)
    if who == resolved.requester or (approver and who == normalize_email(approver)):
        return None
    if may_decide(permissions, actor):
        return None
    return f"{actor} may not revoke: only the requester or an approver may"


#: Approvers named in refusals, the Web UI and Slack; a Slack channel's members may be hundreds.
APPROVERS_SHOWN = 10


def describe_approvers(permissions: Permissions) -> str:
    """A short human text of who may decide, for refusal messages and the Web UI."""
    parts = [f"users with role {level!r}" for level in permissions.levels]
    people = list(permissions.approvers)
    parts += people[:APPROVERS_SHOWN]
    if len(people) > APPROVERS_SHOWN:
        parts.append(f"{len(people) - APPROVERS_SHOWN} more people")
    if "users with role 'admin'" not in parts:
        parts.append("admins")
    return ", ".join(parts)


# --- The update validators' rules over the whole request state ------------------------------


def open_refusal(state: AccessState, action: str, *, expiring: bool, busy: bool) -> str | None:
    """Why a decision cannot be taken now: the request expired or was already decided."""
    if expiring:
        return f"cannot {action}: the request has expired"
    if state.status != "pending" or busy:
        decided = f" by {state.approver}" if state.approver else ""
        return f"cannot {action}: the request is already decided ({state.status}{decided})"
    return None


def approval_refusal(
    state: AccessState, action: str, actor: str, *, expiring: bool, busy: bool
) -> str | None:
    """Why ``actor`` may not ``approve``/``deny`` now. Before the request is set up only the
    timing is checked: the update handler applies the rules once permissions are known."""
    refusal = open_refusal(state, action, expiring=expiring, busy=busy)
    if refusal:
        return refusal
    if not actor.strip():
        return f"{action} needs an approver email"
    if not state.ready_for_decision or state.permissions is None or state.resolved is None:
        return None
    return decision_refusal(state.permissions, state.resolved, actor, action)


def cancel_refusal(state: AccessState, by: str, *, expiring: bool, busy: bool) -> str | None:
    """Why ``by`` may not cancel: only the requester may, and only while pending."""
    refusal = open_refusal(state, "cancel", expiring=expiring, busy=busy)
    if refusal:
        return refusal
    requester = normalize_email(
        state.resolved.requester if state.resolved else state.input.requester
    )
    if normalize_email(by) != requester:
        return f"{by} may not cancel: only the requester ({requester}) may"
    return None


def revocation_refusal(state: AccessState, by: str, revoked_by: str | None) -> str | None:
    """Why ``by`` may not revoke now: nothing granted, already revoked, or not allowed."""
    if state.status not in ("approved", "escalated"):
        return f"nothing to revoke: the request is {state.status}"
    if revoked_by is not None:
        return f"already revoked by {revoked_by}"
    if state.permissions is None or state.resolved is None:
        return "the request has not been resolved yet; try again in a moment"
    return revoke_refusal(state.permissions, state.resolved, by, state.approver)


# --- Who is speaking: the decider's signed proof ---------------------------------------------


def binding_refusal(state: AccessState, proof: DecisionProof) -> str | None:
    """Why an approval's proof is not about this grant (role, user, length); None when it is,
    or while the request is not set up yet (the update handler checks again once it is)."""
    resolved = state.resolved
    if proof.action != "approve" or resolved is None or state.aptible_user_id is None:
        return None
    approved = (proof.org_id.lower(), proof.role_id.lower(), proof.user_id.lower())
    actual = (resolved.org_id, resolved.target.role_id, state.aptible_user_id)
    if approved != tuple(part.lower() for part in actual):
        return "the proof approves another role or user than this request's"
    if proof.max_duration_seconds is None or proof.max_duration_seconds <= 0:
        return "an approval's proof must state the longest grant it allows"
    return None


def proof_refusal(
    state: AccessState,
    action: str,
    decider: str,
    proof: DecisionProof | None,
    message: str | None,
    *,
    used_nonces: set[str],
    run_id: str,
    now: datetime,
    directory: TrustDirectory,
) -> str | None:
    """Why this decision is not proven to come from ``decider`` (validators only: the answer
    depends on the worker's key directory, which a replay must never consult)."""
    if not directory.signed_decisions:
        return None
    refusal = decision_proof_refusal(
        proof,
        action=action,
        decider=decider,
        message=message,
        workflow_id=state.workflow_id,
        run_id=run_id,
        now=now,
        directory=directory,
    )
    if refusal:
        return refusal
    assert proof is not None
    if proof.nonce in used_nonces:
        return "this proof was already used; sign the decision again"
    return binding_refusal(state, proof)


def late_refusal(state: AccessState, action: str, body: object) -> str | None:
    """Why an ``approve``/``deny`` accepted before the request was set up is refused now that
    it is: the flow's rules, then (for an approval) what its proof is about."""
    approver = getattr(body, "approver", None)
    if approver is None or state.permissions is None or state.resolved is None:
        return None
    refusal = decision_refusal(state.permissions, state.resolved, approver, action)
    proof = getattr(body, "proof", None)
    if refusal is None and isinstance(proof, DecisionProof):
        refusal = binding_refusal(state, proof)
    return refusal
