"""The emulator data: organizations, users, roles, memberships, tokens, and the rules between them.

The JSON state file holds one list per kind (see :class:`StateDocument`). Ids are UUID strings kept
in lower case. A user belongs to an organization exactly while they hold a role there, which is how
Aptible behaves: removing a user's last role in an organization evicts them from it.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import tempfile
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from jitflow.contracts.base import normalize_email

RoleType = Literal[
    "owner", "platform_owner", "platform_user", "compliance_owner", "compliance_user"
]


class StateError(ValueError):
    """The state file or document is invalid; the message names the bad value."""


def _uuid(value: str, what: str) -> str:
    try:
        return str(uuid.UUID(value.strip()))
    except (ValueError, AttributeError):
        raise ValueError(f"{what} {value!r} is not a UUID") from None


def now_utc() -> datetime:
    """The current time, timezone-aware in UTC (tokens compare against it)."""
    return datetime.now(UTC)


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    id: str

    @field_validator("id")
    @classmethod
    def _lower_uuid(cls, value: str) -> str:
        return _uuid(value, f"{cls.__name__.removesuffix('Record').lower()} id")


class OrganizationRecord(_Record):
    """An Aptible organization; ``sso_enforced`` refuses password tokens but to owners/allowlist."""

    name: str
    sso_enforced: bool = False
    sso_allowlist: list[str] = Field(default_factory=list)
    """User ids allowed to use password tokens although SSO is enforced."""


class UserRecord(_Record):
    """An Aptible user. ``password`` is the emulator's plain login secret, never shown in a repr."""

    email: str
    name: str = ""
    password: str = Field(default="", repr=False)
    otp_enabled: bool = False
    """Two-factor authentication on: a password grant is refused with ``otp_token_required``."""

    @field_validator("email")
    @classmethod
    def _plausible_email(cls, value: str) -> str:
        if "@" not in value:
            raise ValueError(f"user email {value!r} has no '@'")
        return value.strip()


class RoleRecord(_Record):
    """An Aptible role of one organization."""

    organization_id: str
    name: str
    type: RoleType = "platform_user"
    scim_created: bool = False

    @field_validator("organization_id")
    @classmethod
    def _org_uuid(cls, value: str) -> str:
        return _uuid(value, "role organization_id")


class MembershipRecord(_Record):
    """A user's membership of a role; ``privileged`` makes them Role Admin of that role."""

    role_id: str
    user_id: str
    privileged: bool = False
    created_at: datetime = Field(default_factory=now_utc)

    @field_validator("role_id", "user_id")
    @classmethod
    def _ref_uuid(cls, value: str) -> str:
        return _uuid(value, "membership reference")


class TokenRecord(_Record):
    """A bearer token issued by ``POST /tokens``."""

    access_token: str = Field(repr=False)
    user_id: str
    scope: str = "manage"
    created_at: datetime = Field(default_factory=now_utc)
    expires_at: datetime

    @property
    def expires_in(self) -> int:
        return max(0, math.ceil((self.expires_at - now_utc()).total_seconds()))


_R = TypeVar("_R", bound=_Record)


class StateDocument(BaseModel):
    """The JSON state file, one list per kind of record."""

    model_config = ConfigDict(extra="forbid")

    organizations: list[OrganizationRecord] = Field(default_factory=list)
    users: list[UserRecord] = Field(default_factory=list)
    roles: list[RoleRecord] = Field(default_factory=list)
    memberships: list[MembershipRecord] = Field(default_factory=list)
    tokens: list[TokenRecord] = Field(default_factory=list)


def _index(records: Iterable[_R], kind: str) -> dict[str, _R]:
    by_id: dict[str, _R] = {}
    for record in records:
        if record.id in by_id:
            raise StateError(f"duplicate {kind} id {record.id!r}")
        by_id[record.id] = record
    return by_id


class EmulatorState:
    """The emulator's records, indexed by id, with the operations the HTTP handlers need."""

    def __init__(self, document: StateDocument | None = None) -> None:
        document = document or StateDocument()
        self.organizations = _index(document.organizations, "organization")
        self.users = _index(document.users, "user")
        self.roles = _index(document.roles, "role")
        self.memberships = _index(document.memberships, "membership")
        self.tokens = _index(document.tokens, "token")
        self._check_references()

    # -- loading and saving -------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "state") -> EmulatorState:
        """Build from a parsed JSON document; a bad document raises :class:`StateError`."""
        try:
            document = StateDocument.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise StateError(
                f"{source}: invalid value {first.get('input')!r} at {where}: {first['msg']}"
            ) from None
        return cls(document)

    @classmethod
    def from_file(cls, path: Path) -> EmulatorState:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise StateError(f"state file {str(path)!r} does not exist") from None
        except json.JSONDecodeError as exc:
            raise StateError(f"state file {str(path)!r} is not valid JSON: {exc}") from None
        return cls.from_dict(data, source=str(path))

    def to_dict(self) -> dict[str, Any]:
        document = StateDocument(
            organizations=list(self.organizations.values()),
            users=list(self.users.values()),
            roles=list(self.roles.values()),
            memberships=list(self.memberships.values()),
            tokens=list(self.tokens.values()),
        )
        return document.model_dump(mode="json")

    def save(self, path: Path) -> None:
        """Write the state atomically: a temporary file in the same folder, then a rename."""
        text = json.dumps(self.to_dict(), indent=2) + "\n"
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path("."))
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise

    def _check_references(self) -> None:
        emails: dict[str, str] = {}
        for user in self.users.values():
            key = user.email.lower()
            if key in emails:
                raise StateError(
                    f"users {emails[key]!r} and {user.id!r} share email {user.email!r}"
                )
            emails[key] = user.id
        for role in self.roles.values():
            if role.organization_id not in self.organizations:
                raise StateError(
                    f"role {role.id!r} names unknown organization {role.organization_id!r}"
                )
        pairs: set[tuple[str, str]] = set()
        for membership in self.memberships.values():
            if membership.role_id not in self.roles:
                raise StateError(
                    f"membership {membership.id!r} names unknown role {membership.role_id!r}"
                )
            if membership.user_id not in self.users:
                raise StateError(
                    f"membership {membership.id!r} names unknown user {membership.user_id!r}"
                )
            pair = (membership.role_id, membership.user_id)
            if pair in pairs:
                raise StateError(
                    f"user {membership.user_id!r} holds role {membership.role_id!r} twice"
                )
            pairs.add(pair)
        for token in self.tokens.values():
            if token.user_id not in self.users:
                raise StateError(f"token {token.id!r} names unknown user {token.user_id!r}")

    # -- queries --------------------------------------------------------------------------------

    def user_by_email(self, email: str) -> UserRecord | None:
        wanted = normalize_email(email)
        return next((u for u in self.users.values() if u.email.lower() == wanted), None)

    def role_memberships(self, role_id: str) -> list[MembershipRecord]:
        return [m for m in self.memberships.values() if m.role_id == role_id]

    def user_memberships(self, user_id: str) -> list[MembershipRecord]:
        return [m for m in self.memberships.values() if m.user_id == user_id]

    def organization_roles(self, org_id: str) -> list[RoleRecord]:
        return [r for r in self.roles.values() if r.organization_id == org_id]

    def organization_users(self, org_id: str) -> list[UserRecord]:
        """Users holding at least one role of the organization, in the state's user order."""
        holders = {
            m.user_id
            for m in self.memberships.values()
            if self.roles[m.role_id].organization_id == org_id
        }
        return [u for u in self.users.values() if u.id in holders]

    def in_organization(self, user_id: str, org_id: str) -> bool:
        return any(
            self.roles[m.role_id].organization_id == org_id for m in self.user_memberships(user_id)
        )

    def find_membership(self, role_id: str, user_id: str) -> MembershipRecord | None:
        return next(
            (m for m in self.memberships.values() if m.role_id == role_id and m.user_id == user_id),
            None,
        )

    def holds_role_type(self, user_id: str, org_id: str, role_type: RoleType) -> bool:
        return any(
            self.roles[m.role_id].organization_id == org_id
            and self.roles[m.role_id].type == role_type
            for m in self.user_memberships(user_id)
        )

    def may_manage_role(self, user_id: str, role: RoleRecord) -> bool:
        """Aptible's rule: Account Owners manage every role, Deploy Owners every role but ``owner``,
        and a Role Admin (privileged member) manages their own role."""
        org = role.organization_id
        if self.holds_role_type(user_id, org, "owner"):
            return True
        if role.type != "owner" and self.holds_role_type(user_id, org, "platform_owner"):
            return True
        own = self.find_membership(role.id, user_id)
        return own is not None and own.privileged

    # -- changes --------------------------------------------------------------------------------

    def add_membership(
        self, role_id: str, user_id: str, *, privileged: bool = False
    ) -> MembershipRecord:
        membership = MembershipRecord(
            id=str(uuid.uuid4()), role_id=role_id, user_id=user_id, privileged=privileged
        )
        self.memberships[membership.id] = membership
        return membership

    def remove_membership(self, membership_id: str) -> bool:
        """Delete a membership; True when the user thereby left the role's organization."""
        membership = self.memberships.pop(membership_id)
        org_id = self.roles[membership.role_id].organization_id
        return not self.in_organization(membership.user_id, org_id)

    def issue_token(self, user_id: str, lifetime_seconds: int, scope: str) -> TokenRecord:
        created = now_utc()
        token = TokenRecord(
            id=str(uuid.uuid4()),
            access_token=secrets.token_urlsafe(32),
            user_id=user_id,
            scope=scope,
            created_at=created,
            expires_at=created + timedelta(seconds=lifetime_seconds),
        )
        self.tokens[token.id] = token
        self._drop_long_expired_tokens()
        return token

    def token_by_access(self, access_token: str) -> TokenRecord | None:
        return next(
            (
                t
                for t in self.tokens.values()
                if secrets.compare_digest(t.access_token.encode(), access_token.encode())
            ),
            None,
        )

    def expire_all_tokens(self) -> int:
        """Make every token expired now (the admin's forced expiry); returns how many were live."""
        now = now_utc()
        live = [t for t in self.tokens.values() if t.expires_at > now]
        for token in live:
            token.expires_at = now - timedelta(seconds=1)
        return len(live)

    def _drop_long_expired_tokens(self) -> None:
        """Forget tokens expired for over a day, so the state file does not grow without bound."""
        horizon = now_utc() - timedelta(days=1)
        for token_id in [t.id for t in self.tokens.values() if t.expires_at < horizon]:
            del self.tokens[token_id]
