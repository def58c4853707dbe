"""Builders for the reducer tests: a one-flow configuration and the events the workflow sends."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jitflow.config.models import (
    AptibleIntegration,
    AptibleRoleTarget,
    AptibleStrategy,
    Flow,
    FlowParams,
    Implementation,
    JitflowConfig,
    PromptField,
    SecretRef,
    SourceLocation,
)
from jitflow.contracts.events import EventData, TargetData, UserData
from jitflow.devstack.example import EXAMPLE_ADMIN_ROLE_ID, EXAMPLE_ORG_ID

ORG_ID = EXAMPLE_ORG_ID
ROLE_ID = EXAMPLE_ADMIN_ROLE_ID
REQUESTER = "alice@example.com"


def write_module(directory: Path, source: str, name: str = "impl.py") -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(source).lstrip())
    return path


def file_implementation(path: Path) -> Implementation:
    return Implementation(kind="file", path=str(path))


def make_config(
    implementation: Implementation | None,
    vars: dict[str, str] | None = None,
    tf_file: Path | None = None,
    extra_flows: dict[str, Flow] | None = None,
) -> JitflowConfig:
    """One Aptible flow ``this`` (name ``aptible_access``) with its strategy, target and secrets."""
    secret = SecretRef(key="bot_username", source="this", path="sym/main/aptible-bot")
    password = SecretRef(key="bot_password", source="this", path="sym/main/aptible-bot")
    flow = Flow(
        key="this",
        name="aptible_access",
        label="Aptible Access",
        implementation=implementation,
        vars=vars or {},
        params=FlowParams(
            strategy="this",
            prompt_fields=(PromptField(name="reason", type="string"),),
        ),
        location=SourceLocation(file=str(tf_file), line=9) if tf_file else None,
    )
    return JitflowConfig(
        flows={"this": flow, **(extra_flows or {})},
        strategies={
            "this": AptibleStrategy(
                key="this", name="main-aptible-strategy", integration="aptible", targets=("prod",)
            )
        },
        targets={
            "prod": AptibleRoleTarget(
                key="prod", name="main-aptible-admin-role", label="Admin Role", role_id=ROLE_ID
            )
        },
        integrations={
            "aptible": AptibleIntegration(
                key="aptible",
                name="main-aptible",
                org_id=ORG_ID,
                username_secret=secret,
                password_secret=password,
            )
        },
        secrets={"bot_username": secret, "bot_password": password},
    )


def user(email: str, role: str = "member", **identities: str) -> UserData:
    return UserData.model_validate({"email": email, "role": role, "identities": identities})


def event(
    name: str = "request",
    *,
    by: str = REQUESTER,
    role: str = "member",
    fields: dict[str, Any] | None = None,
    channel_type: str = "api",
    step_outputs: dict[str, dict[str, Any]] | None = None,
    actors: dict[str, UserData] | None = None,
) -> EventData:
    """An event of flow ``this``, fired by ``by``, for a request made by ``alice@example.com``."""
    return EventData(
        name=name,
        flow="this",
        request_id="req-1",
        timestamp=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        user=user(by, role),
        requester=user(REQUESTER),
        target=TargetData(
            key="prod", name="main-aptible-admin-role", label="Admin Role", role_id=ROLE_ID
        ),
        fields={"reason": "deploy hotfix for the outage", "duration": 600, **(fields or {})},
        actors=actors or {},
        step_outputs=step_outputs or {},
        channel_type=channel_type,
    )
