"""The approval template and the event requests hooks return (``sym.sdk.templates``).

An ``on_*`` hook steers a request by returning ``ApprovalTemplate.approve(...)``, ``.deny(...)``,
``.ignore(message=...)`` and the like: each builds an ``EventRequest``, plain data that jitflow's
runner checks (only forward moves) and hands to the workflow.
"""

from __future__ import annotations

from enum import Enum, StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from jitflow.sdk._context import current_call
from jitflow.sdk.resource import SRN, SymResource


class TemplateStep(StrEnum):
    """Steps every template has."""

    IGNORE = "ignore"
    """Drop the incoming event and tell the acting user why."""


class ApprovalTemplateStep(StrEnum):
    """The events of ``sym:template:approval:1.0.0``, in the order a request meets them."""

    PROMPT = "prompt"
    REQUEST = "request"
    REQUEST_FORWARD = "request_forward"
    REQUEST_EXPIRE = "request_expire"
    APPROVE = "approve"
    DENY = "deny"
    ESCALATE = "escalate"
    DEESCALATE = "deescalate"


class EventRequest(BaseModel):
    """What an ``on_*`` hook asks for: fire ``step`` instead of the incoming event.

    ``fields`` holds the extra keyword arguments (``reason=...``), which land in the fired event's
    payload fields, as in Sym.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    step: str
    target_srn: SRN | None = None
    duration: int | None = None
    message: str | None = None
    fields: dict[str, Any] = {}

    def __str__(self) -> str:
        args = [f"{k}={v!r}" for k, v in self.fields.items()]
        if self.duration is not None:
            args.insert(0, f"duration={self.duration}")
        if self.message is not None:
            args.insert(0, f"message={self.message!r}")
        return f"ApprovalTemplate.{self.step}({', '.join(args)})"

    __repr__ = __str__


def _event_request(
    step: str,
    target_srn: SRN | str | None = None,
    duration: int | None = None,
    message: str | None = None,
    fields: dict[str, Any] | None = None,
) -> EventRequest:
    if duration is not None and (not isinstance(duration, int) or duration <= 0):
        raise ValueError(
            f"ApprovalTemplate.{step}(duration={duration!r}): duration is a number of seconds > 0"
        )
    srn = SRN.parse(target_srn) if isinstance(target_srn, str) else target_srn
    return EventRequest(
        step=step, target_srn=srn, duration=duration, message=message, fields=fields or {}
    )


class Template(SymResource):
    """A workflow template; jitflow has one, ``sym:template:approval:1.0.0``."""

    @classmethod
    def ignore(cls, *, message: str | None = None, **kwargs: Any) -> EventRequest:
        """Drop the incoming event; ``message`` goes to the user who fired it."""
        return _event_request(TemplateStep.IGNORE.value, message=message, fields=kwargs)


class ApprovalTemplate(Template):
    """The approval template and its event-request factories."""

    @classmethod
    def prompt(cls, **kwargs: Any) -> EventRequest:
        return _event_request(ApprovalTemplateStep.PROMPT.value, fields=kwargs)

    @classmethod
    def request(
        cls, *, target_srn: SRN | str | None = None, duration: int | None = None, **kwargs: Any
    ) -> EventRequest:
        return _event_request(
            ApprovalTemplateStep.REQUEST.value, target_srn, duration, None, kwargs
        )

    @classmethod
    def approve(
        cls, *, target_srn: SRN | str | None = None, duration: int | None = None, **kwargs: Any
    ) -> EventRequest:
        """Approve the request (extra kwargs such as ``reason=`` land in the payload fields)."""
        return _event_request(
            ApprovalTemplateStep.APPROVE.value, target_srn, duration, None, kwargs
        )

    @classmethod
    def deny(
        cls, *, target_srn: SRN | str | None = None, duration: int | None = None, **kwargs: Any
    ) -> EventRequest:
        """Deny the request."""
        return _event_request(ApprovalTemplateStep.DENY.value, target_srn, duration, None, kwargs)

    @classmethod
    def escalate(
        cls, *, target_srn: SRN | str | None = None, duration: int | None = None, **kwargs: Any
    ) -> EventRequest:
        return _event_request(
            ApprovalTemplateStep.ESCALATE.value, target_srn, duration, None, kwargs
        )

    @classmethod
    def deescalate(cls, *, target_srn: SRN | str | None = None, **kwargs: Any) -> EventRequest:
        return _event_request(ApprovalTemplateStep.DEESCALATE.value, target_srn, None, None, kwargs)


def get_step_output(step: ApprovalTemplateStep | str | None = None) -> dict[str, Any]:
    """The output of ``step`` (default: the current event's), e.g. ``get_step_output("escalate")``.

    In Sym's shape: ``body`` holds what the step produced (for the Aptible strategy: its
    ``membership_id``, ``role_id``, ``user_id`` and ``preexisting``) and ``errors`` the errors it
    reported. The same keys as ``body`` also stay at the top level, where jitflow's reducers
    read them. Empty when that step produced nothing (yet).
    """
    context = current_call("get_step_output")
    name = step.value if isinstance(step, Enum) else (step or context.event_name)
    return sym_step_output(context.step_outputs.get(name, {}))


def sym_step_output(raw: dict[str, Any]) -> dict[str, Any]:
    """``raw`` (what the workflow recorded) with Sym's ``body`` and ``errors`` keys.

    An output already in Sym's shape (a Lambda strategy's ``{"body": ..., "errors": [...]}``)
    is returned as it is.
    """
    if not raw:
        return {}
    if isinstance(raw.get("body"), dict):
        return {**raw, "errors": list(raw.get("errors") or [])}
    body = {key: value for key, value in raw.items() if key != "errors"}
    errors = raw.get("errors")
    return {**body, "body": body, "errors": list(errors) if isinstance(errors, list) else []}
