"""The flow and the run an event belongs to (``sym.sdk.flow``)."""

from __future__ import annotations

from typing import Any

from jitflow.sdk.resource import SymBaseResource, SymResource
from jitflow.sdk.strategies import Integration
from jitflow.sdk.strategy import Strategy
from jitflow.sdk.user import User


class Environment(SymResource):
    """A ``sym_environment``. ``integrations`` holds every integration its flows reach, by the
    name Sym's SDK uses: the environment map's key without ``_id`` (``"pagerduty"``,
    ``"aws_lambda"``, a custom ``"victorops"``), else the type of an integration declared once."""

    integrations: dict[str, Integration] = {}


class Flow(SymResource):
    """A ``sym_flow``: ``vars`` as written in Terraform, ``fields`` its prompt fields."""

    fields: dict[str, Any] = {}
    vars: dict[str, str] = {}
    environment: Environment
    strategy: Strategy | None = None


class Channel(SymBaseResource):
    """Where an event came from: ``type`` is ``api``, ``slack``, ``sdk`` (a hook), ``internal``."""

    identifier: str | None = None
    type: str = "api"


class Run(SymBaseResource):
    """One request's run: who fired each event (``actors``) and the context given with it."""

    actors: dict[str, User] = {}
    contexts: dict[str, dict[str, Any]] = {}
    source_channel: Channel = Channel()
