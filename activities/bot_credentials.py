"""The Aptible bot's login for an integration, read from the secrets its configuration names.

A ``sym_integration`` of type ``aptible`` points at two ``sym_secret`` resources, the bot's
username and password (usually two keys of one JSON secret). Activities call this right before
talking to Aptible; the credentials stay inside the activity and are never returned to a workflow.
"""

from __future__ import annotations

import asyncio

from activities.aptible.credentials import AptibleCredentials
from activities.secrets import SecretReader
from jitflow.config.models import AptibleIntegration, JitflowConfig


class UnknownIntegration(LookupError):
    """The configuration has no Aptible integration by that key. Retrying cannot help."""

    retryable = False


class BotCredentials:
    """Builds ``AptibleCredentials`` from the configured secrets, through a shared reader."""

    def __init__(self, reader: SecretReader, config: JitflowConfig) -> None:
        self._reader = reader
        self._config = config

    def __repr__(self) -> str:
        return f"BotCredentials(integrations={sorted(self._config.integrations)!r})"

    def integration(self, integration_key: str) -> AptibleIntegration:
        """The integration by its resource key, or ``UnknownIntegration`` naming the known ones."""
        found = self._config.integrations.get(integration_key)
        if found is None:
            known = ", ".join(repr(key) for key in sorted(self._config.integrations)) or "none"
            raise UnknownIntegration(
                f"no Aptible integration {integration_key!r} in the configuration (known: {known})"
            )
        return found

    async def for_integration(self, integration_key: str) -> AptibleCredentials:
        """The bot's username and password; raises ``SecretError`` subclasses as the reader does."""
        integration = self.integration(integration_key)
        username, password = await asyncio.gather(
            self._reader.read(integration.username_secret),
            self._reader.read(integration.password_secret),
        )
        return AptibleCredentials(username=username, password=password)

    def forget(self, integration_key: str) -> None:
        """Drop the integration's secrets from the cache, so that the next call reads AWS again.

        For the Aptible client when the bot's login is refused: the password may have been rotated.
        """
        integration = self.integration(integration_key)
        self._reader.forget(integration.username_secret.path)
        self._reader.forget(integration.password_secret.path)
