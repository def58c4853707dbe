"""Proofs of who decided, and the worker's signed grants: what travels in updates and leases.

A person proves a decision by signing a ``DecisionProof`` with their Ed25519 key (an OpenSSH key,
registered with ``jitflow users add-key``); the worker proves what it authorised by signing a
``GrantTicket`` with its own key. (An ``on_request`` hook's automatic approval needs no token:
the worker runs the hook again itself, on facts it rebuilt, before it signs a ticket.) Both are verified by the worker where the side effect happens,
from keys a workflow input cannot supply, so a caller who can start and update workflows, or run
a worker of their own, cannot forge either. Signed bytes are canonical JSON with a domain prefix,
so a signature for one kind of statement never verifies as another.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from jitflow.contracts.base import Contract

DecisionAction = Literal["approve", "deny", "revoke", "cancel"]

#: How long a signed decision may be presented after it was signed.
DECISION_PROOF_LIFETIME_SECONDS = 10 * 60


def canonical_bytes(domain: str, fields: dict[str, Any]) -> bytes:
    """``domain`` + newline + JSON with sorted keys and no spaces: what is signed."""
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return f"{domain}\n{body}".encode()


class DecisionProof(Contract):
    """A person's signature over one decision on one run of one request."""

    version: Literal[1] = 1
    action: DecisionAction
    workflow_id: str
    run_id: str
    """The request's first run id: a proof for one run never serves a later run of the id."""
    decider: str
    """The email of who decides; the key must be registered to this email."""
    org_id: str
    role_id: str
    user_id: str
    """The requester's Aptible user: what the approval is for."""
    max_duration_seconds: int | None = None
    """For ``approve``: the longest grant this approval allows."""
    message: str | None = None
    issued_at: datetime
    expires_at: datetime
    nonce: str
    key_fingerprint: str
    """``SHA256:...`` as ``ssh-keygen -lf`` prints it."""
    signature: str
    """Base64 Ed25519 signature over ``signed_bytes()``."""

    def signed_bytes(self) -> bytes:
        fields = self.model_dump(mode="json", exclude={"signature"})
        return canonical_bytes("jitflow-decision-v1", fields)


class GrantTicket(Contract):
    """The worker's statement that one run of one request may hold one membership until
    ``not_after``; the owner and the add-membership activity accept no lease without one."""

    version: Literal[1] = 1
    holder: str
    """The ``AccessRequest`` workflow id."""
    holder_run_id: str
    org_id: str
    role_id: str
    user_id: str
    duration_seconds: int | None
    """The approved length; ``None`` for a grant that lasts until released."""
    not_after: datetime | None
    """The latest moment the grant may still hold the membership; ``None`` until released."""
    approved_by: str
    """Who approved (an email, or ``hook:on_request`` for an automatic approval)."""
    issued_at: datetime
    key_id: str
    """Fingerprint of the worker key that signed."""
    signature: str

    def signed_bytes(self) -> bytes:
        fields = self.model_dump(mode="json", exclude={"signature"})
        return canonical_bytes("jitflow-grant-v1", fields)


def ticket_id(holder: str, run_id: str) -> str:
    """How a grant ticket is named in the ledger of closed grants."""
    return f"{holder}/{run_id}"
