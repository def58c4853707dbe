"""Data exchanged between the access workflows, their activities and their callers.

Pure pydantic models with no I/O and no heavy imports: the workflows in ``workflows/`` import
this module inside Temporal's sandbox, and the CLI and tests build the same objects. Nothing here
ever holds a credential: the bot's password and tokens stay inside the Aptible activities.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from jitflow.events import Permissions, TargetData

#: Task queue and workflow type names, shared by the worker, the CLI and the tests.
DEFAULT_TASK_QUEUE = "jitflow"
ACCESS_WORKFLOW_TYPE = "AccessRequest"
MEMBERSHIP_WORKFLOW_TYPE = "RoleMembership"

#: Activity names the workflows call. Reducer activities are named by ``activities/reducers.py``.
RESOLVE_REQUEST_ACTIVITY = "resolve_access_request"
RESOLVE_IDENTITY_ACTIVITY = "resolve_identity"
RUN_HOOK_ACTIVITY = "reducer_run_hook"
GET_PERMISSIONS_ACTIVITY = "reducer_get_permissions"
ACQUIRE_LEASE_ACTIVITY = "acquire_lease"
RELEASE_LEASE_ACTIVITY = "release_lease"
ADD_MEMBERSHIP_ACTIVITY = "add_aptible_membership"
REMOVE_MEMBERSHIP_ACTIVITY = "remove_aptible_membership"

#: Heartbeat detail the add activity records right before its POST, and the failure type it
#: raises when it fails after that point: the owner then treats the membership as possibly there.
POSTING_HEARTBEAT = "posting membership"
ADD_FAILED_AFTER_POST = "MembershipAddFailedAfterPost"

AccessStatus = Literal[
    "pending", "approved", "denied", "expired", "escalated", "deescalated", "failed", "cancelled"
]

#: Statuses after which nothing can change any more.
FINAL_STATUSES: frozenset[str] = frozenset(
    {"denied", "expired", "deescalated", "failed", "cancelled"}
)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


#: The input keys, the Python types they accept, and how to say so.
_INPUT_TYPES: tuple[tuple[str, tuple[type, ...], str], ...] = (
    ("flow", (str,), "a flow name"),
    ("target", (str,), "a target name, label or role id"),
    ("requester", (str,), "an email"),
    ("duration", (int, str, type(None)), 'a duration such as "1h" or seconds'),
    ("reason", (str, type(None)), "text"),
    ("fields", (dict,), "an object of prompt field values"),
)


class AccessRequestInput(BaseModel):
    """The one JSON object that starts an ``AccessRequest``.

    Deliberately lenient (``duration`` as ``"1h"`` or ``3600``, unknown keys kept): a value the
    workflow cannot decode would fail its task forever instead of failing the run, so every check
    happens in the resolve activity, which fails the run with a message naming the bad value.
    """

    model_config = ConfigDict(extra="allow")

    flow: str = ""
    target: str = ""
    requester: str = ""
    duration: int | str | None = None
    reason: str | None = None
    fields: dict[str, Any] = Field(default_factory=dict)
    invalid_values: dict[str, str] = Field(default_factory=dict)
    """Keys whose values had the wrong type (``"requester": 42``), set aside at decoding so the
    run can fail with a message instead of its workflow task failing forever."""

    @model_validator(mode="before")
    @classmethod
    def _set_aside_wrong_types(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return {"invalid_values": {"input": f"{data!r:.100}: expected a JSON object"}}
        data = dict(data)
        invalid: dict[str, str] = {}
        for key, expected, wanted in _INPUT_TYPES:
            if key in data and (not isinstance(data[key], expected) or isinstance(data[key], bool)):
                invalid[key] = f"{data.pop(key)!r:.100}: expected {wanted}"
        if invalid:
            data["invalid_values"] = invalid
        return data

    def unknown_keys(self) -> list[str]:
        """Keys of the input object that are not part of the contract."""
        return sorted((self.model_extra or {}).keys())


class ResolvedRequest(_Model):
    """The request checked against the configuration; recorded, so replay never reads config."""

    flow_key: str
    flow_name: str
    flow_label: str | None = None
    target: TargetData
    strategy_key: str
    integration_key: str
    org_id: str
    requester: str
    """The requester's email, trimmed and lower case."""
    duration_seconds: int
    allowed_durations: tuple[int, ...]
    request_timeout_seconds: int | None
    allow_revoke: bool
    schedule_deescalation: bool
    allow_guest_interaction: bool
    include_decision_message: bool
    hook_timeout_seconds: int = 30
    hook_max_attempts: int = 3
    handlers: tuple[str, ...] | None = None
    """The reducers and hooks the flow's module defined when the request was made (empty for a
    flow without one). The workflow runs no activity for a hook that is absent, which is Sym's
    default behaviour anyway. ``None`` (histories from before this field) means call them all."""
    fields: dict[str, Any] = Field(default_factory=dict)
    """Prompt field values as reducers see them: ``reason``, ``duration``, ``target_id``."""


class Decision(_Model):
    """Body of the ``approve`` and ``deny`` updates."""

    approver: str
    message: str | None = None


class Revocation(_Model):
    """Body of the ``revoke`` update."""

    by: str
    message: str | None = None


class Cancellation(_Model):
    """Body of the ``cancel`` update (the requester withdrawing a pending request)."""

    by: str
    message: str | None = None


class TimelineEntry(_Model):
    """One step of a request, as Sym records one actor and context per event name."""

    event: str
    at: datetime
    actor: str | None = None
    message: str | None = None


class AccessState(BaseModel):
    """Everything an ``AccessRequest`` knows, returned by its ``status`` query and its result."""

    workflow_id: str
    input: AccessRequestInput
    status: AccessStatus = "pending"
    ready_for_decision: bool = False
    """True once permissions are recorded. A decision sent earlier is accepted and judged then."""
    resolved: ResolvedRequest | None = None
    aptible_user_id: str | None = None
    permissions: Permissions | None = None
    requested_at: datetime | None = None
    approver: str | None = None
    decision_message: str | None = None
    decided_at: datetime | None = None
    escalated_at: datetime | None = None
    expires_at: datetime | None = None
    preexisting: bool | None = None
    """True when the user already held the role: jitflow never removes that standing access."""
    membership_workflow_id: str | None = None
    revoked_by: str | None = None
    revoke_message: str | None = None
    cancelled_by: str | None = None
    deescalated_at: datetime | None = None
    error: str | None = None
    hook_errors: list[str] = Field(default_factory=list)
    timeline: list[TimelineEntry] = Field(default_factory=list)

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES


class UpdateOutcome(_Model):
    """What an ``approve``/``deny``/``cancel``/``revoke`` update did, returned to the caller."""

    accepted: bool
    status: AccessStatus
    message: str | None = None


# --- The RoleMembership owner workflow -------------------------------------------------------


class MembershipKey(_Model):
    """One (organization, role, Aptible user) membership and the integration managing it."""

    org_id: str
    role_id: str
    user_id: str
    integration_key: str

    @property
    def workflow_id(self) -> str:
        return membership_workflow_id(self.org_id, self.role_id, self.user_id)


def membership_workflow_id(org_id: str, role_id: str, user_id: str) -> str:
    """The deterministic id of the owner of one membership."""
    return f"membership/{org_id.lower()}/{role_id.lower()}/{user_id.lower()}"


class Lease(_Model):
    """A grant's claim on a membership: held by ``holder`` (an AccessRequest) until ``ends_at``."""

    holder: str
    ends_at: datetime | None = None
    """``None`` means until released (flows with ``schedule_deescalation = false``)."""
    granted_at: datetime | None = None
    duration_seconds: int | None = None
    """When set, the owner moves ``ends_at`` to this long after the membership is confirmed, so
    a grant's length counts from escalation even when Aptible was slow or down for a while."""


class LeaseRequest(_Model):
    """Add (or extend) a lease; the owner makes sure the membership exists before answering."""

    key: MembershipKey
    lease: Lease


class LeaseRelease(_Model):
    """Release ``holder``'s lease; the owner removes the membership when no lease is left."""

    key: MembershipKey
    holder: str
    reason: str = "released"


class LeaseGrant(_Model):
    """The owner's answer to a lease: the membership exists, and whether it was standing access."""

    membership_workflow_id: str
    membership_id: str | None
    preexisting: bool
    ends_at: datetime | None
    active_leases: int
    confirmed_at: datetime | None = None
    """When the owner knew the membership existed: the moment access was granted."""


class LeaseReleased(_Model):
    """The owner's answer to a release."""

    membership_workflow_id: str
    released: bool
    """False when the owner held no such lease (already released, or ended on its timer)."""
    membership_removed: bool
    remaining_leases: int


class MembershipRecord(_Model):
    """What the owner knows about the Aptible membership itself."""

    membership_id: str | None
    preexisting: bool
    created_at: datetime


class RoleMembershipInput(_Model):
    """Start (or continue-as-new) state of a ``RoleMembership`` owner."""

    key: MembershipKey
    leases: tuple[Lease, ...] = ()
    membership: MembershipRecord | None = None
    audit: tuple[TimelineEntry, ...] = ()
    """The last entries of the audit trail, carried across continue-as-new."""


class RoleMembershipState(_Model):
    """The owner's ``state`` query and result."""

    key: MembershipKey
    leases: tuple[Lease, ...]
    membership: MembershipRecord | None
    audit: tuple[TimelineEntry, ...]


class AddMembershipCall(_Model):
    """Make sure ``key``'s membership exists in Aptible."""

    key: MembershipKey


class MembershipAdded(_Model):
    membership_id: str | None
    preexisting: bool


class RemoveMembershipCall(_Model):
    """Make sure ``key``'s membership no longer exists in Aptible."""

    key: MembershipKey
    membership_id: str | None


class MembershipRemoved(_Model):
    removed: bool
    already_absent: bool
    left_organization: bool
