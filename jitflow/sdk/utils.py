"""Sym's ``sym.sdk.utils``: identity persistence, which jitflow does through its CLI."""

from __future__ import annotations

from jitflow.sdk._context import not_available
from jitflow.sdk.user import UserIdentity


def persist_user_identity(email: str, service: str, service_id: str, user_id: str) -> UserIdentity:
    """Sym saves an identity found by a custom strategy; jitflow saves them with ``jitflow users``.

    Return the identity from ``get_identity`` instead: jitflow persists what it returns.
    """
    raise not_available(
        "persist_user_identity", "return the identity from get_identity and jitflow stores it"
    )
