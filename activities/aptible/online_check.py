"""The online preflight as a whole: read each bot's credentials, then check every target role.

Shared by ``jitflow validate --online`` and the worker's start-up, which both report what it
finds without printing any credential.
"""

from __future__ import annotations

from activities.aptible.client import AptibleClient
from activities.aptible.credentials import AptibleCredentials
from activities.aptible.preflight import preflight_targets
from activities.bot_credentials import BotCredentials
from activities.secrets import SecretReader
from jitflow.config.models import JitflowConfig


async def online_preflight(
    config: JitflowConfig,
    *,
    aptible: AptibleClient | None = None,
    secrets: SecretReader | None = None,
) -> list[str]:
    """Every problem found with the bots and target roles, as warnings; empty when all is well."""
    bot = BotCredentials(secrets or SecretReader(), config)
    warnings: list[str] = []
    logins: dict[str, AptibleCredentials] = {}
    for key in sorted(config.integrations):
        try:
            logins[key] = await bot.for_integration(key)
        except Exception as error:  # SecretError and friends name the path, never the value
            warnings.append(f"integration {key}: cannot read the bot's credentials: {error}")
    if not logins:
        return warnings
    if aptible is not None:
        return warnings + await preflight_targets(aptible, logins, config)
    async with AptibleClient.from_env() as client:
        return warnings + await preflight_targets(client, logins, config)
