"""Sym's ``sym.sdk.models``: the object model in one import."""

from jitflow.sdk.event import Channel, Event, EventMeta, Payload
from jitflow.sdk.flow import Environment, Flow, Run
from jitflow.sdk.forms import FieldOption
from jitflow.sdk.request_destination import (
    RequestDestination,
    RequestDestinationFallback,
    SlackChannelID,
    SlackChannelName,
    SlackUser,
    SlackUserGroup,
)
from jitflow.sdk.resource import SRN, SymResource
from jitflow.sdk.target import AccessTarget
from jitflow.sdk.user import User, UserIdentity, UserRole

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
