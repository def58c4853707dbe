"""A ``sym_integration`` of type ``slack`` is read the Sym way (secrets in Secrets Manager), and
each mistake is an error naming the file, the resource and the attribute."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from jitflow.config.issues import ConfigErrors
from jitflow.config.loader import load_config
from jitflow.config.slack import slack_integration

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "aptible"

SECRETS = """
resource "sym_secret" "slack_bot_token" {
  source_id = sym_secrets.this.id
  path      = "sym/main/slack-bot-token"
}

resource "sym_secret" "slack_signing_secret" {
  source_id = sym_secrets.this.id
  path      = "sym/main/slack-signing-secret"
}
"""


def folder(tmp_path: Path, slack: str) -> Path:
    for name in ("main.tf", "flow.tf"):
        shutil.copy(EXAMPLE / name, tmp_path / name)
    (tmp_path / "slack.tf").write_text(SECRETS + slack, encoding="utf-8")
    return tmp_path


def test_a_slack_integration_names_its_workspace_and_secrets(tmp_path: Path) -> None:
    config = load_config(
        folder(
            tmp_path,
            """
resource "sym_integration" "slack" {
  type        = "slack"
  name        = "main-slack"
  external_id = "T0123ABCD"
  settings = {
    bot_token_secret = sym_secret.slack_bot_token.id
    signing_secret   = sym_secret.slack_signing_secret.id
    request_channel  = "#access-requests"
  }
}
""",
        )
    )
    found = slack_integration(config, next(iter(config.flows.values())))
    assert found is not None and found.external_id == "T0123ABCD"
    assert found.secrets["bot_token_secret"].path == "sym/main/slack-bot-token"
    assert found.secrets["signing_secret"].path == "sym/main/slack-signing-secret"
    assert found.settings == {"request_channel": "#access-requests"}


def test_each_mistake_is_an_error_at_its_attribute(tmp_path: Path) -> None:
    path = folder(
        tmp_path,
        """
resource "sym_integration" "slack" {
  type        = "slack"
  name        = "main-slack"
  external_id = "acme.slack.com"
  settings = {
    bot_token_secret = "xoxb-pasted-here"
    request_channel  = "access requests"
  }
}
""",
    )
    with pytest.raises(ConfigErrors) as raised:
        load_config(path)
    errors = {(e.address, e.attribute): e for e in raised.value.errors}
    warnings = {(w.address, w.attribute): w for w in raised.value.warnings}
    where = "sym_integration.slack"
    assert "must be the id of a sym_secret" in errors[(where, "settings.bot_token_secret")].message
    assert "pasted-here" not in str(raised.value)  # a pasted token is never echoed back
    assert "#access-requests" in errors[(where, "settings.request_channel")].message
    assert "is not a Slack workspace id" in warnings[(where, "external_id")].message
    assert "needs setting 'signing_secret'" in warnings[(where, "settings.signing_secret")].message
    assert all(e.file and e.file.endswith("slack.tf") for e in errors.values())


def test_a_sym_slack_integration_without_settings_still_loads_with_warnings(
    tmp_path: Path,
) -> None:
    config = load_config(
        folder(
            tmp_path,
            """
resource "sym_integration" "slack" {
  type        = "slack"
  name        = "main-slack"
  external_id = "T0123ABCD"
}
""",
        )
    )
    texts = [str(w) for w in config.warnings]
    assert any("settings.bot_token_secret" in t and "sends nothing to Slack" in t for t in texts)
