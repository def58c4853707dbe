"""Inputs and outputs of the identity activities; plain pydantic, safe to import in workflows."""

from __future__ import annotations

from typing import Literal

from jitflow.contracts.base import Contract
from jitflow.contracts.events import EventData, UserData

#: ``ApplicationError.type`` of a failed resolution; workflows match on it.
IDENTITY_NOT_FOUND = "IdentityNotFound"
#: ``ApplicationError.type`` when a reducer, discovery or caller supplied an unusable value.
INVALID_IDENTITY = "InvalidIdentity"

IdentitySource = Literal["stored", "reducer", "discovered"]


class ResolveIdentityInput(Contract):
    """Find ``email``'s Aptible user id in organization ``org_id`` for ``flow``'s request."""

    email: str
    org_id: str
    """The ``sym_integration``'s ``external_id``: the Aptible organization UUID."""
    integration: str | None = None
    """The integration's resource key, so that discovery can log in with its bot user."""
    flow: str | None = None
    event: EventData | None = None
    """The event being handled, handed to the flow's ``get_identity`` reducer."""
    service_type: Literal["aptible"] = "aptible"


class ResolvedIdentity(Contract):
    """The user's id in the service and where it came from (the stored one, or newly stored)."""

    email: str
    service_type: str
    external_id: str
    service_user_id: str
    source: IdentitySource


class IdentityReducerCall(Contract):
    """The arguments of the flow's ``get_identity(event, service_type, external_id, user)``."""

    flow: str | None
    event: EventData | None
    service_type: str
    external_id: str
    user: UserData


class UserDiscoveryCall(Contract):
    """What the discovery callable receives: find ``email`` among ``org_id``'s Aptible users."""

    integration: str | None
    org_id: str
    email: str


def update_identity_command(email: str, org_id: str) -> str:
    """The command an admin runs to map ``email`` to an Aptible user by hand."""
    return (
        f"jitflow users update-identity {email} --service-type aptible "
        f"--external-id {org_id} --new-value <aptible-user-uuid>"
    )
