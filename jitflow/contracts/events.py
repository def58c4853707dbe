"""Data that crosses between the access workflow and the activities that run user code.

The workflow builds an ``EventData`` from what its history already holds; the reducer activities
turn it into Sym's ``Event`` object for the user's function and send back a plain outcome that is
recorded in history. Pure pydantic models, no I/O: workflow code imports this module.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from jitflow.contracts.base import Contract, normalize_email

UserRoleName = Literal["admin", "member", "guest"]
PermissionLevelName = Literal["admin", "member", "guest", "all_users"]
HookAction = Literal["approve", "deny", "ignore", "request", "escalate", "deescalate"]


class UserData(Contract):
    """A jitflow user as reducers see it. Known by email; ``role`` as set with ``jitflow users set-role``."""

    email: str
    role: UserRoleName = "member"
    first_name: str | None = None
    last_name: str | None = None
    identities: dict[str, str] = Field(default_factory=dict)
    """``"<service_type>:<external_id>" -> user id`` for the identities known when the event was built."""


class TargetData(Contract):
    """The requested ``sym_target``."""

    key: str
    name: str
    label: str | None = None
    type: str = "aptible_role"
    role_id: str


class EventData(Contract):
    """One Sym event (``request``, ``approve``...) in serializable form."""

    name: str
    flow: str
    """The flow's resource key in the loaded configuration."""
    request_id: str
    """The ``AccessRequest`` workflow id: Sym's run."""
    timestamp: datetime
    user: UserData
    """Who fired this event (the requester for ``request``, the approver for ``approve``...)."""
    requester: UserData
    target: TargetData
    fields: dict[str, Any] = Field(default_factory=dict)
    """Prompt field values; ``duration`` in seconds, ``reason``, ``target_id`` as Sym sets them."""
    actors: dict[str, UserData] = Field(default_factory=dict)
    contexts: dict[str, dict[str, Any]] = Field(default_factory=dict)
    step_outputs: dict[str, dict[str, Any]] = Field(default_factory=dict)
    channel_type: str = "api"


class HookCall(Contract):
    """Run ``hook`` (``on_request``, ``after_escalate``...) of ``flow`` with ``event``."""

    flow: str
    hook: str
    event: EventData


class HookOutcome(Contract):
    """What a hook did. ``action`` is set only when an ``on_*`` hook returned an event request."""

    called: bool
    """False when the flow's module has no such function (Sym's default behaviour applies)."""
    action: HookAction | None = None
    message: str | None = None
    fields: dict[str, Any] = Field(default_factory=dict)
    duration: int | None = None
    returned: str | None = None
    """A short text form of whatever the function returned, kept for the audit trail."""


class PermissionsCall(Contract):
    """Ask the flow who may approve, deny and view ``event``'s request."""

    flow: str
    event: EventData


class Permissions(Contract):
    """Who may decide a request, resolved when it was made and recorded in history.

    ``approvers`` holds explicit emails, ``levels`` permission levels; ``user_roles`` is the role of
    every user the store knew then, so the workflow's update validators can decide without I/O.
    Users the store does not know have ``default_role``.
    """

    source: Literal["get_permissions", "get_approvers", "default"]
    approvers: tuple[str, ...] = ()
    levels: tuple[PermissionLevelName, ...] = ()
    allow_self_approval: bool = False
    webapp_view_levels: tuple[PermissionLevelName, ...] = ()
    webapp_view: tuple[str, ...] = ()
    user_roles: dict[str, UserRoleName] = Field(default_factory=dict)
    default_role: UserRoleName = "member"
    notifications: list[dict[str, Any]] = Field(default_factory=list)
    """What ``get_request_notifications`` returned, recorded; delivery comes later."""

    def role_of(self, email: str) -> UserRoleName:
        return self.user_roles.get(normalize_email(email), self.default_role)
