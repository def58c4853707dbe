"""Users and their identities (``sym.sdk.user``). A jitflow user is known by email."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

from jitflow.contracts.base import normalize_email
from jitflow.sdk._context import not_available
from jitflow.sdk.exceptions import SymIntegrationError
from jitflow.sdk.request_permission import PermissionLevel

#: Namespace of the stable user ids jitflow derives from emails (``User.id``).
USER_ID_NAMESPACE = uuid.UUID("6b0c2f1e-7f0a-4d55-9d0e-6a1c3b1f4a10")


def user_id_for(email: str) -> uuid.UUID:
    """The stable ``User.id`` of ``email``: the same email always gives the same id."""
    return uuid.uuid5(USER_ID_NAMESPACE, normalize_email(email))


def user_ids(user_list: list[User]) -> list[uuid.UUID]:
    """Sym's helper turning users into the id list ``RequestPermission`` accepts."""
    return [u.id for u in user_list]


class UserIdentity(BaseModel):
    """A user's id (``user_id``) in one instance (``service_id``) of a ``service``."""

    model_config = ConfigDict(frozen=True)

    service: str
    service_id: str
    user_id: str

    def __str__(self) -> str:
        return f"UserIdentity({self.service}:{self.service_id} -> {self.user_id})"


class UserRole(StrEnum):
    """A user's role, set with ``jitflow users set-role`` (default ``member``)."""

    ADMIN = "admin"
    MEMBER = "member"
    GUEST = "guest"

    def permission_levels(self) -> set[PermissionLevel]:
        """The permission levels this role satisfies."""
        if self is UserRole.ADMIN:
            return set(PermissionLevel)
        if self is UserRole.MEMBER:
            return {PermissionLevel.MEMBER, PermissionLevel.GUEST, PermissionLevel.ALL_USERS}
        return {PermissionLevel.GUEST, PermissionLevel.ALL_USERS}


class User(BaseModel):
    """A user as reducers see it. Equal (and hashed) by ``username``, which is the email."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID
    email: str | None
    username: str
    type: Literal["normal", "bot"] = "normal"
    first_name: str | None = None
    last_name: str | None = None
    identities: dict[str, list[UserIdentity]] = {}
    role: UserRole = UserRole.MEMBER

    @classmethod
    def from_email(
        cls,
        email: str,
        role: UserRole | str = UserRole.MEMBER,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        identities: dict[str, list[UserIdentity]] | None = None,
    ) -> User:
        """The user known by ``email`` (normalized to lower case)."""
        normalized = normalize_email(email)
        if "@" not in normalized:
            raise ValueError(f"{email!r} is not an email address")
        return cls(
            id=user_id_for(normalized),
            email=normalized,
            username=normalized,
            first_name=first_name,
            last_name=last_name,
            identities=identities or {},
            role=UserRole(role),
        )

    def identity(self, service_type: str, service_id: str | None = None) -> UserIdentity | None:
        """The user's identity in ``service_type`` (and instance ``service_id``), if known."""
        for candidate in self.identities.get(service_type, []):
            if service_id is None or candidate.service_id == service_id:
                return candidate
        return None

    def get_event_count(
        self,
        event_name: str,
        since: datetime | None = None,
        until: datetime | None = None,
        filter_on: Literal["flow", "target"] = "flow",
        include_errored: bool = False,
    ) -> int:
        """Sym counts past events of this user; jitflow does not offer this yet."""
        raise not_available(
            "User.get_event_count", "jitflow does not count past events yet", SymIntegrationError
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, User) and self.username == other.username

    def __hash__(self) -> int:
        return hash(("User", self.username))

    def __str__(self) -> str:
        return f"User(email={self.email}, username={self.username})"

    def __repr__(self) -> str:
        return f"User({self.username})"
