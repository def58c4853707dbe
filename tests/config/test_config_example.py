"""examples/aptible: the complete configuration the rest of the project demos and tests with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jitflow.config.lookup import find_target

EXAMPLE = Path(__file__).parents[2] / "examples" / "aptible"


def test_example_loads_without_warnings(load_ok: Any) -> None:
    config = load_ok(EXAMPLE)
    assert config.warnings == () and config.unresolved == () and config.set_aside == ()

    flow = config.flow_by_name("APTIBLE_ACCESS")
    assert flow is not None and flow.key == "this"
    assert flow.implementation is not None
    assert (flow.implementation.kind, flow.implementation.module) == (
        "module",
        "reducers.aptible_access",
    )
    assert flow.vars == {
        "approvers": "bob@example.com",
        "on_call": "carol@example.com",
        "request_timeout": "24h",
    }
    assert flow.request_timeout == 86400
    assert flow.durations == (30, 600, 3600, 8 * 3600, 86400)
    assert [f.name for f in flow.params.prompt_fields] == ["reason", "duration"]
    assert flow.environment == "this" and config.environments["this"].name == "main"

    strategy = config.strategies[flow.params.strategy or ""]
    assert strategy.targets == ("admin_prod", "admin_ro")
    integration = config.integrations[strategy.integration]
    assert integration.org_id == "94a49e57-d046-4d9d-9dbf-f7711e337368"
    for secret in (integration.username_secret, integration.password_secret):
        assert secret.path == "sym/main/aptible-bot-credentials"
        assert config.secret_sources[secret.source].type == "aws_secrets_manager"
    target = find_target(config, flow, "admin role")
    assert target is not None and target.role_id == "24463ef7-1d6e-402e-a365-69cb6db80c6e"
