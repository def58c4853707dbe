"""Builders for the integration tests: configurations with integrations, emulator states, and
SDK calls made as the runner makes them (imported by name: pytest puts this folder on sys.path).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from reducer_test_support import ORG_ID, file_implementation, make_config

from jitflow.config.models import Environment, JitflowConfig, SecretRef, SymIntegration
from jitflow.emulator.knowbe4 import KnowBe4Enrollment, KnowBe4State, KnowBe4User
from jitflow.emulator.okta import OktaGroup, OktaState, OktaUser
from jitflow.emulator.pagerduty import (
    PagerDutyState,
    PdEscalationPolicy,
    PdIncident,
    PdOnCall,
    PdSchedule,
    PdUser,
)
from jitflow.emulator.server import serve_in_thread
from jitflow.emulator.slack import SlackEmulator, create_slack_app
from jitflow.emulator.slack_state import (
    DEFAULT_TEAM_ID,
    SlackChannel,
    SlackState,
    SlackUser,
    SlackUsergroup,
)
from jitflow.integrations import IntegrationHub, IntegrationServices
from jitflow.sdk._context import CallContext, calling

MODULES = Path(__file__).parent / "modules"
PD_SUBDOMAIN = "acme.pagerduty.com"
OKTA_DOMAIN = "acme.okta.com"


def secret(key: str, path: str, json_key: str | None = None) -> SecretRef:
    return SecretRef(key=key, source="this", path=path, json_key=json_key)


def integration(
    key: str,
    type_: str,
    external_id: str = "",
    *,
    token: SecretRef | None = None,
    settings: Mapping[str, str] | None = None,
    secret_list: tuple[SecretRef, ...] = (),
) -> SymIntegration:
    return SymIntegration(
        key=key,
        type=type_,
        name=f"main-{key}",
        external_id=external_id,
        settings=dict(settings or {}),
        secrets={"api_token_secret": token} if token else {},
        secret_list=secret_list,
    )


def config_with(
    module: str | Path | None,
    integrations: list[SymIntegration],
    *,
    environment: Mapping[str, str] | None = None,
    vars: dict[str, str] | None = None,
) -> JitflowConfig:
    """The reducer tests' one-flow configuration, plus ``integrations`` and an environment
    ``main`` whose ``integrations`` map is ``environment`` (SDK name -> integration key)."""
    path = MODULES / module if isinstance(module, str) else module
    base = make_config(file_implementation(path) if path else None, vars=vars)
    aptible = base.integrations["aptible"]
    every = {
        "aptible": SymIntegration(
            key="aptible",
            type="aptible",
            name=aptible.name,
            external_id=ORG_ID,
            secrets={
                "username_secret": aptible.username_secret,
                "password_secret": aptible.password_secret,
            },
        ),
        **{item.key: item for item in integrations},
    }
    secrets = dict(base.secrets)
    for item in integrations:
        secrets.update({ref.key: ref for ref in (*item.secrets.values(), *item.secret_list)})
    flow = base.flows["this"].model_copy(update={"environment": "main"})
    return base.model_copy(
        update={
            "flows": {"this": flow},
            "sym_integrations": every,
            "secrets": secrets,
            "environments": {
                "main": Environment(key="main", name="main", integrations=dict(environment or {}))
            },
        }
    )


@contextmanager
def sdk_call(
    config: JitflowConfig, services: IntegrationServices, roles: Mapping[str, str] | None = None
) -> Iterator[IntegrationHub]:
    """Inside the block, SDK helpers behave as in a reducer the runner is running."""
    hub = IntegrationHub(services, config, config.flows["this"], dict(roles or {}))
    with calling(CallContext(event_name="request", roles=dict(roles or {}), hub=hub)):
        yield hub


def pagerduty_state() -> PagerDutyState:
    """Alice is on call (primary schedule, engineering policy); Bob is on the schedule only."""
    return PagerDutyState(
        users=[
            PdUser(id="PALICE", name="Alice Doe", email="alice@example.com"),
            PdUser(id="PBOB", name="Bob Roe", email="Bob@Example.com"),
            PdUser(id="PCAROL", name="Carol Poe", email="carol@example.com"),
        ],
        schedules=[PdSchedule(id="PSCHED1", name="Primary", user_ids=["PALICE", "PBOB"])],
        escalation_policies=[PdEscalationPolicy(id="PPOL1", name="Engineering")],
        oncalls=[PdOnCall(user_id="PALICE", escalation_policy_id="PPOL1", schedule_id="PSCHED1")],
        incidents=[
            PdIncident(id="PINC1", title="db down", assignee_ids=["PALICE"], service_id="PSVC1")
        ],
    )


def okta_state() -> OktaState:
    """Bob and Carol are approvers (Carol is suspended); Alice is an engineer."""
    return OktaState(
        users=[
            OktaUser(
                id="00ualice",
                login="alice@example.com",
                email="alice@example.com",
                first_name="Alice",
                department="engineering",
            ),
            OktaUser(id="00ubob", login="bob@example.com", email="bob@example.com"),
            OktaUser(
                id="00ucarol",
                login="carol@example.com",
                email="carol@example.com",
                status="SUSPENDED",
            ),
            OktaUser(id="00udave", login="dave.d", email="dave@example.com"),
        ],
        groups=[
            OktaGroup(id="00gapprovers", name="Approvers", member_ids=["00ubob", "00ucarol"]),
            OktaGroup(id="00gengineers", name="Engineers", member_ids=["00ualice", "00udave"]),
            OktaGroup(id="00gapp", name="App assigned", type="APP_GROUP"),
        ],
    )


def knowbe4_state() -> KnowBe4State:
    """Alice passed the required training; Bob has not finished it."""
    return KnowBe4State(
        users=[
            KnowBe4User(id=1, email="alice@example.com", groups=[10, 11]),
            KnowBe4User(id=2, email="bob@example.com", groups=[11]),
        ],
        enrollments=[
            KnowBe4Enrollment(
                enrollment_id=100,
                user_id=1,
                module_name="Security 101",
                status="Passed",
                store_purchase_id=209465,
                campaign_id=100345,
            ),
            KnowBe4Enrollment(
                enrollment_id=101,
                user_id=2,
                module_name="Security 101",
                status="In Progress",
                store_purchase_id=209465,
                campaign_id=100345,
            ),
            KnowBe4Enrollment(
                enrollment_id=102,
                user_id=1,
                module_name="Phishing",
                status="Past Due",
                store_purchase_id=1,
                campaign_id=2,
            ),
        ],
    )


def decider(event: Any, context: dict[str, Any]) -> dict[str, Any]:
    """A Lambda that approves requests whose reason names a ticket, and denies the others."""
    reason = str(event.get("reason", ""))
    if "JIRA-" in reason:
        return {"decision": "approve", "why": f"ticket in reason for {event.get('email')}"}
    return {"decision": "deny", "why": "no ticket in the reason"}


#: A Sym environment's integrations map for ``sym_integrations``' integrations.
SYM_ENVIRONMENT = {
    "pagerduty": "pd",
    "okta": "okta",
    "knowbe4": "kb4",
    "aws_lambda": "lambda_context",
    "victorops": "victorops",
}


def sym_integrations(tokens: Mapping[str, SecretRef]) -> list[SymIntegration]:
    """One integration of each kind, configured the Sym way (tokens in ``sym_secret``s)."""
    return [
        integration("pd", "pagerduty", PD_SUBDOMAIN, token=tokens["pagerduty"]),
        integration("okta", "okta", OKTA_DOMAIN, token=tokens["okta"]),
        integration(
            "kb4", "knowbe4", "acme.io", token=tokens["knowbe4"], settings={"region": "us"}
        ),
        integration(
            "lambda_context",
            "permission_context",
            "123456789012",
            settings={"cloud": "aws", "region": "us-east-1"},
        ),
        integration("victorops", "custom", "vo-api-id", secret_list=(tokens["victorops"],)),
    ]


# -- Slack ---------------------------------------------------------------------------------------

SLACK_TEAM = DEFAULT_TEAM_ID
APPROVERS_CHANNEL = "C0APPROVERS"
ACCESS_REQUESTS_CHANNEL = "C0ACCESSREQ"
ONCALL_CHANNEL = "C0ONCALL"


def slack_integration(token: SecretRef | None, key: str = "slack") -> SymIntegration:
    """A slack integration as Sym's provider declares it: the workspace, the bot token's secret."""
    return SymIntegration(
        key=key,
        type="slack",
        name=f"main-{key}",
        external_id=SLACK_TEAM,
        secrets={"bot_token_secret": token} if token else {},
    )


def slack_state() -> SlackState:
    """Alice, Bob and Carol are in #approvers (with Erin, whose account is deactivated); Alice is
    alone in #oncall and in the ``sre`` user group; Dave is only in #access-requests and in the
    private #secret-ops, which the bot is not in."""
    people = {
        "U0ALICE": "alice@example.com",
        "U0BOB": "Bob@Example.com",
        "U0CAROL": "carol@example.com",
        "U0DAVE": "dave@example.com",
        "U0ERIN": "erin@example.com",
    }
    return SlackState(
        users=[
            SlackUser(id=i, name=e.split("@")[0].lower(), email=e, deleted=i == "U0ERIN")
            for i, e in people.items()
        ],
        channels=[
            SlackChannel(
                id=APPROVERS_CHANNEL,
                name="approvers",
                members=["U0ALICE", "U0BOB", "U0CAROL", "U0ERIN"],
            ),
            SlackChannel(
                id=ACCESS_REQUESTS_CHANNEL, name="access-requests", members=list(people)[:4]
            ),
            SlackChannel(id=ONCALL_CHANNEL, name="oncall", members=["U0ALICE"]),
            SlackChannel(id="G0SECRETOPS", name="secret-ops", members=["U0DAVE"], is_private=True),
            SlackChannel(id="C0OLDAPPROVE", name="old-approvers", is_archived=True),
        ],
        usergroups=[
            SlackUsergroup(id="S0SRE", handle="sre", name="SRE", users=["U0ALICE"]),
            SlackUsergroup(id="S0GONE", handle="gone", users=["U0BOB"], disabled=True),
        ],
    )


@dataclass
class RunningSlack:
    """The Slack emulator on loopback: its app (state, call counts) and its Web API base URL."""

    app: SlackEmulator
    url: str
    _server: uvicorn.Server
    _thread: threading.Thread

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    @property
    def state(self) -> SlackState:
        return self.app.state

    def stop(self) -> None:
        """Stop serving: from here on Slack is unreachable."""
        self._server.should_exit = True
        self._thread.join(timeout=10)


@contextmanager
def running_slack(state: SlackState) -> Iterator[RunningSlack]:
    app = create_slack_app(state)
    url, server, thread = serve_in_thread(app, "slack")
    running = RunningSlack(app, url, server, thread)
    try:
        yield running
    finally:
        running.stop()
