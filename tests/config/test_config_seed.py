"""The Aptible Access Strategy page's blocks, verbatim and completed (issue 3's acceptance)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from jitflow.config.lookup import flow_targets

FIXTURES = Path(__file__).parent / "fixtures"
SEED = FIXTURES / "seed" / "main.tf"
PAGE = Path("/work/shared/seed-aptible-access-strategy.txt")


def test_fixture_holds_the_page_blocks_verbatim() -> None:
    text = SEED.read_text()
    assert "  \tstrategy_id = sym_strategy.aptible.id\n" in text  # the page's tab, kept
    if PAGE.exists():  # the shared spec lives outside the repository
        page = PAGE.read_text()
        for block in text.split("\n\n"):
            assert block.strip("\n") in page


def test_verbatim_blocks_fail_with_exactly_the_three_problems(load_errors: Any) -> None:
    errors = load_errors(SEED.parent)
    assert len(errors) == 3
    by_reference = {e.message.split()[0]: e for e in errors}
    assert set(by_reference) == {
        "sym_secrets.this",
        "local.environment_name",
        "sym_strategy.aptible",
    }

    strategy = by_reference["sym_strategy.aptible"]
    assert strategy.suggestion == "sym_strategy.this"
    assert (strategy.address, strategy.attribute) == ("sym_flow.this", "params.strategy_id")
    assert strategy.file == str(SEED) and strategy.line == 88
    assert "did you mean sym_strategy.this?" in str(strategy)

    secrets = by_reference["sym_secrets.this"]
    assert (secrets.address, secrets.attribute, secrets.line) == (
        "sym_secret.aptible_bot_username",
        "source_id",
        16,
    )
    assert secrets.also_at == (f"{SEED}:26: sym_secret.aptible_bot_password.source_id",)
    assert secrets.suggestion is None  # no sym_secrets exists to suggest

    local = by_reference["local.environment_name"]
    assert (local.address, local.attribute, local.line) == (
        "aws_secretsmanager_secret.aptible_bot_credentials",
        "tags",
        7,
    )


def test_completed_blocks_load_with_both_targets(tmp_path: Path, load_ok: Any) -> None:
    fixed = SEED.read_text().replace("sym_strategy.aptible.id", "sym_strategy.this.id")
    (tmp_path / "main.tf").write_text(fixed)
    shutil.copy(FIXTURES / "seed_completion" / "completion.tf", tmp_path / "completion.tf")

    config = load_ok(tmp_path)

    flow = config.flows["this"]
    assert (flow.name, flow.label, flow.implementation) == (
        "aptible_access",
        "Aptible Access",
        None,
    )
    assert flow.durations == (30, 600, 3600) and flow.request_timeout == 24 * 3600
    targets = {t.key: t for t in flow_targets(config, flow)}
    assert targets["admin_prod"].name == "main-aptible-admin-role"
    assert targets["admin_prod"].label == "Admin Role"
    assert targets["admin_prod"].role_id == "24463ef7-1d6e-402e-a365-69cb6db80c6e"
    assert (targets["admin_ro"].name, targets["admin_ro"].label) == ("admin_ro", None)
    assert targets["admin_ro"].role_id == "c7d5f21a-1d4e-4b39-9957-f8acabde2a3a"
    integration = config.integrations["aptible"]
    assert integration.org_id == "94a49e57-d046-4d9d-9dbf-f7711e337368"
    assert integration.username_secret.path == "sym/main/aptible-bot-credentials"
    assert (integration.username_secret.json_key, integration.password_secret.json_key) == (
        "username",
        "password",
    )
    assert any("sym_target.admin_ro" in w and "'admin_ro'" in w for w in config.warnings)
    assert any("no implementation" in w and "admin role approve" in w for w in config.warnings)
    assert len(config.warnings) == 2
