"""Turn the workflow's ``EventData`` into the Sym ``Event`` a reducer receives.

The workflow sends plain data from its history; this adds what the configuration knows (the
flow's vars and prompt fields, its strategy, integration and targets) and builds Sym's objects.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from jitflow.config.integrations import flow_integrations
from jitflow.config.models import AptibleRoleTarget, Flow, JitflowConfig, SecretRef, SymIntegration
from jitflow.contracts.events import EventData, TargetData, UserData
from jitflow.reducer_runtime.handlers import EVENT_NAMES
from jitflow.sdk.event import Channel, Event, EventMeta, Payload
from jitflow.sdk.flow import Environment, Run
from jitflow.sdk.flow import Flow as SymFlow
from jitflow.sdk.resource import JITFLOW_ORG, SRN
from jitflow.sdk.secret import Secret, SecretSource
from jitflow.sdk.strategies import Integration
from jitflow.sdk.strategy import Strategy
from jitflow.sdk.target import AccessTarget
from jitflow.sdk.templates import ApprovalTemplate
from jitflow.sdk.user import User, UserIdentity

_TEMPLATE_SRN = SRN(JITFLOW_ORG, "template", None, "approval", "1.0.0")
_STRATEGY_NAMESPACE = uuid.UUID("a4d3b7e2-5c1f-4a8e-9b6d-2f0e1c3a5b70")


def slug(name: str) -> str:
    """``name`` as an SRN slug (letters, digits, ``-``, ``_``)."""
    return re.sub(r"[^a-zA-Z0-9_-]", "-", name) or "unnamed"


def find_flow(config: JitflowConfig, flow: str) -> Flow:
    """The flow with resource key (or name) ``flow``; a clear error naming it when there is none."""
    found = config.flows.get(flow) or config.flow_by_name(flow)
    if found is None:
        known = ", ".join(sorted(config.flows)) or "none"
        raise ValueError(f"no flow {flow!r} in the configuration (flows: {known})")
    return found


def to_user(data: UserData) -> User:
    identities: dict[str, list[UserIdentity]] = {}
    for key, user_id in data.identities.items():
        service, _, service_id = key.partition(":")
        identities.setdefault(service, []).append(
            UserIdentity(service=service, service_id=service_id, user_id=user_id)
        )
    return User.from_email(
        data.email,
        data.role,
        first_name=data.first_name,
        last_name=data.last_name,
        identities=identities,
    )


def _target(key: str, name: str, label: str | None, role_id: str, kind: str) -> AccessTarget:
    return AccessTarget(
        srn=SRN(JITFLOW_ORG, "access_target", kind, slug(name), "latest"),
        label=label,
        type=kind,
        settings={"role_id": role_id, "key": key},
    )


def target_from_data(data: TargetData) -> AccessTarget:
    return _target(data.key, data.name, data.label, data.role_id, data.type)


def _target_from_config(target: AptibleRoleTarget) -> AccessTarget:
    return _target(target.key, target.name, target.label, target.role_id, "aptible_role")


def _strategy(config: JitflowConfig, flow: Flow) -> Strategy | None:
    strategy = config.strategies.get(flow.params.strategy or "")
    if strategy is None:
        return None
    integration = config.integrations.get(strategy.integration)
    sym_integration = Integration(
        type="aptible",
        external_id=integration.org_id if integration else "",
        name=integration.name if integration else strategy.integration,
        settings={
            "username_secret": integration.username_secret.key,
            "password_secret": integration.password_secret.key,
        }
        if integration
        else {},
    )
    return Strategy(
        srn=SRN(JITFLOW_ORG, "access_strategy", "aptible", slug(strategy.name), "latest"),
        id=uuid.uuid5(_STRATEGY_NAMESPACE, strategy.key),
        type="aptible",
        label=strategy.label,
        integration=sym_integration,
        targets=[
            _target_from_config(config.targets[t]) for t in strategy.targets if t in config.targets
        ],
    )


def _secret(config: JitflowConfig, ref: SecretRef) -> Secret:
    """A ``sym_secret`` as the SDK's ``Secret``: where it lives; ``retrieve_value()`` reads it."""
    source = config.secret_sources.get(ref.source)
    return Secret(
        srn=SRN(JITFLOW_ORG, "secret", "aws_secrets_manager", slug(ref.key), "latest"),
        id=ref.key,
        path=ref.path,
        source=SecretSource(
            srn=SRN(JITFLOW_ORG, "secrets", "aws_secrets_manager", slug(ref.source), "latest"),
            type=ref.source_type,
            settings=dict(source.settings) if source else {},
        ),
        settings={"json_key": ref.json_key} if ref.json_key else {},
    )


def sdk_integration(config: JitflowConfig, integration: SymIntegration) -> Integration:
    """A configured integration as reducers see it: secret settings as ``Secret`` objects, a
    custom integration's ``secret_ids_json`` as ``settings["secrets"]``, as in Sym."""
    settings: dict[str, Any] = dict(integration.settings)
    settings.update({name: _secret(config, ref) for name, ref in integration.secrets.items()})
    if integration.secret_list:
        settings["secrets"] = [_secret(config, ref) for ref in integration.secret_list]
    return Integration(
        type=integration.type,
        external_id=integration.external_id,
        name=integration.name,
        settings=settings,
    )


def environment_integrations(
    config: JitflowConfig, flow: Flow, strategy: Strategy | None
) -> dict[str, Integration]:
    """``event.flow.environment.integrations``: every integration the flow reaches, by the
    name Sym's SDK uses (``"pagerduty"``, ``"aws_lambda"``, a custom one's environment key).

    The Aptible strategy's own integration is the one without its bot's secrets.
    """
    found = {
        name: sdk_integration(config, integration)
        for name, integration in flow_integrations(config, flow).items()
        if integration.type != "aptible"
    }
    if strategy is not None:
        found["aptible"] = strategy.integration
    return found


def _sym_flow(config: JitflowConfig, flow: Flow) -> SymFlow:
    strategy = _strategy(config, flow)
    environment = Environment(
        srn=SRN(JITFLOW_ORG, "environment", None, slug(flow.environment or "default"), "latest"),
        integrations=environment_integrations(config, flow, strategy),
    )
    return SymFlow(
        srn=SRN(JITFLOW_ORG, "flow", None, slug(flow.name), "latest"),
        fields={field.name: field.model_dump() for field in flow.params.prompt_fields},
        vars=dict(flow.vars),
        environment=environment,
        strategy=strategy,
    )


def build_event(data: EventData, config: JitflowConfig) -> Event:
    """The Sym ``Event`` for ``data``, in the flow ``data.flow`` of ``config``."""
    if data.name not in EVENT_NAMES:
        raise ValueError(f"unknown event name {data.name!r}; events are {', '.join(EVENT_NAMES)}")
    flow = find_flow(config, data.flow)
    user = to_user(data.user)
    target = target_from_data(data.target)
    fields: dict[str, Any] = {"target": target, "target_id": data.target.key, **data.fields}
    actors = {name: to_user(actor) for name, actor in data.actors.items()}
    actors.setdefault("request", to_user(data.requester))
    actors.setdefault(data.name, user)
    channel = Channel(type=data.channel_type)
    return Event(
        srn=SRN(JITFLOW_ORG, "event", None, data.name, "latest"),
        payload=Payload(
            srn=SRN(JITFLOW_ORG, "payload", None, data.name, "latest"),
            timestamp=data.timestamp,
            fields=fields,
            user=user,
        ),
        meta=EventMeta(request_id=data.request_id),
        template=ApprovalTemplate(srn=_TEMPLATE_SRN),
        flow=_sym_flow(config, flow),
        run=Run(actors=actors, contexts=dict(data.contexts), source_channel=channel),
        channel=channel,
    )


def build_prompt_event(
    config: JitflowConfig, flow_key: str, user: UserData, channel: str | None = None
) -> Event:
    """The ``prompt`` event of ``user`` opening ``flow_key``'s request form from Slack.

    There is no request yet: no target, no duration, no run id; ``payload.fields`` is empty and
    the run knows only who prompts. ``channel`` is where the command was typed, as Sym's
    ``event.channel.identifier``.
    """
    flow = find_flow(config, flow_key)
    who = to_user(user)
    channel_data = Channel(identifier=channel or None, type="slack")
    return Event(
        srn=SRN(JITFLOW_ORG, "event", None, "prompt", "latest"),
        payload=Payload(
            srn=SRN(JITFLOW_ORG, "payload", None, "prompt", "latest"),
            timestamp=datetime.now(UTC),
            fields={},
            user=who,
        ),
        meta=EventMeta(request_id=None),
        template=ApprovalTemplate(srn=_TEMPLATE_SRN),
        flow=_sym_flow(config, flow),
        run=Run(actors={"prompt": who}, source_channel=channel_data),
        channel=channel_data,
    )
