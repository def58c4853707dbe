"""Integrations configured the Sym way (``sym_integration`` + ``sym_secret`` + the environment's
``integrations`` map) reach reducers as Sym's SDK shows them, and ``jitflow validate`` reads a
module's integration calls against them."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from reducer_test_support import event

from jitflow.cli.main import main
from jitflow.config.integrations import flow_integrations
from jitflow.config.issues import ConfigIssue
from jitflow.config.loader import load_config
from jitflow.reducer_runtime.call_checks import call_issues
from jitflow.reducer_runtime.event_builder import build_event
from jitflow.sdk.secret import Secret

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "aptible"

INTEGRATIONS_TF = """
resource "sym_secret" "pagerduty_api_key" {
  source_id = sym_secrets.this.id
  path      = "sym/main/pagerduty-api-key"
}

resource "sym_secret" "victorops_api_key" {
  source_id = sym_secrets.this.id
  path      = "sym/main/victorops"
  settings  = { json_key = "key" }
}

resource "sym_integration" "pagerduty" {
  type        = "pagerduty"
  name        = "main-pagerduty"
  external_id = "acme.pagerduty.com"
  settings    = { api_token_secret = sym_secret.pagerduty_api_key.id }
}

resource "sym_integration" "knowbe4" {
  type        = "knowbe4"
  name        = "main-knowbe4"
  external_id = "acme.io"
  settings    = { region = "mars" }
}

resource "sym_integration" "lambda_context" {
  type        = "permission_context"
  name        = "main-lambda-context"
  external_id = "123456789012"
  settings    = { cloud = "aws", region = "eu-west-1", role_arn = "arn:aws:iam::123456789012:role/x" }
}

resource "sym_integration" "victorops" {
  type        = "custom"
  name        = "main-victorops"
  external_id = "vo-api"
  settings    = { secret_ids_json = jsonencode([sym_secret.victorops_api_key.id]) }
}

resource "sym_integration" "slack" {
  type        = "slack"
  name        = "main-slack"
  external_id = "T123ABC"
}
"""

ENVIRONMENT_TF = """resource "sym_environment" "this" {
  name  = local.environment_name
  label = "Main"
  integrations = {
    slack_id      = sym_integration.slack.id
    pagerduty_id  = sym_integration.pagerduty.id
    aws_lambda_id = sym_integration.lambda_context.id
    victorops_id  = sym_integration.victorops.id
  }
}
"""


def configuration(tmp_path: Path, impl: str, *, with_integrations: bool = True) -> Path:
    folder = tmp_path / "config"
    shutil.copytree(EXAMPLE, folder)
    flow_tf = folder / "flow.tf"
    text = flow_tf.read_text().replace(
        'implementation = "reducers.aptible_access"', 'implementation = file("impl.py")'
    )
    if with_integrations:
        start = text.index('resource "sym_environment" "this" {')
        end = text.index("}\n", start) + 2
        text = text[:start] + ENVIRONMENT_TF + text[end:]
        (folder / "integrations.tf").write_text(INTEGRATIONS_TF)
    flow_tf.write_text(text)
    (folder / "impl.py").write_text(textwrap.dedent(impl).lstrip())
    return folder


def test_every_integration_reaches_reducers_as_sym_shows_it(tmp_path: Path) -> None:
    config = load_config(configuration(tmp_path, "def on_request(event):\n    return None\n"))
    assert set(config.sym_integrations) == {
        "aptible",
        "pagerduty",
        "knowbe4",
        "lambda_context",
        "victorops",
        "slack",
    }
    assert config.environments["this"].integrations == {
        "slack": "slack",
        "pagerduty": "pagerduty",
        "aws_lambda": "lambda_context",
        "victorops": "victorops",
    }
    reachable = flow_integrations(config, config.flows["this"])
    assert {name: i.key for name, i in reachable.items()} == {
        "aptible": "aptible",
        "pagerduty": "pagerduty",
        "knowbe4": "knowbe4",
        "permission_context": "lambda_context",
        "aws_lambda": "lambda_context",
        "custom": "victorops",
        "victorops": "victorops",
        "slack": "slack",
    }
    assert any("KnowBe4 region 'mars'" in w for w in config.warnings)
    assert any("needs setting 'api_token_secret'" in w for w in config.warnings)

    integrations = build_event(event(), config).flow.environment.integrations
    token = integrations["pagerduty"].settings["api_token_secret"]
    assert isinstance(token, Secret) and token.path == "sym/main/pagerduty-api-key"
    [victorops_key] = integrations["victorops"].settings["secrets"]
    assert (victorops_key.path, victorops_key.settings) == (
        "sym/main/victorops",
        {"json_key": "key"},
    )
    assert integrations["victorops"].external_id == "vo-api"
    assert integrations["aws_lambda"].settings["region"] == "eu-west-1"
    assert integrations["slack"].type == "slack"
    # The Aptible strategy's integration keeps its bot's secrets to itself.
    assert integrations["aptible"].settings == {
        "username_secret": "aptible_bot_username",
        "password_secret": "aptible_bot_password",
    }


GUARDED_AND_NOT = """
from reducers import ApprovalTemplate, SymException, hook, reducer
from reducers.exceptions import OktaError
from reducers.integrations import okta, pagerduty, slack
from reducers.integrations.aws_lambda import invoke


@reducer
def get_approvers(event):
    return slack.channel("#approvers")


@hook
def on_request(event):
    try:
        if pagerduty.is_on_call(event.user):
            return ApprovalTemplate.approve()
        okta.is_user_in_group(event.user, group_id="00g1")
    except SymException:
        slack.send_message(slack.channel("#x"), "fallback")
    invoke(event.flow.vars["arn"], {})


@hook
def on_approve(event):
    try:
        okta.get_user_info(event.user)
    except OktaError:
        pass
    event.flow.environment.integrations["victorops"]
    return pagerduty.is_oncall(event.user)
"""


def messages_by_place(issues: list[ConfigIssue]) -> dict[tuple[int | None, str], str]:
    """``(line, severity) -> message``; several issues of one place, one line each."""
    found: dict[tuple[int | None, str], str] = {}
    for item in issues:
        place = (item.line, item.severity)
        found[place] = f"{found[place]}\n{item.message}" if place in found else item.message
    return found


def test_calls_are_checked_against_what_the_flow_reaches(tmp_path: Path) -> None:
    bare = load_config(configuration(tmp_path / "a", GUARDED_AND_NOT, with_integrations=False))
    found = messages_by_place(call_issues(bare))
    assert set(found) == {
        (9, "warning"),  # slack.channel in get_approvers, no slack
        (15, "warning"),  # pagerduty.is_on_call: no integration, but caught
        (17, "warning"),  # okta.is_user_in_group: idem
        (19, "error"),  # slack.send_message in the handler: no slack integration, uncaught
        (20, "error"),  # aws_lambda.invoke: no integration, uncaught
        (26, "warning"),  # okta.get_user_info: caught by OktaError
        (29, "warning"),  # integrations["victorops"]: KeyError
        (30, "error"),  # a typo: no such function
    }
    assert found[(15, "warning")].startswith("on_request: pagerduty.is_on_call needs a pagerduty")
    assert "which the surrounding except catches" in found[(15, "warning")]
    assert found[(19, "error")].startswith(
        "on_request: slack.send_message needs a slack integration, and flow 'aptible_access' "
        "has none"
    )
    assert "the request fails" in found[(19, "error")]
    assert "no slack integration is configured" in found[(9, "warning")]
    assert (
        'slack.channel("#approvers") names the approvers channel by name' in found[(9, "warning")]
    )
    assert "is no function of Sym's pagerduty module" in found[(30, "error")]

    # Sym's own slack integration has no settings (Sym holds the token): the calls find it, and
    # fail at run time with MISSING_SETTING (the loader warns); a channel still approves nobody.
    full = load_config(configuration(tmp_path / "b", GUARDED_AND_NOT))
    remaining = messages_by_place(call_issues(full))
    assert set(remaining) == {(9, "warning"), (17, "warning"), (26, "warning"), (30, "error")}
    assert "sym_integration.slack has no bot_token_secret" in remaining[(9, "warning")]


def test_validate_reports_calls_with_file_and_line(tmp_path: Path) -> None:
    folder = configuration(tmp_path, GUARDED_AND_NOT, with_integrations=False)
    result = CliRunner().invoke(main, ["validate", str(folder)])
    assert result.exit_code == 1, result.output
    assert (
        f"{folder / 'impl.py'}:19: sym_flow.this: on_request: slack.send_message needs a "
        "slack integration" in result.output
    )

    fine = configuration(
        tmp_path / "ok",
        """
        from reducers import ApprovalTemplate, SymException, hook
        from reducers.integrations import pagerduty


        @hook
        def on_request(event):
            try:
                if pagerduty.is_on_call(event.user):
                    return ApprovalTemplate.approve()
            except SymException:
                return None
    """,
    )
    ok = CliRunner().invoke(main, ["validate", str(fine)])
    assert ok.exit_code == 0, ok.output
    assert "integrations:    aptible (sym_integration.aptible)" in ok.output
    assert "pagerduty (sym_integration.pagerduty)" in ok.output


@pytest.mark.parametrize(
    "source",
    [
        "import reducers.integrations.pagerduty as pd\n\ndef on_request(event):\n    pd.is_on_call(event.user)\n",
        "import reducers\n\ndef on_request(event):\n    reducers.pagerduty.is_on_call(event.user)\n",
        "from reducers import integrations\n\ndef on_request(event):\n    integrations.pagerduty.is_on_call(event.user)\n",
        "from reducers import pagerduty as p\n\ndef on_request(event):\n    p.is_on_call(event.user)\n",
    ],
    ids=["import-as", "package-attribute", "integrations-package", "from-reducers"],
)
def test_every_way_of_importing_a_helper_is_read(tmp_path: Path, source: str) -> None:
    config = load_config(configuration(tmp_path, source, with_integrations=False))
    [issue] = call_issues(config)
    assert (issue.line, issue.severity) == (4, "error")
    assert "pagerduty.is_on_call needs a pagerduty integration" in issue.message
