"""``/jitflow`` in Slack: open the request form, and start the request it submits.

Both arrive through the front door, which has already checked Slack's signature: the slash
command at ``/slack/commands`` (the command's Request URL), the form's ``view_submission`` at
``/slack/interactions`` with the clicks. The person is who Slack says typed or submitted
(``users.info`` gives their email, which must be a jitflow user), never a name typed in the
form: the request is started with that email as its requester. Slack wants both answered within
3 seconds; opening a modal and starting a workflow each take a few milliseconds, so both are
answered in line (the form's mistakes come back as Slack's ``response_action: errors``).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from jitflow.access_client import AccessRequests
from jitflow.scrub import scrub
from jitflow.slack.client import describe_failure
from jitflow.slack.messages import duration_text, plain
from jitflow.slack.request_modal import (
    CALLBACK_ID,
    TARGET_BLOCK,
    FlowForm,
    request_view,
    submitted_request,
    submitted_values,
)

log = logging.getLogger("jitflow.slack")

COMMANDS_PATH = "/slack/commands"

#: The Slack user's email (``users.info``, cached), or None.
EmailOf = Callable[[str], Awaitable[str | None]]


class RequestCommand:
    """``/jitflow [flow]``: a modal with the flow's choices; its submission starts the request."""

    def __init__(
        self,
        *,
        slack: AsyncWebClient,
        requests: AccessRequests,
        forms: dict[str, FlowForm],
        email_of: EmailOf,
        known_user: Callable[[str], bool],
    ) -> None:
        self._slack = slack
        self._requests = requests
        self._forms = forms
        self._email_of = email_of
        self._known_user = known_user

    async def _person(self, user_id: str) -> tuple[str | None, str | None]:
        """``(email, None)`` for a jitflow user, else ``(None, why not)``."""
        email = await self._email_of(user_id)
        if email is None:
            return (
                None,
                "jitflow could not read your email from Slack, so it cannot tell who you are.",
            )
        if not self._known_user(email):
            return (
                None,
                f"{email} is not a jitflow user (an admin adds you with `jitflow users create {email}`).",
            )
        return email, None

    def _form(self, text: str) -> FlowForm | str:
        wanted = text.strip()
        if wanted in self._forms:
            return self._forms[wanted]
        if not wanted and len(self._forms) == 1:
            return next(iter(self._forms.values()))
        names = ", ".join(sorted(self._forms)) or "none"
        if not wanted:
            return f"Which flow? `/jitflow <flow>`, one of: {names}."
        return f"There is no flow {wanted!r} in this workspace; flows: {names}."

    async def command(self, form: dict[str, str]) -> str:
        """Handle the slash command; the text shown to the person ("" once the modal is open)."""
        email, refusal = await self._person(form.get("user_id", ""))
        if email is None:
            return refusal or ""
        flow = self._form(form.get("text", ""))
        if isinstance(flow, str):
            return flow
        if not flow.targets:
            return f"Flow {flow.flow} has no targets to request."
        view = request_view(flow, form.get("channel_id", ""))
        try:
            await self._slack.views_open(trigger_id=form.get("trigger_id", ""), view=view)
        except Exception as error:
            log.warning("views.open failed: %s", describe_failure(error))
            return f"jitflow could not open the request form: {describe_failure(error)}"
        return ""

    async def submission(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Start the request a submitted form describes; None closes the modal, a dict is
        Slack's ``response_action`` answer (the form's errors)."""
        view = payload.get("view") or {}
        if view.get("callback_id") != CALLBACK_ID:
            return None
        try:
            metadata = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            metadata = {}
        form = self._forms.get(str(metadata.get("flow", "")))
        user_id = str((payload.get("user") or {}).get("id", ""))
        if form is None:
            return _errors({TARGET_BLOCK: "This form's flow is no longer configured."})
        email, refusal = await self._person(user_id)
        if email is None:
            return _errors({TARGET_BLOCK: refusal or "who are you?"})
        request = submitted_request(form, submitted_values(view), email)
        if isinstance(request, dict):
            return _errors(request)
        workflow_id = f"access-{uuid.uuid4()}"
        length = duration_text(int(request.duration or 0))
        label = dict(form.targets).get(request.target, request.target)
        summary = f"{email} requests {request.target} for {length}"
        try:
            await self._requests.start(request, workflow_id, summary=summary)
        except Exception as error:  # Temporal down: say so in the form, start nothing
            log.warning("a request from Slack could not be started: %s", error)
            return _errors(
                {TARGET_BLOCK: f"jitflow could not start the request: {scrub(str(error))}"}
            )
        await self._tell(
            user_id,
            f"You requested *{plain(label)}* for {length}: request `{workflow_id}`. You will hear here when it is decided.",
        )
        return None

    async def _tell(self, user_id: str, text: str) -> None:
        """A direct message to the requester (the bot's conversation with them)."""
        try:
            await self._slack.chat_postMessage(channel=user_id, text=text)
        except Exception as error:
            log.warning("could not tell %s in Slack: %s", user_id, describe_failure(error))


def _errors(errors: dict[str, str]) -> dict[str, Any]:
    return {"response_action": "errors", "errors": errors}
