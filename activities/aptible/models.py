"""What the Aptible client returns: frozen dataclasses, serializable by Temporal's converter."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class AptibleUser:
    """An Aptible user as the auth API shows it; ``id`` is lower case."""

    id: str
    email: str
    name: str = ""


@dataclass(frozen=True)
class AptibleMembership:
    """One user's membership of one role. ``privileged`` means Role Admin of that role."""

    id: str
    role_id: str
    user_id: str
    privileged: bool = False
    user_email: str | None = None
    """From ``_embedded.user`` when the server includes it (it usually does, not always)."""


@dataclass(frozen=True)
class AptibleRole:
    """A role: ``type`` is ``owner``, ``platform_owner``, ``platform_user`` or a legacy type."""

    id: str
    name: str
    type: str
    scim_created: bool
    organization_id: str | None


@dataclass(frozen=True)
class MembershipGrant:
    """The result of :meth:`AptibleClient.ensure_membership`.

    ``preexisting`` is True when the user already held the role before jitflow acted: standing
    access, which de-escalation must leave alone. ``api_calls`` counts the Aptible requests made
    (token requests excluded).
    """

    role_id: str
    user_id: str
    membership_id: str
    preexisting: bool
    api_calls: int


@dataclass(frozen=True)
class MembershipRemoval:
    """The result of :meth:`AptibleClient.remove_membership`.

    ``removed``: this call deleted the membership. ``already_absent``: there was nothing to delete
    (404, or the user held no such membership), which is success too. Whether the user left the
    organization with it is :meth:`AptibleClient.still_in_organization`'s question.
    """

    role_id: str
    user_id: str
    membership_id: str | None
    removed: bool
    already_absent: bool
    api_calls: int


@dataclass(frozen=True)
class RolePreflight:
    """What the preflight learnt of one target role; ``warnings`` is empty when all is well."""

    role_id: str
    organization_id: str
    exists: bool
    in_organization: bool
    name: str | None = None
    type: str | None = None
    scim_created: bool | None = None
    bot_may_manage: bool | None = None
    warnings: list[str] = field(default_factory=list)
