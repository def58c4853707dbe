"""Test keys for people, and a client that signs the decisions a test sends, as a person would.

The suite's scenarios send ``Decision(approver="dave@example.com")`` the way they always did;
``SigningInterceptor`` adds the proof that ``jitflow approve --key`` would add, with the key this
module made for that email. A test that wants an unsigned or forged decision uses a client
without the interceptor.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from temporalio.client import (
    Client,
    Interceptor,
    OutboundInterceptor,
    StartWorkflowUpdateInput,
    WorkflowUpdateHandle,
)

from jitflow.access_client import AccessRequests
from jitflow.contracts.access import Cancellation, Decision, Revocation
from jitflow.contracts.base import normalize_email
from jitflow.contracts.trust import DecisionAction
from jitflow.trust.directory import TrustDirectory
from jitflow.trust.keys import PublicKey, generate_private_key, public_key_of, sign

#: The current time as the Temporal server sees it.
Clock = Callable[[], Awaitable[datetime]]

_DECISIONS: dict[str, DecisionAction] = {
    "approve": "approve",
    "deny": "deny",
    "revoke": "revoke",
    "cancel": "cancel",
}


class PersonKeys:
    """An Ed25519 key per email, made on first use."""

    def __init__(self) -> None:
        self._keys: dict[str, Ed25519PrivateKey] = {}

    def private(self, email: str) -> Ed25519PrivateKey:
        who = normalize_email(email)
        if who not in self._keys:
            self._keys[who] = generate_private_key()
        return self._keys[who]

    def public(self, email: str) -> PublicKey:
        return public_key_of(self.private(email), comment=normalize_email(email))

    def register(self, store: Any, emails: Iterable[str]) -> None:
        """Register each email's public key in an identity store (``add_key``)."""
        for email in emails:
            store.add_key(email, self.public(email).line)

    def fill(self, directory: TrustDirectory, emails: Iterable[str]) -> None:
        """Put each email's public key straight into a directory (workers without a store)."""
        directory.set_people([(email, self.public(email)) for email in emails])

    async def signed(
        self,
        client: Client,
        action: DecisionAction,
        workflow_id: str,
        who: str,
        message: str | None = None,
        now: datetime | None = None,
    ) -> Decision | Revocation | Cancellation:
        """The update body a person with this email's key would send."""
        key = self.private(who)
        signing_key = (public_key_of(key).fingerprint, lambda data: sign(key, data))
        return await AccessRequests(client).signed(
            action, workflow_id, who, message, signing_key, now
        )


class SigningInterceptor(Interceptor):
    """Adds a proof to every unsigned ``approve``/``deny``/``revoke``/``cancel`` update."""

    def __init__(self, keys: PersonKeys, clock: Clock | None = None) -> None:
        self.keys = keys
        self.clock = clock
        self.client: Client | None = None

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _SigningOutbound(next, self)


class _SigningOutbound(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, owner: SigningInterceptor) -> None:
        super().__init__(next)
        self._owner = owner

    async def start_workflow_update(
        self, input: StartWorkflowUpdateInput
    ) -> WorkflowUpdateHandle[Any]:
        action = _DECISIONS.get(input.update)
        body = input.args[0] if input.args else None
        client = self._owner.client
        unsigned = isinstance(body, Decision | Revocation | Cancellation) and body.proof is None
        if action and client and unsigned:
            assert isinstance(body, Decision | Revocation | Cancellation)
            who = body.approver if isinstance(body, Decision) else body.by
            clock = self._owner.clock
            now = await clock() if clock else None
            signed = await self._owner.keys.signed(client, action, input.id, who, body.message, now)
            input = dataclasses.replace(input, args=[signed])
        return await super().start_workflow_update(input)


def signing_client(client: Client, keys: PersonKeys, clock: Clock | None = None) -> Client:
    """``client`` with decisions signed by ``keys`` (the same connection and namespace).

    ``clock`` gives the time to sign at: the test server's virtual clock when time is skipped
    (the workflow checks a proof's expiry against its own clock)."""
    interceptor = SigningInterceptor(keys, clock)
    config = client.config()
    config["interceptors"] = [*config.get("interceptors", []), interceptor]
    signed = Client(**config)
    interceptor.client = client
    return signed
