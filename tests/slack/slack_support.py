"""A Slack workspace on loopback and a configuration that delivers to it.

The workspace holds the stack's people (their Slack emails are their jitflow emails), an
``#approvals`` channel, and ``zed``, who is in Slack but not a jitflow user. The bot token and
signing secret live in moto, where the configuration's ``sym_secret``s point, as in production.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import httpx

from activities.secrets import SecretReader
from jitflow.config.models import JitflowConfig, SecretRef, SymIntegration
from jitflow.emulator.server import serve_in_thread
from jitflow.emulator.slack import SlackEmulator, create_slack_app
from jitflow.emulator.slack_state import SlackChannel, SlackState, SlackUser
from jitflow.testing.moto_server import (
    DUMMY_ACCESS_KEY_ID,
    DUMMY_SECRET_ACCESS_KEY,
    create_secret,
)

APPROVALS = "C0APPROVALS"
BOT_TOKEN_PATH = "jitflow-test/slack-bot-token"
SIGNING_SECRET_PATH = "jitflow-test/slack-signing-secret"
PEOPLE = {
    "U0ALICE": "alice@example.com",
    "U0BOB": "bob@example.com",
    "U0CAROL": "carol@example.com",
    "U0DAVE": "dave@example.com",
    "U0ZED": "zed@example.com",
}


def workspace() -> SlackState:
    return SlackState(
        users=[SlackUser(id=i, name=e.split("@")[0], email=e) for i, e in PEOPLE.items()],
        channels=[SlackChannel(id=APPROVALS, name="approvals", members=list(PEOPLE))],
    )


@dataclass
class RunningSlack:
    """The emulator, its base URL and its admin routes."""

    app: SlackEmulator
    url: str

    @property
    def state(self) -> SlackState:
        return self.app.state

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = httpx.request(method, f"{self.url}/_emulator/{path}", json=body, timeout=20)
        response.raise_for_status()
        return response.json() if response.content else None

    def click(self, ts: str, action: str, user: str, **options: Any) -> dict[str, Any]:
        body = {"channel": APPROVALS, "ts": ts, "action": action, "user": user, **options}
        answer: dict[str, Any] = self.admin("POST", "click", body)
        return answer

    def ephemerals(self, user_id: str) -> list[str]:
        return [m.text for m in self.state.messages if m.ephemeral_to == user_id]

    def dms(self, user_id: str) -> list[str]:
        channels = {c.id for c in self.state.channels if c.is_im and c.members == [user_id]}
        return [m.text for m in self.state.messages if m.channel in channels]


@contextmanager
def running_slack(state: SlackState | None = None) -> Iterator[RunningSlack]:
    app = create_slack_app(state or workspace())
    url, server, thread = serve_in_thread(app, "slack")
    try:
        yield RunningSlack(app, url)
    finally:
        server.should_exit = True
        thread.join(timeout=5)


def store_slack_secrets(moto_url: str, state: SlackState) -> None:
    create_secret(moto_url, BOT_TOKEN_PATH, state.bot_token)
    create_secret(moto_url, SIGNING_SECRET_PATH, state.signing_secret)


def reader(moto_url: str) -> SecretReader:
    session = boto3.session.Session(
        aws_access_key_id=DUMMY_ACCESS_KEY_ID,
        aws_secret_access_key=DUMMY_SECRET_ACCESS_KEY,
        region_name="us-east-1",
    )
    return SecretReader(endpoint_url=moto_url, session=session, ttl_seconds=0)


def with_slack(config: JitflowConfig, **settings: str) -> JitflowConfig:
    """``config`` with a slack integration whose secrets are in moto (see ``store_slack_secrets``)."""
    secrets = {
        "bot_token_secret": SecretRef(key="slack_bot", source="sm", path=BOT_TOKEN_PATH),
        "signing_secret": SecretRef(key="slack_signing", source="sm", path=SIGNING_SECRET_PATH),
    }
    slack = SymIntegration(
        key="slack",
        type="slack",
        name="main-slack",
        external_id="T0JITFLOW",
        settings=settings,
        secrets=secrets,
    )
    return config.model_copy(
        update={"sym_integrations": {**config.sym_integrations, "slack": slack}}
    )
