"""One reducer call's door to the integrations: the flow's ``sym_integration`` of each type, its
token, and a client for it, or the integration's own error saying what is missing.

The runner makes a hub per call (the flow and the roles the call began with) over the worker's
``IntegrationServices``. Nothing is read until a function needs it, so a hook that never calls
PagerDuty never reads PagerDuty's token.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property

from jitflow.config.integrations import KNOWBE4_REGIONS, ambiguous_types, flow_integrations
from jitflow.config.models import Flow, JitflowConfig, SecretRef, SymIntegration
from jitflow.config.slack import BOT_TOKEN_SETTING, SLACK
from jitflow.integrations import knowbe4, okta, pagerduty
from jitflow.integrations.aws_lambda import LambdaInvoker
from jitflow.integrations.knowbe4 import KnowBe4Client
from jitflow.integrations.okta import OktaClient
from jitflow.integrations.pagerduty import PagerDutyClient
from jitflow.integrations.people import People, no_stored_identity
from jitflow.integrations.services import IntegrationServices
from jitflow.integrations.slack import SlackClient
from jitflow.sdk.exceptions import (
    AWSLambdaError,
    CouldNotSaveError,
    KnowBe4Error,
    OktaError,
    PagerDutyError,
    SlackError,
    SymException,
    SymIntegrationError,
)
from jitflow.sdk.user import UserIdentity
from jitflow.slack.client import slack_api_url, sync_web_client

ErrorFactory = Callable[[str, str], SymException]


class IntegrationHub:
    """The integrations of one flow, for one reducer call."""

    def __init__(
        self,
        services: IntegrationServices,
        config: JitflowConfig,
        flow: Flow,
        roles: Mapping[str, str],
        *,
        seen: set[str] | None = None,
    ) -> None:
        self.services = services
        self.config = config
        self.flow = flow
        identities = services.identities
        self.people = People(
            roles=dict(roles),
            stored=identities.get_identity if identities is not None else no_stored_identity,
            seen=set() if seen is None else seen,
        )
        self._slack: SlackClient | None = None

    @cached_property
    def integrations(self) -> dict[str, SymIntegration]:
        """The flow's integrations by the SDK's name for them (see ``flow_integrations``)."""
        return flow_integrations(self.config, self.flow)

    def require(self, name: str, error: ErrorFactory) -> SymIntegration:
        """The flow's integration ``name``, or ``error("NOT_CONFIGURED", why)``."""
        found = self.integrations.get(name)
        if found is not None:
            return found
        key = f"{name}_id = sym_integration.<name>.id"
        why = (
            f"several sym_integrations of type {name} exist and flow {self.flow.name!r} does not "
            f"say which: set {key} in its sym_environment's integrations"
            if name in ambiguous_types(self.config, self.flow)
            else f"no {name} integration is configured for flow {self.flow.name!r}: declare a "
            f"sym_integration of type {name} (and {key} in the flow's sym_environment)"
        )
        raise error("NOT_CONFIGURED", why)

    def token(self, integration: SymIntegration, setting: str, error: ErrorFactory) -> str:
        """The value of the secret a setting names (``api_token_secret``)."""
        ref = integration.secrets.get(setting)
        if ref is None:
            raise error(
                "MISSING_SETTING",
                f"sym_integration.{integration.key} has no {setting} (the id of a sym_secret "
                f"holding its {integration.type} API token)",
            )
        return self._read(ref, error, f"sym_integration.{integration.key}.settings.{setting}")

    def secret_value(self, key: str) -> str:
        """The value of ``sym_secret.<key>`` (``Secret.retrieve_value``)."""
        ref = self.config.secrets.get(key)
        if ref is None:
            raise SymIntegrationError("SECRET_NOT_FOUND", f"there is no sym_secret {key!r}")
        return self._read(ref, SymIntegrationError, f"sym_secret.{key}")

    def _read(self, ref: SecretRef, error: ErrorFactory, what: str) -> str:
        reader = self.services.secrets
        if reader is None:
            raise error(
                "SECRETS_UNAVAILABLE",
                f"this worker reads no secrets, so {what} cannot be read",
            )
        try:
            return reader.read_now(ref)
        except Exception as failure:  # SecretError messages name the path, never the value
            raise error(
                "SECRET_UNREADABLE",
                f"could not read {what} (secret {ref.path!r}): {type(failure).__name__}: {failure}",
            ) from None

    # -- clients --------------------------------------------------------------------------------

    def pagerduty(self) -> PagerDutyClient:
        integration = self.require("pagerduty", PagerDutyError)
        token = self.token(integration, "api_token_secret", PagerDutyError)
        base = self.services.endpoint("pagerduty") or pagerduty.api_url_for(integration.external_id)
        return PagerDutyClient(
            pagerduty.api(self.services.http(), base, token), integration.external_id, self.people
        )

    def okta(self) -> OktaClient:
        integration = self.require("okta", OktaError)
        token = self.token(integration, "api_token_secret", OktaError)
        base = self.services.endpoint("okta")
        if base is None:
            if not integration.external_id:
                raise OktaError(
                    "MISSING_SETTING",
                    f"sym_integration.{integration.key} has no external_id (the Okta domain)",
                )
            base = okta.api_url_for(integration.external_id)
        return OktaClient(
            okta.api(self.services.http(), base, token), integration.external_id, self.people
        )

    def knowbe4(self) -> KnowBe4Client:
        integration = self.require("knowbe4", KnowBe4Error)
        region = integration.settings.get("region", "").strip().lower()
        base = self.services.endpoint("knowbe4")
        if base is None:
            if region not in KNOWBE4_REGIONS:
                raise KnowBe4Error(
                    "MISSING_SETTING",
                    f"sym_integration.{integration.key} needs settings.region, one of "
                    f"{', '.join(KNOWBE4_REGIONS)}",
                )
            base = knowbe4.api_url_for(region)
        token = self.token(integration, "api_token_secret", KnowBe4Error)
        return KnowBe4Client(knowbe4.api(self.services.http(), base, token))

    def slack(self) -> SlackClient:
        """The workspace's client, with the bot token Slack delivery uses; made once per call,
        so that what it learns (who has which Slack id) serves the whole call."""
        if self._slack is not None:
            return self._slack
        integration = self.require(SLACK, SlackError)
        if integration.type != SLACK:
            raise SlackError(
                "NOT_CONFIGURED",
                f"the sym_environment of flow {self.flow.name!r} names "
                f"sym_integration.{integration.key} as its slack integration, but that one is "
                f"of type {integration.type}",
            )
        token = self.token(integration, BOT_TOKEN_SETTING, SlackError)
        override = self.services.endpoint(SLACK)
        base = (override.rstrip("/") + "/") if override else slack_api_url()
        self._slack = SlackClient(
            sync_web_client(token, base), integration.external_id, self.people
        )
        return self._slack

    def aws_lambda(self) -> LambdaInvoker:
        integration = self.require("aws_lambda", AWSLambdaError)
        region = integration.settings.get("region") or None
        return LambdaInvoker(self.services.lambda_client(region))

    # -- identities -----------------------------------------------------------------------------

    def persist_identity(
        self, email: str, service: str, service_id: str, user_id: str
    ) -> UserIdentity:
        """Store a user's identity in a service (Sym's ``persist_user_identity``)."""
        store = self.services.identities
        if store is None:
            raise CouldNotSaveError("this worker has no identity store to save identities in")
        try:
            store.set_identity(email, service, service_id, user_id)
        except Exception as error:  # the store's messages name the bad value, fit to show
            raise CouldNotSaveError(
                f"could not save the {service} identity of {email}: {error}"
            ) from None
        return UserIdentity(service=service, service_id=service_id, user_id=user_id)
