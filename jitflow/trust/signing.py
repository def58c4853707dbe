"""Making a ``DecisionProof``: what ``jitflow approve|deny|revoke|cancel`` and ``jitflow sign`` do.

The decider signs what they see (the request, its first run, the role and user, the length) with
their own private key; the worker later checks the signature with the public key registered for
them. The private key never leaves the decider's machine.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from jitflow.contracts.access import AccessState
from jitflow.contracts.base import normalize_email
from jitflow.contracts.trust import (
    DECISION_PROOF_LIFETIME_SECONDS,
    DecisionAction,
    DecisionProof,
)

#: Signs bytes, returning a base64 signature (a private key's, or an ssh-agent's).
SignFunction = Callable[[bytes], str]


def make_proof(
    *,
    action: DecisionAction,
    state: AccessState,
    run_id: str,
    decider: str,
    message: str | None,
    fingerprint: str,
    sign: SignFunction,
    now: datetime | None = None,
    lifetime: timedelta = timedelta(seconds=DECISION_PROOF_LIFETIME_SECONDS),
) -> DecisionProof:
    """A signed proof that ``decider`` takes ``action`` on the request ``state`` describes."""
    resolved = state.resolved
    return sign_decision(
        action=action,
        workflow_id=state.workflow_id,
        run_id=run_id,
        decider=decider,
        org_id=resolved.org_id if resolved else "",
        role_id=resolved.target.role_id if resolved else "",
        user_id=state.aptible_user_id or "",
        max_duration_seconds=resolved.duration_seconds if resolved else None,
        message=message,
        fingerprint=fingerprint,
        sign=sign,
        now=now,
        lifetime=lifetime,
    )


def sign_decision(
    *,
    action: DecisionAction,
    workflow_id: str,
    run_id: str,
    decider: str,
    org_id: str,
    role_id: str,
    user_id: str,
    max_duration_seconds: int | None,
    message: str | None,
    fingerprint: str,
    sign: SignFunction,
    now: datetime | None = None,
    lifetime: timedelta = timedelta(seconds=DECISION_PROOF_LIFETIME_SECONDS),
) -> DecisionProof:
    """A signed proof from its parts, for callers that know them without asking the request."""
    issued = (now or datetime.now(UTC)).replace(microsecond=0)
    unsigned = DecisionProof(
        action=action,
        workflow_id=workflow_id,
        run_id=run_id,
        decider=normalize_email(decider),
        org_id=org_id,
        role_id=role_id,
        user_id=user_id,
        max_duration_seconds=max_duration_seconds if action == "approve" else None,
        message=message,
        issued_at=issued,
        expires_at=issued + lifetime,
        nonce=secrets.token_hex(16),
        key_fingerprint=fingerprint,
        signature="",
    )
    return unsigned.model_copy(update={"signature": sign(unsigned.signed_bytes())})
