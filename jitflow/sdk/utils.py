"""Sym's ``sym.sdk.utils``: saving a user's identity in a service, in jitflow's identity store."""

from __future__ import annotations

from jitflow.sdk._context import current_hub
from jitflow.sdk.exceptions import CouldNotSaveError
from jitflow.sdk.user import UserIdentity


def _could_not_save(name: str, message: str) -> CouldNotSaveError:
    return CouldNotSaveError(message)


def persist_user_identity(
    *, email: str, service: str, service_id: str, user_id: str
) -> UserIdentity:
    """Create or update the identity of the user ``email`` in ``service`` (instance
    ``service_id``), creating the user when jitflow does not know it, as Sym does.

    ``service`` is one of the identity store's service types (``pagerduty``, ``okta``,
    ``custom``...). Raises ``CouldNotSaveError`` when the identity cannot be saved.
    """
    hub = current_hub("persist_user_identity", _could_not_save)
    return hub.persist_identity(email, service, service_id, user_id)


__all__ = ["persist_user_identity"]
