"""Where to announce a new request (``sym.sdk.notifications``): accepted and recorded by jitflow.

Delivery comes later; ``get_request_notifications`` is still called when a request is made and
what it returns is recorded in the request's history.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from jitflow.sdk.request_destination import RequestDestination, SlackRequestDestination
from jitflow.sdk.user import User


class Notification(BaseModel):
    """One notification step: its destinations (at most one in Slack) and an optional timeout."""

    model_config = ConfigDict(frozen=True)

    destinations: list[RequestDestination | User] = Field(min_length=1)
    timeout: int | None = None

    @field_validator("destinations")
    @classmethod
    def _one_slack_destination(
        cls, value: list[RequestDestination | User]
    ) -> list[RequestDestination | User]:
        if sum(isinstance(d, SlackRequestDestination) for d in value) > 1:
            raise ValueError("a Notification may hold at most one Slack destination")
        return value
