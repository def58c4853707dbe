"""Who may view and decide a request (``sym.sdk.request_permission``).

In jitflow a user is known by email, so ``approve_deny`` and ``webapp_view`` accept emails and
``User`` objects besides Sym's ``PermissionLevel`` and user-id lists.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, field_validator

from jitflow.contracts.base import normalize_email


class PermissionLevel(StrEnum):
    """A threshold of user roles; each level includes the roles above it."""

    ADMIN = "admin"
    """Admins only."""
    MEMBER = "member"
    """Admins and members."""
    GUEST = "guest"
    """Admins, members and guests (guests act only when the flow allows guest interaction)."""
    ALL_USERS = "all_users"
    """Every user, guests included."""


def _normalize_people(value: Any, field: str) -> PermissionLevel | list[Any]:
    from jitflow.sdk.user import User  # a runtime import: user.py imports this module

    if isinstance(value, PermissionLevel):
        return value
    if isinstance(value, str):
        try:
            return PermissionLevel(value.strip().lower())
        except ValueError:
            raise ValueError(
                f"{field}={value!r} is neither a PermissionLevel nor a list; "
                f"write a list of emails, e.g. [{value!r}], or PermissionLevel.MEMBER"
            ) from None
    if not isinstance(value, list | tuple | set | frozenset):
        raise ValueError(
            f"{field} must be a PermissionLevel or a list of emails, Users or user ids, "
            f"not {type(value).__name__} {value!r}"
        )
    people: list[Any] = []
    for item in value:
        if isinstance(item, User | UUID):
            people.append(item)
        elif isinstance(item, str) and "@" in item:
            people.append(normalize_email(item))
        elif isinstance(item, str):
            try:
                people.append(UUID(item))
            except ValueError:
                raise ValueError(
                    f"{field} holds {item!r}, which is not an email, a User or a user id"
                ) from None
        else:
            raise ValueError(
                f"{field} holds {item!r} ({type(item).__name__}), "
                "which is not an email, a User or a user id"
            )
    if not people:
        raise ValueError(f"{field} cannot be empty: use PermissionLevel.ADMIN for admins only")
    return people


class RequestPermission(BaseModel):
    """What ``get_permissions`` returns. Admins may always view and decide."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    webapp_view: PermissionLevel | list[Any]
    approve_deny: PermissionLevel | list[Any]
    allow_self_approval: bool = False

    @field_validator("webapp_view", "approve_deny", mode="plain")
    @classmethod
    def _people(cls, value: Any, info: Any) -> PermissionLevel | list[Any]:
        return _normalize_people(value, str(info.field_name))
