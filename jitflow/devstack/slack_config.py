"""The configuration ``jitflow dev`` runs with: the chosen folder, plus a Slack integration.

The example configuration (``examples/aptible``) has no Slack on purpose: the tests and the
benchmark read it, and Slack deliveries would change what they see. So the dev stack never
edits the folder it is given. It copies it to ``<state dir>/config/`` at every start and adds
``jitflow-dev-slack.tf`` there: a ``sym_integration`` of type ``slack`` for the emulated
workspace, the ``sym_secret``s of its bot token and signing secret (which the stack stores in
the local Secrets Manager, as it stores the Aptible bot's), and the environment's ``slack_id``,
so that requests made in ``make run`` are announced in the Slack emulator's channel.

The copy is made afresh each start, so an edit to the source folder shows at the next start;
edits to the copy are lost (the file says so).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from jitflow.devstack.slack_workspace import REQUEST_CHANNEL, TEAM_ID

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

#: The file the dev stack adds to its copy of the configuration.
SLACK_TF = "jitflow-dev-slack.tf"
#: The local Secrets Manager secret holding the emulated app's credentials, as JSON.
SLACK_SECRET_NAME = "jitflow-dev/slack-app"
INTEGRATION_KEY = "jitflow_dev_slack"

_ENVIRONMENT = re.compile(r'resource\s+"sym_environment"\s+"([A-Za-z0-9_-]+)"\s*\{[^\n]*\n')


def slack_tf(source: Path) -> str:
    """The Terraform the dev stack adds: the integration and where its credentials live."""
    return f"""# Written by `jitflow dev` into its copy of {source}; rewritten at every start, so
# edit {source} instead. The Slack workspace is jitflow's Slack API emulator; the bot token and
# signing secret are in the dev stack's Secrets Manager (moto), secret {SLACK_SECRET_NAME}.

resource "sym_secrets" "{INTEGRATION_KEY}" {{
  type = "aws_secrets_manager"
  name = "jitflow-dev-slack-sm"
}}

resource "sym_secret" "{INTEGRATION_KEY}_bot_token" {{
  source_id = sym_secrets.{INTEGRATION_KEY}.id
  path      = "{SLACK_SECRET_NAME}"

  settings = {{
    json_key = "bot_token"
  }}
}}

resource "sym_secret" "{INTEGRATION_KEY}_signing_secret" {{
  source_id = sym_secrets.{INTEGRATION_KEY}.id
  path      = "{SLACK_SECRET_NAME}"

  settings = {{
    json_key = "signing_secret"
  }}
}}

resource "sym_integration" "{INTEGRATION_KEY}" {{
  type        = "slack"
  name        = "jitflow-dev-slack"
  external_id = "{TEAM_ID}"

  settings = {{
    bot_token_secret = sym_secret.{INTEGRATION_KEY}_bot_token.id
    signing_secret   = sym_secret.{INTEGRATION_KEY}_signing_secret.id
    request_channel  = "{REQUEST_CHANNEL}"
  }}
}}
"""


def _block_end(text: str, start: int) -> int:
    """The index just after the ``}`` closing the block whose ``{`` is before ``start``."""
    depth = 1
    for index in range(start, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return index + 1
    return len(text)


def with_slack_id(text: str) -> str:
    """``text`` with ``integrations = { slack_id = ... }`` in each ``sym_environment`` that has
    no ``integrations`` map yet (one that has one keeps it; with a single slack integration the
    flow still reaches it by type)."""
    line = f"  integrations = {{ slack_id = sym_integration.{INTEGRATION_KEY}.id }}\n"
    out, position = [], 0
    for match in _ENVIRONMENT.finditer(text):
        body = text[match.end() : _block_end(text, match.end())]
        out.append(text[position : match.end()])
        if not re.search(r"^\s*integrations\s*=", body, re.MULTILINE):
            out.append(line)
        position = match.end()
    out.append(text[position:])
    return "".join(out)


def prepare_config(source: Path, target: Path) -> Path:
    """Copy ``source`` (a folder, or one ``.tf`` file) to ``target`` with the Slack integration
    added; returns ``target``. ``source`` is never changed."""
    if target.exists():
        shutil.rmtree(target)
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        target.mkdir(parents=True)
        shutil.copy2(source, target / source.name)
    for tf in sorted(target.glob("*.tf")):
        text = tf.read_text(encoding="utf-8")
        changed = with_slack_id(text)
        if changed != text:
            tf.write_text(changed, encoding="utf-8")
    (target / SLACK_TF).write_text(slack_tf(source), encoding="utf-8")
    return target


def store_slack_secret(client: SecretsManagerClient, bot_token: str, signing_secret: str) -> None:
    """Put the emulated app's credentials where the integration's ``sym_secret``s point."""
    value = json.dumps({"bot_token": bot_token, "signing_secret": signing_secret})
    try:
        client.create_secret(Name=SLACK_SECRET_NAME, SecretString=value)
    except client.exceptions.ResourceExistsException:
        client.put_secret_value(SecretId=SLACK_SECRET_NAME, SecretString=value)
