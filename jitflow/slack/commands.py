"""``/jitflow`` in Slack: open the request form, and start the request it submits.

Both arrive through the front door, which has already checked Slack's signature: the slash
command at ``/slack/commands`` (the command's Request URL), the form's ``view_submission`` at
``/slack/interactions`` with the clicks. The person is who Slack says typed or submitted
(``users.info`` gives their email, which must be a jitflow user), never a name typed in the
form: the request is started with that email as its requester. Slack wants both answered within
3 seconds; opening a modal and starting a workflow each take a few milliseconds, so both are
answered in line (the form's mistakes come back as Slack's ``response_action: errors``).

Before the form opens, the flow's ``on_prompt`` runs (``form_hooks``, within 2 s, since Slack's
trigger id lasts 3): ``ApprovalTemplate.ignore(message=...)`` keeps the form closed and the
person reads the message instead; ``after_prompt`` runs once the form is open.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from jitflow.access_client import AccessRequests
from jitflow.scrub import scrub
from jitflow.slack.client import describe_failure
from jitflow.slack.form_hooks import FormHooks, HookFailure
from jitflow.slack.form_state import ModalState, read_metadata, restored
from jitflow.slack.form_submission import (
    Choices,
    prefetched_to_check,
    still_updating,
    submitted_request,
)
from jitflow.slack.messages import duration_text, plain
from jitflow.slack.request_modal import (
    CALLBACK_ID,
    TARGET_BLOCK,
    FlowForm,
    opened_state,
    request_view,
)

log = logging.getLogger("jitflow.slack")

COMMANDS_PATH = "/slack/commands"
#: The longest text answered to a slash command (Slack shows up to 4000 characters).
MAX_COMMAND_ANSWER = 3000

#: How long a submission waits for the prefetched fields' choices, all of them together: the
#: workflow's start and the answer must still fit in Slack's 3 s.
CHECK_BUDGET_SECONDS = 1.5

#: The Slack user's email (``users.info``, cached), or None.
EmailOf = Callable[[str], Awaitable[str | None]]
#: Runs a coroutine after the answer to Slack (the front door keeps and settles it).
Background = Callable[[Coroutine[Any, Any, None]], None]


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
        hooks: FormHooks | None = None,
        background: Background | None = None,
    ) -> None:
        """``hooks`` runs the flows' prompt-time functions; without it none runs.
        ``background`` runs what need not delay Slack's answer (a task of its own without it)."""
        self._background = background or _detached
        self._slack = slack
        self._requests = requests
        self._forms = forms
        self._email_of = email_of
        self._known_user = known_user
        self._hooks = hooks

    async def person(self, user_id: str) -> tuple[str | None, str | None]:
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
        email, refusal = await self.person(form.get("user_id", ""))
        if email is None:
            return refusal or ""
        flow = self._form(form.get("text", ""))
        if isinstance(flow, str):
            return flow
        if not flow.targets:
            return f"Flow {flow.flow} has no targets to request."
        channel = form.get("channel_id", "")
        state = opened_state(flow, channel, frozenset())
        if self._hooks is not None:
            answer = await self._hooks.open(flow.flow, email, channel)
            if isinstance(answer, HookFailure):
                return f"jitflow could not open the request form: {answer.text}"
            if not answer.show:
                return (answer.message or "")[:MAX_COMMAND_ANSWER]
            state = opened_state(flow, channel, answer.changing)
        view = request_view(flow, state)
        try:
            await self._slack.views_open(trigger_id=form.get("trigger_id", ""), view=view)
        except Exception as error:
            log.warning("views.open failed: %s", describe_failure(error))
            return f"jitflow could not open the request form: {describe_failure(error)}"
        if self._hooks is not None:
            self._hooks.after_prompt_soon(flow.flow, email, channel)
        return ""

    async def submission(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Start the request a submitted form describes; None closes the modal, a dict is
        Slack's ``response_action`` answer (the form's errors)."""
        view = payload.get("view") or {}
        if view.get("callback_id") != CALLBACK_ID:
            return None
        form = self._forms.get(str(read_metadata(view.get("private_metadata")).get("flow", "")))
        user_id = str((payload.get("user") or {}).get("id", ""))
        if form is None:
            return _errors({TARGET_BLOCK: "This form's flow is no longer configured."})
        email, refusal = await self.person(user_id)
        if email is None:
            return _errors({TARGET_BLOCK: refusal or "who are you?"})
        state = restored(view, form.base)
        stale = still_updating(state)
        if stale:
            return _errors(stale)
        choices = await self._choices(form, state, email)
        request = submitted_request(form, view, state, email, choices)
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
        self._background(
            self._tell(
                user_id,
                f"You requested *{plain(label)}* for {length}: request `{workflow_id}`. You will hear here when it is decided.",
            )
        )
        return None

    async def _choices(self, form: FlowForm, state: ModalState, email: str) -> Choices:
        """The allowed values of the prefetched fields the person filled in, fetched together
        (from the cache, mostly) within one deadline: one slow prefetch does not add to
        another's wait."""
        names = prefetched_to_check(form, state)
        hooks = self._hooks
        if hooks is None:
            return {name: "this front door runs no flow code to check the choice" for name in names}
        found = await asyncio.gather(
            *(hooks.choices(form.flow, name, email, budget=CHECK_BUDGET_SECONDS) for name in names)
        )
        return {
            name: (
                f"The choice could not be checked: {options.text}"
                if isinstance(options, HookFailure)
                else frozenset(str(option.value) for option in options)
            )
            for name, options in zip(names, found, strict=True)
        }

    async def _tell(self, user_id: str, text: str) -> None:
        """A direct message to the requester (the bot's conversation with them)."""
        try:
            await self._slack.chat_postMessage(channel=user_id, text=text)
        except Exception as error:
            log.warning("could not tell %s in Slack: %s", user_id, describe_failure(error))


_detached_tasks: set[asyncio.Task[None]] = set()


def _detached(work: Coroutine[Any, Any, None]) -> None:
    """Run ``work`` as a task kept referenced until it ends (a bare task may be collected)."""
    task = asyncio.create_task(work)
    _detached_tasks.add(task)
    task.add_done_callback(_detached_tasks.discard)


def _errors(errors: dict[str, str]) -> dict[str, Any]:
    return {"response_action": "errors", "errors": errors}
