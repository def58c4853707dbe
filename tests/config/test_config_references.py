"""Reference resolution: locals, variables, interpolation, path.module, file(), and what
jitflow cannot resolve (module outputs, data sources)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jitflow.config.loader import load_config

VARIABLES = """
variable "org_id" {
  type    = string
  default = "94a49e57-d046-4d9d-9dbf-f7711e337368"
}
variable "env" {
  default = "main"
}
variable "guests" {
  type    = bool
  default = false
}
locals {
  prefix      = "${var.env}-aptible"
  secret_path = "sym/${local.env_name}/bot"
  env_name    = var.env
}
"""


def interpolated(base: str) -> str:
    return (
        base.replace('"94a49e57-d046-4d9d-9dbf-f7711e337368"', "var.org_id")
        .replace('name           = "main-aptible-strategy"', 'name = "${local.prefix}-strategy"')
        .replace('path      = "sym/main/bot"', "path = local.secret_path")
    )


def test_locals_variables_and_interpolation_resolve(
    write_config: Any, load_ok: Any, base: str
) -> None:
    config = load_ok(write_config(interpolated(base) + VARIABLES))
    assert config.strategies["this"].name == "main-aptible-strategy"
    assert config.secrets["username"].path == "sym/main/bot"
    assert config.integrations["aptible"].org_id == "94a49e57-d046-4d9d-9dbf-f7711e337368"


def test_variables_are_overridden_by_env_then_by_explicit_values(
    write_config: Any, load_ok: Any, base: str
) -> None:
    folder = write_config(interpolated(base) + VARIABLES)
    from_env = load_ok(folder, environ={"JITFLOW_VAR_env": "staging", "JITFLOW_VAR_unknown": "x"})
    assert from_env.secrets["username"].path == "sym/staging/bot"
    both = load_ok(folder, variables={"env": "prod"}, environ={"JITFLOW_VAR_env": "staging"})
    assert both.secrets["username"].path == "sym/prod/bot"
    assert both.strategies["this"].name == "prod-aptible-strategy"


def test_variable_values_follow_the_declared_type(
    write_config: Any, load_ok: Any, load_errors: Any, base: str, flow: str
) -> None:
    text = (
        base
        + VARIABLES
        + flow.replace(
            "strategy_id = sym_strategy.this.id",
            "strategy_id = sym_strategy.this.id\n    allow_guest_interaction = var.guests",
        )
    )
    folder = write_config(text)
    config = load_ok(folder, variables={"guests": "TRUE"})
    assert config.flows["this"].params.allow_guest_interaction is True
    errors = load_errors(folder, variables={"guests": "maybe"})
    assert [e.message for e in errors] == [
        "variable 'guests' is a bool: its value must be true or false"
    ]


def test_an_undeclared_var_option_is_an_error_with_a_suggestion(
    write_config: Any, load_errors: Any, base: str
) -> None:
    errors = load_errors(write_config(base + VARIABLES), variables={"orgid": "x"})
    assert len(errors) == 1
    assert "orgid" in errors[0].message and errors[0].suggestion == "org_id"


def test_environment_variables_are_read_from_os_environ_by_default(
    write_config: Any, base: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JITFLOW_VAR_env", "qa")
    config = load_config(write_config(interpolated(base) + VARIABLES))
    assert config.secrets["password"].path == "sym/qa/bot"


def test_undeclared_references_are_reported_with_the_nearest_name(
    write_config: Any, load_errors: Any, base: str
) -> None:
    text = (
        base.replace('"94a49e57-d046-4d9d-9dbf-f7711e337368"', "var.orgid")
        .replace("sym_target.admin_prod.id", "sym_target.admin_prd.id")
        .replace('path      = "sym/main/bot"', "path = local.secret_pth")
        + VARIABLES
    )
    errors = load_errors(write_config(text))
    found = {e.message.split()[0]: e.suggestion for e in errors}
    assert found == {
        "var.orgid": "var.org_id",
        "sym_target.admin_prd": "sym_target.admin_prod",
        "local.secret_pth": "local.secret_path",
    }


def test_a_reference_cycle_in_locals_is_an_error(
    write_config: Any, load_errors: Any, base: str
) -> None:
    text = base + 'locals {\n  a = local.b\n  b = "${local.c}-x"\n  c = local.a\n}\n'
    errors = load_errors(write_config(text))
    assert len(errors) == 1
    assert errors[0].message.startswith("reference cycle: local.")
    assert all(f"local.{name}" in errors[0].message for name in "abc")


def test_path_module_and_file_give_an_absolute_implementation_file(
    write_config: Any, load_ok: Any, base: str, flow: str
) -> None:
    for implementation in (
        'file("impl.py")',
        '"${path.module}/impl.py"',
        '"impl.py"',
        '"./impl.py"',
    ):
        text = base + flow.replace('"reducers.aptible_access"', implementation)
        folder = write_config(text, impl__py="def get_approvers(event): ...\n")
        found = load_ok(folder).flows["this"].implementation
        assert found is not None, implementation
        assert (found.kind, found.path) == ("file", str((folder / "impl.py").resolve()))


def test_a_missing_implementation_file_is_an_error(
    write_config: Any, load_errors: Any, base: str, flow: str
) -> None:
    errors = load_errors(
        write_config(base + flow.replace('"reducers.aptible_access"', 'file("nope.py")'))
    )
    assert len(errors) == 1 and "nope.py does not exist" in errors[0].message
    assert (errors[0].address, errors[0].attribute) == ("sym_flow.this", "implementation")


MODULE_USES = """
module "runtime_connector" {
  source = "symopsio/runtime-connector/aws"
}
data "aws_caller_identity" "current" {}
provider "sym" {
  org = "example"
}
terraform {
  required_providers {
    sym = { source = "symopsio/sym" }
  }
}
resource "aws_iam_role" "runtime" {
  name = "sym-runtime"
}
resource "sym_integration" "slack" {
  type        = "slack"
  name        = "main-slack"
  external_id = data.aws_caller_identity.current.account_id
}
resource "sym_error_logger" "slack" {
  integration_id = sym_integration.slack.id
  destination    = "#sym-errors"
}
resource "sym_runtime" "this" {
  name       = "main"
  context_id = module.runtime_connector.sym_integration.id
}
"""


def test_unresolvable_references_are_listed_where_not_needed(
    write_config: Any, load_ok: Any, base: str
) -> None:
    text = (
        base.replace(
            'name = "main-sm"',
            'name = "main-sm"\n  settings = { context_id = module.runtime_connector.id }',
        )
        + MODULE_USES
    )
    config = load_ok(write_config(text))
    unresolved = {(u.address, u.attribute): u.expression for u in config.unresolved}
    assert unresolved == {
        ("sym_secrets.this", "settings.context_id"): "module.runtime_connector.id",
        ("sym_integration.slack", "external_id"): "data.aws_caller_identity.current.account_id",
        ("sym_runtime.this", "context_id"): "module.runtime_connector.sym_integration.id",
    }
    assert config.secret_sources["this"].settings == {}
    kept = {(k.type, k.key): k.attributes for k in config.kept}
    assert kept[("sym_error_logger", "slack")] == {
        "integration_id": "sym_integration.slack",
        "destination": "#sym-errors",
    }
    assert ("sym_integration", "slack") in kept and ("sym_runtime", "this") in kept
    notes = {s.address: s.note for s in config.set_aside}
    assert set(notes) == {
        "module.runtime_connector",
        "data.aws_caller_identity.current",
        "provider.sym",
        "terraform",
        "aws_iam_role.runtime",
    }
    assert notes["aws_iam_role.runtime"] == "another provider's resource"


def test_unresolvable_references_are_errors_where_needed(
    write_config: Any, load_errors: Any, base: str
) -> None:
    text = base.replace('path      = "sym/main/bot"', "path = module.secrets.path") + MODULE_USES
    errors = load_errors(write_config(text))
    assert {(e.address, e.attribute) for e in errors} == {
        ("sym_secret.username", "path"),
        ("sym_secret.password", "path"),
    }
    assert all("cannot resolve module.secrets.path" in e.message for e in errors)


def test_unset_variable_is_an_error_only_where_needed(
    write_config: Any, load_ok: Any, load_errors: Any, base: str, tmp_path: Path
) -> None:
    unset = 'variable "org" {}\n'
    config = load_ok(
        write_config(
            base + unset + 'resource "sym_runtime" "r" {\n  name = "r"\n  label = var.org\n}\n'
        )
    )
    assert [u.expression for u in config.unresolved] == ["var.org"]
    errors = load_errors(
        write_config(base.replace('"94a49e57-d046-4d9d-9dbf-f7711e337368"', "var.org") + unset)
    )
    assert len(errors) == 1 and "JITFLOW_VAR_org" in errors[0].message
