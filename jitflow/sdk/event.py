"""The event a reducer or hook receives (``sym.sdk.event``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jitflow.sdk.flow import Channel, Flow, Run
from jitflow.sdk.resource import SymBaseResource, SymResource
from jitflow.sdk.templates import Template
from jitflow.sdk.user import User

__all__ = ["Channel", "Event", "EventMeta", "Payload"]


class Payload(SymResource):
    """What the event carries: ``fields`` holds the prompt values, ``duration`` in seconds,
    ``reason``, ``target`` (the ``AccessTarget``) and ``target_id``."""

    timestamp: datetime
    fields: dict[str, Any] = {}
    user: User


class EventMeta(SymBaseResource):
    """Opaque bookkeeping; jitflow keeps the request id here."""

    request_id: str | None = None


class Event(SymResource):
    """One event of a request's run (``request``, ``approve``...)."""

    payload: Payload
    meta: EventMeta = EventMeta()
    template: Template
    flow: Flow
    run: Run
    channel: Channel

    @property
    def name(self) -> str:
        """The event's name: ``"request"``, ``"approve"``..."""
        return self.srn.slug

    @property
    def user(self) -> User:
        """Who fired this event."""
        return self.payload.user

    def get_actor(self, event_name: str) -> User | None:
        """Who fired ``event_name`` in this run (``event.get_actor("request")``: the requester)."""
        return self.run.actors.get(str(getattr(event_name, "value", event_name)))

    def get_context(self, event_name: str) -> dict[str, Any] | None:
        """The context given with ``event_name`` in this run, if any."""
        return self.run.contexts.get(str(getattr(event_name, "value", event_name)))
