"""Resolve an access request against the loaded configuration (the workflow's first activity).

The result is recorded in the ``AccessRequest`` history, so a replay never reads the
configuration again and a later configuration change never alters a running grant. Every
refusal is a non-retryable failure whose message names the bad value and what is allowed.
"""

from __future__ import annotations

import re
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.blocking import Blocking
from activities.field_checks import field_problems, typed_fields
from jitflow.config.durations import format_duration, parse_duration
from jitflow.config.lookup import find_target, flow_targets
from jitflow.config.models import Flow, JitflowConfig
from jitflow.config.slack import slack_integration
from jitflow.contracts.access import (
    AccessRequestInput,
    ResolvedRequest,
)
from jitflow.contracts.activities import RESOLVE_REQUEST
from jitflow.contracts.base import normalize_email
from jitflow.contracts.events import TargetData
from jitflow.reducer_runtime import ImplementationCache, ImplementationError, hook_options

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class RequestRefused(ValueError):
    """The request names something the configuration does not allow."""


def _refuse(message: str) -> ApplicationError:
    return ApplicationError(message, type="RequestRefused", non_retryable=True)


def _allowed_text(durations: tuple[int, ...]) -> str:
    return ", ".join(format_duration(seconds) for seconds in durations)


def requested_duration(value: int | str | None, flow: Flow) -> int:
    """The requested duration in seconds, if it is one of ``flow``'s allowed values."""
    allowed = flow.durations
    if value is None:
        raise RequestRefused(
            f"no duration given; flow {flow.name!r} allows: {_allowed_text(allowed)}"
        )
    if isinstance(value, bool):
        raise RequestRefused(f"duration {value!r} is not a duration")
    if isinstance(value, int):
        seconds = value
    else:
        text = value.strip()
        try:
            seconds = int(text) if text.isdigit() else parse_duration(text)
        except ValueError:
            raise RequestRefused(
                f"duration {value!r} is not a duration; flow {flow.name!r} allows: "
                f"{_allowed_text(allowed)}"
            ) from None
    if seconds not in allowed:
        raise RequestRefused(
            f"duration {value!r} is not allowed by flow {flow.name!r}; allowed: "
            f"{_allowed_text(allowed)}"
        )
    return seconds


def missing_fields_text(flow_name: str, missing: list[str]) -> str:
    """Say which required prompt fields are missing, as the requester would give them.

    Most requests come from ``jitflow request``, so the message starts with its options
    (``missing --reason``, ``--field ticket=VALUE``); the input keys follow for whoever started
    the workflow with ``temporal workflow start``.
    """
    others = [name for name in missing if name != "reason"]
    options = (["--reason"] if "reason" in missing else []) + [
        f"--field {name}=VALUE" for name in others
    ]
    keys = (['"reason"'] if "reason" in missing else []) + (
        ['"fields": {' + ", ".join(f'"{name}": ...' for name in others) + "}"] if others else []
    )
    noun = "field" if len(missing) == 1 else "fields"
    return (
        f"missing {' and '.join(options)}: flow {flow_name!r} requires the {noun} "
        f"{', '.join(missing)} (in the input: {' and '.join(keys)})"
    )


def resolve_request(
    config: JitflowConfig,
    request: AccessRequestInput,
    *,
    implementations: ImplementationCache | None = None,
) -> ResolvedRequest:
    """Check ``request`` against ``config``; raise ``RequestRefused`` naming the bad value.

    ``implementations`` (the worker's loaded reducer modules) tells whether the flow has
    ``on_change_<field>`` handlers, which may offer other choices than its fields'
    ``allowed_values``; every caller that decides on a request passes the same one, so the
    resolve step and the add-membership check judge its fields alike."""
    if request.invalid_values:
        problems = "; ".join(f"{key} = {text}" for key, text in request.invalid_values.items())
        raise RequestRefused(f"invalid input: {problems}")
    unknown = request.unknown_keys()
    if unknown:
        raise RequestRefused(
            f"unknown input keys {unknown}; expected flow, target, requester, duration, reason, "
            "fields, context"
        )
    flow = config.flow_by_name(request.flow)
    if flow is None:
        known = ", ".join(sorted(f.name for f in config.flows.values())) or "none"
        raise RequestRefused(f"unknown flow {request.flow!r}; flows: {known}")
    strategy = config.strategies.get(flow.params.strategy or "")
    if strategy is None:
        raise RequestRefused(
            f"flow {flow.name!r} has no Aptible strategy, so it cannot grant access"
        )
    integration = config.integrations.get(strategy.integration)
    if integration is None:
        raise RequestRefused(
            f"strategy {strategy.name!r} names integration {strategy.integration!r}, "
            "which the configuration does not define"
        )
    target = find_target(config, flow, request.target)
    if target is None:
        names = ", ".join(t.name for t in flow_targets(config, flow)) or "none"
        raise RequestRefused(
            f"unknown target {request.target!r} for flow {flow.name!r}; targets: {names}"
        )
    requester = normalize_email(request.requester)
    if not _EMAIL.fullmatch(requester):
        raise RequestRefused(f"requester {request.requester!r} is not an email address")
    duration = requested_duration(request.duration, flow)
    try:
        hook_timeout, hook_attempts = hook_options(flow)
    except ValueError as error:
        raise RequestRefused(str(error)) from None

    fields: dict[str, Any] = dict(request.fields)
    changing = options_may_change(flow, implementations or ImplementationCache())
    bad_fields = field_problems(flow, fields, options_may_change=changing)
    if bad_fields:
        raise RequestRefused("; ".join(bad_fields))
    fields = typed_fields(flow, fields)
    if request.reason is not None:
        fields["reason"] = request.reason
    fields["duration"] = duration
    fields["target_id"] = target.key
    missing = [
        field.name
        for field in flow.params.prompt_fields
        if field.required
        and field.name not in fields
        and field.name not in ("target_id", "duration")
        and field.default is None
    ]
    if missing:
        raise RequestRefused(missing_fields_text(flow.name, missing))
    for field in flow.params.prompt_fields:
        if field.name not in fields and field.default is not None:
            fields[field.name] = field.default

    return ResolvedRequest(
        flow_key=flow.key,
        flow_name=flow.name,
        flow_label=flow.label,
        target=TargetData(
            key=target.key, name=target.name, label=target.label, role_id=target.role_id
        ),
        strategy_key=strategy.key,
        integration_key=integration.key,
        org_id=integration.org_id,
        requester=requester,
        duration_seconds=duration,
        allowed_durations=flow.durations,
        request_timeout_seconds=flow.request_timeout,
        allow_revoke=flow.params.allow_revoke,
        schedule_deescalation=flow.params.schedule_deescalation,
        allow_guest_interaction=flow.params.allow_guest_interaction,
        include_decision_message=flow.params.include_decision_message,
        hook_timeout_seconds=hook_timeout,
        hook_max_attempts=hook_attempts,
        fields=fields,
        context=dict(request.context),
        slack_integration=slack.key if (slack := slack_integration(config, flow)) else None,
    )


def options_may_change(flow: Flow, implementations: ImplementationCache) -> bool:
    """Whether the flow has ``on_change_<field>`` handlers (in its ``on_change`` files or its
    implementation); a module that does not load is reported by the step after."""
    if any(field.on_change for field in flow.params.prompt_fields):
        return True
    if flow.implementation is None:
        return False
    try:
        loaded = implementations.get(flow.implementation, flow)
    except ImplementationError:
        return False
    return any(name.startswith("on_change_") for name in loaded.handlers)


class AccessActivities:
    """The activities that read the configuration for the access workflow.

    ``implementations`` is the worker's cache of loaded reducer modules (shared with the reducer
    activities), used to record which handlers a flow defines.
    """

    def __init__(
        self,
        config: JitflowConfig,
        implementations: ImplementationCache | None = None,
        *,
        blocking: Blocking | None = None,
    ) -> None:
        self._config = config
        self._implementations = implementations or ImplementationCache()
        self._blocking = blocking or Blocking()

    @activity.defn(name=RESOLVE_REQUEST.name)
    async def resolve_access_request(self, request: AccessRequestInput) -> ResolvedRequest:
        """Resolve flow, target, strategy, integration and duration; refusals are final.

        Async, with the work (which may import a flow's reducer module) on the worker's
        configuration threads: the worker's other activities hold no thread, so the number
        it runs at once is not bounded by a thread count."""
        return await self._blocking(self._resolve, request)

    def _resolve(self, request: AccessRequestInput) -> ResolvedRequest:
        try:
            resolved = resolve_request(self._config, request, implementations=self._implementations)
        except RequestRefused as refused:
            raise _refuse(str(refused)) from None
        flow = self._config.flows[resolved.flow_key]
        if flow.implementation is None:
            return resolved.model_copy(update={"handlers": ()})
        try:
            loaded = self._implementations.get(flow.implementation, flow)
        except ImplementationError as error:
            raise ApplicationError(
                f"flow {flow.name!r}: its reducers do not load: {error}",
                type="ReducerConfigurationError",
                non_retryable=True,
            ) from None
        return resolved.model_copy(update={"handlers": tuple(sorted(loaded.handlers))})
