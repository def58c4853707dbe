"""Integrations and custom access strategies (``sym.sdk.strategies``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from jitflow.sdk._context import not_available
from jitflow.sdk.exceptions import AccessStrategyError

if TYPE_CHECKING:
    from jitflow.sdk.event import Event
    from jitflow.sdk.user import User


class Integration(BaseModel):
    """A ``sym_integration``: its type, external id and settings.

    As in Sym, a setting that names a ``sym_secret`` (``api_token_secret``) holds a ``Secret``
    whose ``retrieve_value()`` reads it, and a custom integration's ``secret_ids_json`` arrives
    as ``settings["secrets"]``, a list of them. The Aptible strategy's integration keeps the
    bot's secrets as their resource keys: reducers never read the bot's credentials.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    type: str
    external_id: str
    name: str | None = None
    settings: dict[str, Any] = {}


class AccessStrategy(ABC):
    """Sym's base for custom strategies. jitflow runs only its built-in Aptible strategy."""

    def __init__(self, integration: Integration) -> None:
        self.integration = integration

    def get_requester_identity(self, event: Event) -> str:
        raise not_available(
            "AccessStrategy.get_requester_identity",
            "jitflow runs its built-in Aptible strategy only, not custom strategies",
            AccessStrategyError,
        )

    @abstractmethod
    def fetch_remote_identity(self, user: User) -> str | None: ...

    @abstractmethod
    def escalate(self, target_id: str, event: Event) -> dict[str, Any] | None: ...

    @abstractmethod
    def deescalate(self, target_id: str, event: Event) -> dict[str, Any] | None: ...
