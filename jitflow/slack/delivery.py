"""Posting, updating and direct messages over one Web API client: every failure is an outcome.

Nothing here raises for a Slack problem: each destination's failure becomes one scrubbed line of
the ``DeliveryOutcome``, so the activity that calls this can never fail the request it reports on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jitflow.contracts.notifications import (
    DeliveryOutcome,
    PostedMessage,
    RequestCard,
    RequesterNotice,
)
from jitflow.slack.client import describe_failure
from jitflow.slack.destinations import Destination, Step
from jitflow.slack.messages import request_blocks, request_text, requester_text

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient


class DestinationFailed(Exception):
    """A destination could not be reached; the message says why, without secrets."""


class SlackDelivery:
    """What jitflow sends to Slack, through ``client`` (which holds the bot token)."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def user_id(self, email: str) -> str:
        try:
            response = await self._client.users_lookupByEmail(email=email)
        except Exception as error:
            raise DestinationFailed(f"{email}: {describe_failure(error)}") from None
        return str(response["user"]["id"])

    async def _conversation(self, place: Destination) -> str:
        """The channel to post to: the named channel, or a conversation opened with people."""
        if place.problem:
            raise DestinationFailed(place.problem)
        if place.channel:
            return place.channel
        users = [*place.user_ids, *[await self.user_id(email) for email in place.emails]]
        try:
            response = await self._client.conversations_open(users=",".join(users))
        except Exception as error:
            raise DestinationFailed(f"{place.label}: {describe_failure(error)}") from None
        return str(response["channel"]["id"])

    async def _post(
        self, place: Destination, text: str, blocks: list[dict[str, Any]] | None
    ) -> PostedMessage:
        channel = await self._conversation(place)
        try:
            response = await self._client.chat_postMessage(
                channel=channel, text=text, blocks=blocks, unfurl_links=False
            )
        except Exception as error:
            raise DestinationFailed(f"{place.label}: {describe_failure(error)}") from None
        return PostedMessage(
            channel=str(response["channel"]), ts=str(response["ts"]), destination=place.label
        )

    async def post_request(self, card: RequestCard, plan: list[Step]) -> DeliveryOutcome:
        """Post the request to each destination of the first step that reaches anyone."""
        if not plan:
            return DeliveryOutcome(delivered=True, note="the flow names no Slack destination")
        text, blocks = request_text(card), request_blocks(card)
        posted: list[PostedMessage] = []
        failures: list[str] = []
        for step in plan:
            for place in step:
                try:
                    posted.append(await self._post(place, text, blocks))
                except DestinationFailed as failure:
                    failures.append(str(failure))
            if posted:
                break  # partial success is success; the next step is a backup only
        return DeliveryOutcome(
            delivered=bool(posted) and not failures,
            messages=tuple(posted),
            failures=tuple(failures),
        )

    async def update_request(
        self, card: RequestCard, messages: tuple[PostedMessage, ...]
    ) -> DeliveryOutcome:
        """Show ``card``'s state in every message that announced the request."""
        text, blocks = request_text(card), request_blocks(card)
        updated: list[PostedMessage] = []
        failures: list[str] = []
        for message in messages:
            try:
                await self._client.chat_update(
                    channel=message.channel, ts=message.ts, text=text, blocks=blocks
                )
                updated.append(message)
            except Exception as error:
                failures.append(f"{message.destination}: {describe_failure(error)}")
        return DeliveryOutcome(
            delivered=not failures, messages=tuple(updated), failures=tuple(failures)
        )

    async def notify_requester(self, card: RequestCard, notice: RequesterNotice) -> DeliveryOutcome:
        """A direct message to the requester, found by email."""
        place = Destination(label=card.requester, emails=(card.requester,))
        try:
            posted = await self._post(place, requester_text(card, notice), None)
        except DestinationFailed as failure:
            return DeliveryOutcome(delivered=False, failures=(str(failure),))
        return DeliveryOutcome(delivered=True, messages=(posted,))
