"""The Slack front door: a click on Approve or Deny becomes a decision with a proof.

Slack POSTs interaction payloads here (the app's Interactivity Request URL). Every request must
carry Slack's signature: ``X-Slack-Signature`` over ``v0:{X-Slack-Request-Timestamp}:{body}``
with the app's signing secret, and a timestamp within 5 minutes. Anything else is answered 401
with the reason and changes nothing: the signing secret is what makes "Slack says user U123
clicked" true, since anyone can POST to this URL.

A verified click is then mapped to a person: the Slack user's email (``users.info``, cached),
which must be a jitflow user (the identity store). The flow's rules decide whether that person
may decide (``judge``: the same pure rules as the update validators, over the request's ``status``
query); someone who may not gets an ephemeral message saying why. Otherwise the front door signs a
``DecisionProof`` for that person with its own key (``jitflow.trust.front_door_key``) and sends the
``approve``/``deny`` update. The worker accepts that proof because it reads the front door's
public key from Secrets Manager, and checks the flow's rules again where the grant happens.

Slack wants an answer within 3 seconds, so after the signature check the front door answers 200
at once and decides in the background; the clicker hears the result as an ephemeral message.

The same endpoint receives the request modal's interactions (``/jitflow``, see ``commands``):
its submission, the choices Slack asks for as a prefetched field is typed into
(``block_suggestion``, answered in line), and changes of fields with an ``on_change`` handler
(``block_actions`` from the modal, answered at once, the modal redrawn in the background).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from jitflow.access_client import AccessRequests, SigningKey
from jitflow.contracts.access import AccessState, Decision
from jitflow.contracts.failures import failure_message
from jitflow.contracts.notifications import APPROVE_ACTION, DENY_ACTION
from jitflow.contracts.trust import DecisionAction
from jitflow.scrub import scrub
from jitflow.slack.client import describe_failure
from jitflow.slack.commands import COMMANDS_PATH, RequestCommand
from jitflow.slack.form_actions import FormActions, is_form_action
from jitflow.slack.form_hooks import FormHooks
from jitflow.slack.messages import ButtonTarget, parse_button_value
from jitflow.slack.request_modal import FlowForm

log = logging.getLogger("jitflow.slack")

#: Slack's own rule: a request signed longer ago than this is refused (replays).
MAX_AGE_SECONDS = 5 * 60
INTERACTIONS_PATH = "/slack/interactions"
ACTIONS = {APPROVE_ACTION: "approve", DENY_ACTION: "deny"}

#: ``(state, action, email)`` -> why that person may not take that action now, or None.
Judge = Callable[[AccessState, str, str], str | None]
#: Whether an email is a jitflow user (the identity store).
KnownUser = Callable[[str], bool]


@dataclass(frozen=True)
class Click:
    """A verified click on one of jitflow's buttons."""

    action: str
    target: ButtonTarget
    user_id: str
    channel_id: str


def signature_refusal(
    verifier: SignatureVerifier, body: bytes, headers: Any, now: float
) -> str | None:
    """Why this request is not proven to come from Slack, or None."""
    stamp = headers.get("x-slack-request-timestamp")
    signature = headers.get("x-slack-signature")
    if not stamp or not signature:
        return "missing X-Slack-Signature or X-Slack-Request-Timestamp"
    try:
        age = now - int(stamp)
    except ValueError:
        return "X-Slack-Request-Timestamp is not a number"
    if abs(age) > MAX_AGE_SECONDS:
        return f"stale request: signed {int(age)} s ago, more than {MAX_AGE_SECONDS} s"
    if not verifier.is_valid(body=body, timestamp=stamp, signature=signature):
        return "bad signature: X-Slack-Signature does not match the body and the signing secret"
    return None


def interaction_payload(body: bytes) -> dict[str, Any] | None:
    """The JSON payload of an interaction body (``payload=<JSON>``), or None."""
    form = parse_qs(body.decode("utf-8", errors="replace"))
    try:
        payload = json.loads(form.get("payload", [""])[0])
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def parse_click(body: bytes) -> Click | str:
    """The click in an interaction body, or why it is not one of jitflow's."""
    form = parse_qs(body.decode("utf-8", errors="replace"))
    try:
        payload = json.loads(form.get("payload", [""])[0])
    except ValueError:
        return "the body holds no JSON payload"
    if not isinstance(payload, dict) or payload.get("type") != "block_actions":
        return f"not a button click ({payload.get('type') if isinstance(payload, dict) else '?'})"
    actions = payload.get("actions") or []
    action = actions[0] if actions and isinstance(actions[0], dict) else {}
    kind = ACTIONS.get(str(action.get("action_id")))
    target = parse_button_value(str(action.get("value", "")))
    user_id = str((payload.get("user") or {}).get("id", ""))
    channel = payload.get("channel") or {}
    channel_id = str(channel.get("id") or (payload.get("container") or {}).get("channel_id", ""))
    if kind is None or target is None or not user_id:
        return "not a click on a jitflow request's button"
    return Click(kind, target, user_id, channel_id)


class FrontDoor:
    """The interaction endpoint: verify, map the person, judge, sign, send the update."""

    def __init__(
        self,
        *,
        signing_secret: str,
        slack: AsyncWebClient,
        requests: AccessRequests,
        key: SigningKey,
        known_user: KnownUser,
        judge: Judge,
        clock: Callable[[], float] = time.time,
        forms: dict[str, FlowForm] | None = None,
        hooks: FormHooks | None = None,
    ) -> None:
        """``forms``: the flows ``/jitflow`` offers, by name (none: the command says so);
        ``hooks``: runs their ``on_prompt``, ``@prefetch`` and ``on_change_*`` functions."""
        self._verifier = SignatureVerifier(signing_secret)
        self._tasks: set[asyncio.Task[None]] = set()
        self._command = RequestCommand(
            slack=slack,
            requests=requests,
            forms=forms or {},
            email_of=self.email_of,
            known_user=known_user,
            hooks=hooks,
            background=self._background,
        )
        self._form_actions = FormActions(
            slack=slack, forms=forms or {}, hooks=hooks, person=self._command.person
        )
        self._hooks = hooks
        self._slack = slack
        self._requests = requests
        self._key = key
        self._known_user = known_user
        self._judge = judge
        self._clock = clock
        self._emails: dict[str, str] = {}
        self.app = Starlette(
            routes=[
                Route(INTERACTIONS_PATH, self._interaction, methods=["POST"]),
                Route(COMMANDS_PATH, self._slash_command, methods=["POST"]),
                Route("/healthz", self._health, methods=["GET"]),
            ]
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)

    async def _health(self, request: Request) -> Response:
        return PlainTextResponse("ok")

    async def _interaction(self, request: Request) -> Response:
        body = await request.body()
        refusal = signature_refusal(self._verifier, body, request.headers, self._clock())
        if refusal:
            log.warning("refused an unsigned or stale Slack request: %s", refusal)
            return PlainTextResponse(refusal, status_code=401)
        payload = interaction_payload(body) or {}
        if payload.get("type") == "view_submission":
            answer = await self._command.submission(payload)
            return JSONResponse(answer) if answer else Response(status_code=200)
        if payload.get("type") == "block_suggestion":
            return JSONResponse(await self._form_actions.suggestion(payload))
        if is_form_action(payload):
            self._background(self._form_actions.change(payload))
            return Response(status_code=200)
        click = parse_click(body)
        if isinstance(click, str):
            return PlainTextResponse(click, status_code=200)
        self._background(self._decide(click))
        return Response(status_code=200)

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` after answering Slack; ``settle`` waits for it."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _slash_command(self, request: Request) -> Response:
        """``/jitflow``: verified as a click is, then the request form opens (in line: Slack's
        trigger id is good for 3 seconds); any text is shown to the person only."""
        body = await request.body()
        refusal = signature_refusal(self._verifier, body, request.headers, self._clock())
        if refusal:
            log.warning("refused an unsigned or stale Slack command: %s", refusal)
            return PlainTextResponse(refusal, status_code=401)
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", errors="replace")).items()}
        text = await self._command.command(form)
        return PlainTextResponse(text) if text else Response(status_code=200)

    async def settle(self) -> None:
        """Wait for the clicks being decided, the forms being redrawn and the requesters being
        told (tests, and a clean shutdown), and for the flows' ``after_prompt`` calls."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self._hooks is not None:
            await self._hooks.settle()

    # --- deciding ---------------------------------------------------------------------------

    async def _decide(self, click: Click) -> None:
        try:
            answer = await self._answer(click)
        except Exception as error:  # the clicker must hear something; the log has the rest
            log.exception("a Slack click could not be handled")
            answer = f"Sorry, jitflow could not handle that click: {scrub(str(error))}"
        await self._tell(click, answer)

    async def _answer(self, click: Click) -> str:
        """What to tell the clicker: what happened, or why nothing did."""
        email = await self.email_of(click.user_id)
        if email is None:
            return "jitflow could not read your email from Slack, so it cannot tell who you are."
        if not self._known_user(email):
            return (
                f"{email} is not a jitflow user, so your click changes nothing "
                f"(an admin adds you with `jitflow users create {email}`)."
            )
        workflow_id = click.target.workflow_id
        try:
            state = await self._requests.status(workflow_id)
            run_id = (await self._requests.handle(workflow_id).describe()).run_id
        except RPCError as error:
            return f"Request {workflow_id} cannot be read: {error.message}"
        if run_id != click.target.run_id:
            return f"This message is for an earlier request under the id {workflow_id}."
        refusal = self._judge(state, click.action, email)
        if refusal:
            return f"You cannot {click.action} this request: {refusal}"
        action: DecisionAction = "approve" if click.action == "approve" else "deny"
        body = await self._requests.signed(action, workflow_id, email, None, self._key)
        assert isinstance(body, Decision)
        try:
            if click.action == "approve":
                outcome = await self._requests.approve(workflow_id, body)
            else:
                outcome = await self._requests.deny(workflow_id, body)
        except WorkflowUpdateFailedError as error:
            return f"Your {click.action} was refused: {failure_message(error.cause or error)}"
        if not outcome.accepted:
            return f"Your {click.action} changed nothing: {outcome.message or outcome.status}"
        return f"You {'approved' if click.action == 'approve' else 'denied'} {workflow_id}: {outcome.status}."

    async def email_of(self, user_id: str) -> str | None:
        """The Slack user's email (``users.info``, cached for the front door's life)."""
        cached = self._emails.get(user_id)
        if cached is not None:
            return cached
        try:
            response = await self._slack.users_info(user=user_id)
        except Exception as error:
            log.warning("users.info %s failed: %s", user_id, describe_failure(error))
            return None
        email = ((response.get("user") or {}).get("profile") or {}).get("email")
        if not email:
            return None
        self._emails[user_id] = str(email).strip().lower()
        return self._emails[user_id]

    async def _tell(self, click: Click, text: str) -> None:
        """An ephemeral message to the clicker, in the channel they clicked in."""
        try:
            await self._slack.chat_postEphemeral(
                channel=click.channel_id, user=click.user_id, text=text
            )
        except Exception as error:
            log.warning("could not answer %s in Slack: %s", click.user_id, describe_failure(error))
