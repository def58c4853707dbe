"""Slack delivery activities: announce a request, update its message, tell the requester.

Each reads the flow's ``slack`` integration from this worker's configuration and its bot token
from Secrets Manager (the token never enters a workflow), calls Slack with bounded retries, and
returns a ``DeliveryOutcome``. They never raise for Slack or the token: a failure is described in
the outcome (scrubbed), so a request is never failed, delayed or retried because Slack is down;
the workflow only records what happened in its timeline.
"""

from __future__ import annotations

import logging

from temporalio import activity

from activities.secrets import SecretReader
from jitflow.config.models import JitflowConfig, SymIntegration
from jitflow.config.slack import BOT_TOKEN_SETTING, REQUEST_CHANNEL_SETTING, slack_integration
from jitflow.contracts.activities import (
    SLACK_NOTIFY_REQUESTER,
    SLACK_POST_REQUEST,
    SLACK_UPDATE_REQUEST,
)
from jitflow.contracts.notifications import (
    DeliveryOutcome,
    NotifyRequesterCall,
    PostRequestCall,
    RequestCard,
    UpdateRequestCall,
)
from jitflow.scrub import scrub
from jitflow.slack.client import slack_api_url, web_client
from jitflow.slack.delivery import SlackDelivery
from jitflow.slack.destinations import steps

log = logging.getLogger("jitflow.slack")


class NoDelivery(Exception):
    """Nothing can be sent for this flow; ``outcome`` says why."""

    def __init__(self, outcome: DeliveryOutcome) -> None:
        super().__init__(outcome.note or "; ".join(outcome.failures))
        self.outcome = outcome


class NotificationActivities:
    """The Slack activities of one worker: its configuration, its secret reader, Slack's URL."""

    def __init__(
        self, config: JitflowConfig, secrets: SecretReader, api_url: str | None = None
    ) -> None:
        self._config = config
        self._secrets = secrets
        self._api_url = api_url or slack_api_url()

    def _integration(self, card: RequestCard) -> SymIntegration:
        flow = self._config.flows.get(card.flow)
        integration = slack_integration(self._config, flow) if flow is not None else None
        if integration is None:
            raise NoDelivery(
                DeliveryOutcome(delivered=True, note="no slack integration is configured")
            )
        return integration

    async def _delivery(self, integration: SymIntegration) -> SlackDelivery:
        ref = integration.secrets.get(BOT_TOKEN_SETTING)
        if ref is None:  # the configuration loader reports this; a worker may still run old config
            failure = f"sym_integration.{integration.key} has no {BOT_TOKEN_SETTING}"
            raise NoDelivery(DeliveryOutcome(delivered=False, failures=(failure,)))
        try:
            token = await self._secrets.read(ref)
        except Exception as error:  # named by its type and the secret's path, never its value
            failure = (
                f"could not read the Slack bot token from secret {ref.path!r}: "
                f"{type(error).__name__}"
            )
            raise NoDelivery(DeliveryOutcome(delivered=False, failures=(failure,))) from None
        return SlackDelivery(web_client(token, self._api_url))

    @activity.defn(name=SLACK_POST_REQUEST.name)
    async def post_request(self, call: PostRequestCall) -> DeliveryOutcome:
        """Post the new request, with Approve and Deny buttons, to the flow's destinations."""
        try:
            integration = self._integration(call.card)
            plan = steps(call.notifications, integration.settings.get(REQUEST_CHANNEL_SETTING))
            if not plan:
                return DeliveryOutcome(delivered=True, note="the flow names no Slack destination")
            return self._logged(
                await (await self._delivery(integration)).post_request(call.card, plan)
            )
        except NoDelivery as nothing:
            return self._logged(nothing.outcome)
        except Exception as error:  # never fail the request over a message
            return self._unexpected(error)

    @activity.defn(name=SLACK_UPDATE_REQUEST.name)
    async def update_request(self, call: UpdateRequestCall) -> DeliveryOutcome:
        """Update the request's messages in place with its new state."""
        if not call.messages:
            return DeliveryOutcome(delivered=True, note="no message to update")
        try:
            delivery = await self._delivery(self._integration(call.card))
            return self._logged(await delivery.update_request(call.card, call.messages))
        except NoDelivery as nothing:
            return self._logged(nothing.outcome)
        except Exception as error:  # never fail the request over a message
            return self._unexpected(error)

    @activity.defn(name=SLACK_NOTIFY_REQUESTER.name)
    async def notify_requester(self, call: NotifyRequesterCall) -> DeliveryOutcome:
        """Tell the requester that access was granted, is about to end, or was removed."""
        try:
            delivery = await self._delivery(self._integration(call.card))
            return self._logged(await delivery.notify_requester(call.card, call.notice))
        except NoDelivery as nothing:
            return self._logged(nothing.outcome)
        except Exception as error:  # never fail the request over a message
            return self._unexpected(error)

    @staticmethod
    def _unexpected(error: Exception) -> DeliveryOutcome:
        log.exception("slack delivery raised")
        failure = scrub(f"{type(error).__name__}: {error}")
        return DeliveryOutcome(delivered=False, failures=(failure,))

    @staticmethod
    def _logged(outcome: DeliveryOutcome) -> DeliveryOutcome:
        for failure in outcome.failures:
            log.warning("slack delivery failed: %s", failure)
        return outcome
