"""Sym's ``sym.sdk.models``: the object model in one import."""

from reducers.sdk.event import Channel, Event, EventMeta, Payload
from reducers.sdk.flow import Environment, Flow, Run
from reducers.sdk.forms import FieldOption
from reducers.sdk.request_destination import (
    RequestDestination,
    RequestDestinationFallback,
    SlackChannelID,
    SlackChannelName,
    SlackUser,
    SlackUserGroup,
)
from reducers.sdk.resource import SRN, SymResource
from reducers.sdk.target import AccessTarget
from reducers.sdk.user import User, UserIdentity, UserRole

__all__ = [
    "SRN",
    "AccessTarget",
    "Channel",
    "Environment",
    "Event",
    "EventMeta",
    "FieldOption",
    "Flow",
    "Payload",
    "RequestDestination",
    "RequestDestinationFallback",
    "Run",
    "SlackChannelID",
    "SlackChannelName",
    "SlackUser",
    "SlackUserGroup",
    "SymResource",
    "User",
    "UserIdentity",
    "UserRole",
]
