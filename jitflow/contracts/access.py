"""``AccessRequest``'s messages: its input, its decision updates, its state and the resolved request.

Pure pydantic models with no I/O: the workflows import this module (inside Temporal's sandbox in
the tests), and
the activities, CLI, dev stack, benchmark and tests build the same objects. Nothing here ever
holds a credential: the bot's password and tokens stay inside the Aptible activities.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from jitflow.contracts.base import Contract
from jitflow.contracts.events import Permissions, TargetData
from jitflow.contracts.trust import DecisionProof

AccessStatus = Literal[
    "pending", "approved", "denied", "expired", "escalated", "deescalated", "failed", "cancelled"
]

#: Statuses after which nothing can change any more.
FINAL_STATUSES: frozenset[str] = frozenset(
    {"denied", "expired", "deescalated", "failed", "cancelled"}
)


#: The input keys, the Python types they accept, and how to say so.
_INPUT_TYPES: tuple[tuple[str, tuple[type, ...], str], ...] = (
    ("flow", (str,), "a flow name"),
    ("target", (str,), "a target name, label or role id"),
    ("requester", (str,), "an email"),
    ("duration", (int, str, type(None)), 'a duration such as "1h" or seconds'),
    ("reason", (str, type(None)), "text"),
    ("fields", (dict,), "an object of prompt field values"),
    ("context", (dict,), "an object of request context values"),
)

#: The longest text each input key may hold: search attributes and the Web UI carry them, and a
#: value of kilobytes would fail the workflow's task instead of the run.
_MAX_LENGTH: dict[str, int] = {
    "flow": 200,
    "target": 200,
    "requester": 320,
    "duration": 64,
    "reason": 4000,
}


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
    context: dict[str, Any] = Field(default_factory=dict, exclude_if=lambda v: not v)
    """Values the requester gives with the request (``jitflow request --context KEY=VALUE``),
    for reducers to read as ``event.get_context("request")``. Histories older than this field
    decode with an empty one; an empty one is not sent, so the input stays as the caller wrote it."""
    invalid_values: dict[str, str] = Field(default_factory=dict, exclude_if=lambda v: not v)
    """Keys whose values were unusable (``"requester": 42``, kilobytes of text), set aside at
    decoding so the run fails with a message instead of its workflow task failing forever.
    Sent on to the resolve activity only when not empty (so the input the Web UI shows is the
    caller's); anything else a caller puts under this key is itself an invalid value."""

    @model_validator(mode="before")
    @classmethod
    def _set_aside_wrong_types(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return {"invalid_values": {"input": f"{data!r:.100}: expected a JSON object"}}
        data = dict(data)
        invalid: dict[str, str] = {}
        given = data.pop("invalid_values", {})
        if isinstance(given, dict) and all(
            isinstance(k, str) and isinstance(v, str) and len(v) <= 200 for k, v in given.items()
        ):
            invalid.update(dict(list(given.items())[:20]))  # set aside by an earlier decoding
        else:
            invalid["invalid_values"] = f"{given!r:.100}: not an input key"
        for key, expected, wanted in _INPUT_TYPES:
            if key in data and (not isinstance(data[key], expected) or isinstance(data[key], bool)):
                invalid[key] = f"{data.pop(key)!r:.100}: expected {wanted}"
            elif isinstance(data.get(key), str) and len(data[key]) > _MAX_LENGTH[key]:
                invalid[key] = (
                    f"{data.pop(key)[:40]!r}...: longer than {_MAX_LENGTH[key]} characters"
                )
        if invalid:
            data["invalid_values"] = invalid
        return data

    def unknown_keys(self) -> list[str]:
        """Keys of the input object that are not part of the contract."""
        return sorted((self.model_extra or {}).keys())


class ResolvedRequest(Contract):
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
    context: dict[str, Any] = Field(default_factory=dict)
    """The request's context (input ``context``), for ``event.get_context("request")``; kept
    apart from ``fields`` so that it never shadows a prompt field. Empty in older histories."""
    slack_integration: str | None = None
    """The ``sym_integration`` of type ``slack`` the flow's environment names: the request is
    announced there and its requester told. ``None`` (and in older histories): no Slack."""


class Decision(Contract):
    """Body of the ``approve`` and ``deny`` updates."""

    approver: str
    message: str | None = None
    proof: DecisionProof | None = None
    """The decider's signature (``jitflow sign``); required while signed decisions are on."""


class Revocation(Contract):
    """Body of the ``revoke`` update."""

    by: str
    message: str | None = None
    proof: DecisionProof | None = None
    """The decider's signature (``jitflow sign``); required while signed decisions are on."""


class Cancellation(Contract):
    """Body of the ``cancel`` update (the requester withdrawing a pending request)."""

    by: str
    message: str | None = None
    proof: DecisionProof | None = None
    """The decider's signature (``jitflow sign``); required while signed decisions are on."""


class TimelineEntry(Contract):
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


class UpdateOutcome(Contract):
    """What an ``approve``/``deny``/``cancel``/``revoke`` update did, returned to the caller."""

    accepted: bool
    status: AccessStatus
    message: str | None = None
