"""Where a request is sent (``sym.sdk.request_destination``).

Destinations are recorded in the request's history, and jitflow's Slack delivery posts the
request to them. A ``SlackUser`` may hold an email instead of a Slack id
(``slack.user("bob@example.com")``); in the legacy ``get_approvers`` form, the people a
destination reaches (a channel's members included, read from Slack) are the request's approvers.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class RequestDestination(BaseModel):
    """Base of every destination; ``allow_self`` lets the requester approve."""

    model_config = ConfigDict(frozen=True)

    allow_self: bool = False
    timeout: int | None = None


class SlackRequestDestination(RequestDestination):
    """A destination in Slack."""


def _non_empty(value: str, what: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError(f"{what} must be non-empty")
    return value


class SlackChannelID(SlackRequestDestination):
    """A Slack channel by id (``C…``, ``D…`` or ``G…``)."""

    channel_id: str

    @field_validator("channel_id")
    @classmethod
    def _check(cls, value: str) -> str:
        value = _non_empty(value, "channel_id")
        if value[0] not in "CDG":
            raise ValueError(f"{value!r} is not a Slack channel id (they start with C, D or G)")
        return value

    def __str__(self) -> str:
        return f"SlackChannelID '{self.channel_id}'"


class SlackChannelName(SlackRequestDestination):
    """A Slack channel by name (``#sym-requests``)."""

    channel_name: str

    @field_validator("channel_name")
    @classmethod
    def _check(cls, value: str) -> str:
        return _non_empty(value, "channel_name")

    def __str__(self) -> str:
        return f"SlackChannelName '{self.channel_name}'"


class SlackUser(SlackRequestDestination):
    """A Slack user: by Slack id (``U…``/``W…``), by email, or by ``@handle``."""

    user_id: str | None = None
    email: str | None = None
    handle: str | None = None

    @field_validator("user_id")
    @classmethod
    def _check_id(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = _non_empty(value, "user_id")
        if value[0] not in "UW":
            raise ValueError(f"{value!r} is not a Slack user id (they start with U or W)")
        return value

    @field_validator("email")
    @classmethod
    def _check_email(cls, value: str | None) -> str | None:
        return value.strip().lower() if value else None

    @model_validator(mode="after")
    def _one_reference(self) -> SlackUser:
        given = [v for v in (self.user_id, self.email, self.handle) if v]
        if len(given) != 1:
            raise ValueError("a SlackUser needs exactly one of user_id, email or handle")
        return self

    def mention(self) -> str:
        """Text that mentions this user in a Slack message."""
        if self.user_id:
            return f"<@{self.user_id}>"
        return f"@{self.handle}" if self.handle else str(self.email)

    def __str__(self) -> str:
        return f"SlackUser '{self.user_id or self.email or self.handle}'"


class SlackUserGroup(SlackRequestDestination):
    """A Slack group DM of 1 to 7 users; the group's ``allow_self`` wins over its members'."""

    users: list[SlackUser] = Field(min_length=1, max_length=7)

    def __str__(self) -> str:
        return f"SlackUserGroup '{[str(u) for u in self.users]}'"


class RequestDestinationFallback(BaseModel):
    """Destinations tried in turn (legacy ``slack.fallback``)."""

    model_config = ConfigDict(frozen=True)

    destinations: list[RequestDestination]
    continue_on_delivery_failure: bool = True
    continue_on_timeout: bool = False


class RequestForwardContext(BaseModel):
    """Given to ``on_request_forward`` hooks; jitflow does not forward requests yet."""

    model_config = ConfigDict(frozen=True)

    all_request_destinations: list[RequestDestination]
    current_destination_index: int
    next_destination_index: int | None
