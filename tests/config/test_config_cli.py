"""``jitflow validate`` through click's CliRunner, and the post-load checks it runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from jitflow.cli.main import main
from jitflow.config import checks
from jitflow.config.issues import ConfigIssue
from jitflow.config.models import JitflowConfig

ROOT = Path(__file__).parents[2]
SEED = Path(__file__).parent / "fixtures" / "seed"


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(main, ["validate", *args], env=env or {}, catch_exceptions=False)


def test_example_is_valid_and_printed_as_a_table() -> None:
    result = run(str(ROOT / "examples" / "aptible"))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Flow aptible_access (sym_flow.this)" in out
    assert "main-aptible-strategy (sym_strategy.this)" in out
    assert "24463ef7-1d6e-402e-a365-69cb6db80c6e" in out and "Admin Role" in out
    assert "94a49e57-d046-4d9d-9dbf-f7711e337368" in out
    assert "sym/main/aptible-bot-credentials" in out and "username" in out and "password" in out
    assert "reducers.aptible_access (module)" in out
    assert "30s, 10m, 1h, 8h, 1d" in out
    assert out.rstrip().endswith("valid")


def test_default_path_is_jitflow_config_then_the_example(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert run().exit_code == 0
    result = run(env={"JITFLOW_CONFIG": str(SEED)})
    assert result.exit_code == 1 and "sym_strategy.aptible" in result.stderr


def test_seed_blocks_fail_naming_the_three_references() -> None:
    result = run(str(SEED))
    assert result.exit_code == 1
    assert result.stdout == ""
    err = result.stderr
    assert "3 configuration errors" in err
    assert "sym_secrets.this is not declared" in err
    assert "local.environment_name is not declared" in err
    assert (
        "sym_strategy.aptible is not declared" in err and "did you mean sym_strategy.this?" in err
    )
    assert "main.tf:88" in err
    assert "2 warning(s)" in err


def test_var_options_and_bad_var_syntax(write_config: Any, base: str) -> None:
    folder = write_config(
        base.replace('"94a49e57-d046-4d9d-9dbf-f7711e337368"', "var.org")
        + 'variable "org" {}\n'
        + 'resource "sym_runtime" "r" {\n  name = "r"\n  context_id = module.x.id\n}\n'
        + 'module "x" {\n  source = "./x"\n}\n'
    )
    unset = run(str(folder))
    assert unset.exit_code == 1 and "JITFLOW_VAR_org" in unset.stderr
    result = run(str(folder), "--var", "org=94a49e57-d046-4d9d-9dbf-f7711e337368")
    assert result.exit_code == 0, result.output
    assert "Unresolved references" in result.stdout and "module.x.id" in result.stdout
    assert "Set aside (1)" in result.stdout and "module.x" in result.stdout
    assert "Kept without acting on them: sym_runtime.r" in result.stdout
    from_env = run(str(folder), env={"JITFLOW_VAR_org": "94a49e57-d046-4d9d-9dbf-f7711e337368"})
    assert from_env.exit_code == 0
    bad = CliRunner().invoke(main, ["validate", str(folder), "--var", "novalue"])
    assert bad.exit_code == 2 and "'novalue' must look like name=value" in bad.output


def flows_need_labels(config: JitflowConfig) -> list[ConfigIssue]:
    """A post-load check, as other parts of jitflow write them."""
    return [
        ConfigIssue.at(
            "this flow needs a label",
            location=flow.location,
            address=f"sym_flow.{flow.key}",
            attribute="label",
        )
        for flow in config.flows.values()
        if not flow.label
    ]


def notes_flow_count(config: JitflowConfig) -> list[ConfigIssue]:
    return [ConfigIssue(f"{len(config.flows)} flow(s)", severity="warning")]


def broken_check(config: JitflowConfig) -> list[ConfigIssue]:
    raise RuntimeError("boom")


def test_post_load_checks_run_by_name_or_function(
    write_config: Any, load_ok: Any, base: str, flow: str
) -> None:
    config = load_ok(write_config(base + flow))
    issues = checks.run_post_load_checks(
        config, [f"{__name__}:flows_need_labels", notes_flow_count, broken_check, "nope"]
    )
    assert [i.severity for i in issues] == ["error", "warning", "error", "error"]
    assert str(issues[0]).endswith("sym_flow.this.label: this flow needs a label")
    assert issues[0].line == config.flows["this"].location.line
    assert "broken_check failed: RuntimeError: boom" in issues[2].message
    assert "'nope' must look like 'package.module:function'" in issues[3].message


@pytest.fixture
def registered() -> Iterator[list[str]]:
    """Entries appended to POST_LOAD_CHECKS the way other modules register, removed afterwards."""
    added: list[str] = []
    yield added
    for entry in added:
        checks.POST_LOAD_CHECKS.remove(entry)


def test_validate_fails_on_post_load_check_errors(
    write_config: Any, base: str, flow: str, registered: list[str]
) -> None:
    folder = write_config(base + flow)
    for entry in (f"{__name__}:notes_flow_count",):
        checks.POST_LOAD_CHECKS.append(entry)
        registered.append(entry)
    passing = run(str(folder))
    assert passing.exit_code == 0 and "1 flow(s)" in passing.stdout
    checks.POST_LOAD_CHECKS.append(f"{__name__}:flows_need_labels")
    registered.append(f"{__name__}:flows_need_labels")
    failing = run(str(folder))
    assert failing.exit_code == 1 and "this flow needs a label" in failing.stderr


def test_integrations_jitflow_uses_are_not_listed_as_idle(write_config: Any, base: str) -> None:
    folder = write_config(
        base
        + 'resource "sym_integration" "pagerduty" {\n  type = "pagerduty"\n  name = "pd"\n'
        + '  external_id = "example.pagerduty.com"\n}\n'
        + 'resource "sym_runtime" "r" {\n  name = "r"\n}\n'
    )
    result = run(str(folder))
    assert result.exit_code == 0, result.output
    assert (
        "Integrations for hooks and Slack: sym_integration.pagerduty (pagerduty)" in result.stdout
    )
    assert "Kept without acting on them: sym_runtime.r" in result.stdout
    assert "Kept without acting on them: sym_integration" not in result.stdout
