"""A flow's access strategy (``sym.sdk.strategy``)."""

from __future__ import annotations

import uuid

from jitflow.sdk.resource import SymResource
from jitflow.sdk.strategies import Integration
from jitflow.sdk.target import AccessTarget


class Strategy(SymResource):
    """A ``sym_strategy``: which integration acts on which targets."""

    id: uuid.UUID
    type: str
    label: str | None = None
    integration: Integration
    targets: list[AccessTarget] = []
    settings: dict[str, str] = {}
