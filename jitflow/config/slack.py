"""A ``sym_integration`` of type ``slack``: the workspace jitflow posts to and takes clicks from.

Configured the Sym way, with the credentials in Secrets Manager::

    resource "sym_integration" "slack" {
      type        = "slack"
      name        = "main-slack"
      external_id = "T0123ABCD"                                   # the workspace id
      settings = {
        bot_token_secret = sym_secret.slack_bot_token.id          # xoxb-... (chat:write, users:read,
                                                                  #  users:read.email, im:write)
        signing_secret   = sym_secret.slack_signing_secret.id     # the app's signing secret
        request_channel  = "#access-requests"                     # optional: where requests go
      }                                                           # when a flow names no destination
    }

Reducers' ``slack`` SDK calls use the same bot token, and need ``channels:read``,
``groups:read``, ``usergroups:read`` and ``mpim:write`` besides (``jitflow.integrations.slack``).

Each mistake names the file, the resource and the attribute: a credential written as a value and
a ``request_channel`` Slack cannot take are errors; a missing setting or an odd workspace id is a
warning, so that Sym's own configurations (which declare the integration without settings) still
load. The configuration holds where the token lives, never the token.
"""

from __future__ import annotations

from jitflow.config.fields import ResourceReader
from jitflow.config.integrations import flow_integrations
from jitflow.config.issues import nearest
from jitflow.config.models import Flow, JitflowConfig, SecretRef, SymIntegration

SLACK = "slack"
BOT_TOKEN_SETTING = "bot_token_secret"
SIGNING_SECRET_SETTING = "signing_secret"
REQUEST_CHANNEL_SETTING = "request_channel"
SLACK_SETTINGS = (BOT_TOKEN_SETTING, SIGNING_SECRET_SETTING, REQUEST_CHANNEL_SETTING)
_SECRET_SETTINGS = {
    BOT_TOKEN_SETTING: "the bot token (xoxb-...)",
    SIGNING_SECRET_SETTING: "the app's signing secret",
}


def check_slack_integration(
    reader: ResourceReader,
    external_id: str,
    settings: dict[str, str],
    secrets: dict[str, SecretRef],
) -> None:
    """Report every mistake of a slack integration at its attribute.

    A credential written as a value, or a ``request_channel`` Slack cannot take, is an error.
    What is missing is a warning, as for every integration: Sym's own configurations declare
    the slack integration without settings (Sym holds the token), and they must keep loading;
    jitflow then delivers nothing, and each request's timeline says why.
    """
    entry = reader.fields.get("external_id")
    site = entry.site if entry is not None else reader.site.at("external_id")
    if entry is None:
        reader.warning("a slack integration needs external_id: the workspace id (T...)", site)
    elif external_id and not (
        external_id.startswith("T") and external_id.isalnum() and external_id.isupper()
    ):
        reader.warning(
            f"external_id {external_id!r} is not a Slack workspace id (they look like T0123ABCD; "
            "Slack shows it under Settings > Workspace settings)",
            site,
        )
    for setting, what in _SECRET_SETTINGS.items():
        if setting in secrets:
            continue
        where = reader.site.at(f"settings.{setting}")
        if setting in settings:
            reader.error(
                f"{setting} must be the id of a sym_secret holding {what} "
                "(sym_secret.<name>.id), not a value: a credential never goes in the configuration",
                where,
            )
        else:
            reader.warning(
                f"a slack integration needs setting {setting!r} (the id of a sym_secret holding "
                f"{what}); until it has one, jitflow sends nothing to Slack and takes no clicks",
                where,
            )
    channel = settings.get(REQUEST_CHANNEL_SETTING)
    if channel is not None and not _is_channel(channel):
        reader.error(
            f"request_channel {channel!r} must be a channel name (#access-requests) or id (C...)",
            reader.site.at(f"settings.{REQUEST_CHANNEL_SETTING}"),
        )
    for setting in [*settings, *secrets]:
        if setting not in SLACK_SETTINGS:
            reader.warning(
                f"setting {setting!r} is not one a slack integration reads",
                reader.site.at(f"settings.{setting}"),
                nearest(setting, SLACK_SETTINGS),
            )


def _is_channel(text: str) -> bool:
    if text.startswith("#"):
        return len(text) > 1 and " " not in text
    return text[:1] in ("C", "G") and text.isalnum()


def slack_integration(config: JitflowConfig, flow: Flow | None = None) -> SymIntegration | None:
    """The slack integration of ``flow`` (its environment's ``slack_id``, else the only one),
    or, without a flow, the deployment's only one."""
    if flow is not None:
        found = flow_integrations(config, flow).get(SLACK)
        return found if found is not None and found.type == SLACK else None
    slack = [i for i in config.sym_integrations.values() if i.type == SLACK]
    return slack[0] if len(slack) == 1 else None


def slack_integrations(config: JitflowConfig) -> list[SymIntegration]:
    """Every slack integration, for the front door (which serves them all)."""
    return [i for i in config.sym_integrations.values() if i.type == SLACK]
