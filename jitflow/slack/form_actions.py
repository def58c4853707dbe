"""The request modal's interactions before it is submitted: choices to search, fields that
change the form.

- ``block_suggestion``: the person types into a ``prefetch = true`` field; Slack asks for the
  choices and shows what the answer lists (``{"options": [...]}``, at most 100), so the answer
  is the flow's ``@prefetch`` choices containing the typed text. It must come within 3 seconds:
  a prefetch that fails or is slow is answered with a single choice saying so, which the
  submission refuses.
- ``block_actions`` on a field with an ``on_change`` handler: the handler gets the form as the
  person sees it and returns it changed; the modal is redrawn with ``views.update``, passing the
  view's ``hash`` so that Slack refuses the update (``hash_conflict``) if the modal changed in
  the meantime, rather than overwriting a newer state. A handler that fails leaves the fields as
  they were and shows why at the top of the modal.

Two changes made quickly both come with the same hash; the one redrawn second is refused. It
is then redone once on the newest view this front door drew (its metadata, the person's values
from the refused change), unless that view came from a change made later than it: the person's
last change wins, and the form shown is always one a handler made from the form before it. The
redraws of one modal go one at a time, so a refusal always finds the redraw that beat it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import Counter, OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from jitflow.slack.client import describe_failure
from jitflow.slack.form_hooks import FormHooks, HookFailure
from jitflow.slack.form_state import (
    FormTooLarge,
    ModalState,
    field_of_block,
    read_metadata,
    restored,
)
from jitflow.slack.request_modal import (
    CALLBACK_ID,
    MAX_OPTIONS,
    FlowForm,
    request_view,
    slack_option,
)

log = logging.getLogger("jitflow.slack")

#: The value of the choice that says the choices could not be read; never a valid pick.
FAILED_CHOICE = "jitflow:no-choices"

#: ``user_id`` -> ``(email, None)`` for a jitflow user, else ``(None, why not)``.
Person = Callable[[str], Awaitable[tuple[str | None, str | None]]]

#: How many modals' latest drawings are remembered (for redoing a refused redraw).
MAX_KNOWN_VIEWS = 1000


def is_form_action(payload: dict[str, Any]) -> bool:
    """Whether a ``block_actions`` payload comes from an open request modal."""
    view = payload.get("view") or {}
    return payload.get("type") == "block_actions" and view.get("callback_id") == CALLBACK_ID


def _failed_choice(text: str) -> dict[str, Any]:
    return {"options": [slack_option(FAILED_CHOICE, f"⚠ {text}")]}


class FormActions:
    """Answers the open modals' suggestions and changes, for the flows in ``forms``."""

    def __init__(
        self,
        *,
        slack: AsyncWebClient,
        forms: dict[str, FlowForm],
        hooks: FormHooks | None,
        person: Person,
    ) -> None:
        self._slack = slack
        self._forms = forms
        self._hooks = hooks
        self._person = person
        self._drawn: OrderedDict[str, tuple[dict[str, Any], float]] = OrderedDict()
        """view id -> the view as this front door last drew it, and when the change it drew
        was made (the action's ``action_ts``)."""
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiting: Counter[str] = Counter()

    def _form_of(self, view: dict[str, Any]) -> FlowForm | None:
        if view.get("callback_id") != CALLBACK_ID:
            return None
        return self._forms.get(str(read_metadata(view.get("private_metadata")).get("flow", "")))

    async def suggestion(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Slack's ``{"options": [...]}`` for the text typed into a prefetched field."""
        form = self._form_of(payload.get("view") or {})
        field = field_of_block(str(payload.get("block_id", "")))
        if form is None or field is None or field not in form.prefetched:
            return {"options": []}
        if self._hooks is None:
            return _failed_choice("this front door runs no flow code")
        email, refusal = await self._person(str((payload.get("user") or {}).get("id", "")))
        if email is None:
            return _failed_choice(refusal or "who are you?")
        choices = await self._hooks.choices(form.flow, field, email)
        if isinstance(choices, HookFailure):
            return _failed_choice(choices.text)
        typed = str(payload.get("value") or "").strip().lower()
        matching = [
            choice
            for choice in choices
            if typed in str(choice.label).lower() or typed in str(choice.value).lower()
        ]
        return {"options": [slack_option(c.value, c.label) for c in matching[:MAX_OPTIONS]]}

    async def change(self, payload: dict[str, Any]) -> None:
        """Run the changed field's ``on_change`` handler and redraw the modal with its form."""
        view = payload.get("view") or {}
        form = self._form_of(view)
        actions = payload.get("actions") or []
        action = actions[0] if actions and isinstance(actions[0], dict) else {}
        field = field_of_block(str(action.get("block_id", "")))
        if form is None or field is None or self._hooks is None:
            return
        if field not in restored(view, form.base).changing:
            return
        email, refusal = await self._person(str((payload.get("user") or {}).get("id", "")))
        made = _seconds(action.get("action_ts"))
        for attempt in (1, 2):
            state = restored(view, form.base)
            if field not in state.changing:  # the newer drawing no longer runs its handler
                return
            if email is None:
                drawn = dataclasses.replace(state, error=refusal)
            else:
                drawn = await self._changed(form, field, email, state)
            if not await self._update(view, form, drawn, made):
                return
            newer = self._newer_drawing(view, made)
            if newer is None or attempt == 2:
                log.info(
                    "modal %s was redrawn by another change first; this one is dropped",
                    view.get("id"),
                )
                return
            # Redo the change on the newest drawing, with the person's values from this one.
            view = {**newer, "state": view.get("state")}

    async def _changed(
        self, form: FlowForm, field: str, email: str, state: ModalState
    ) -> ModalState:
        """The state to draw after ``field`` changed: what its handler made of the form, or the
        form as it was with why not."""
        assert self._hooks is not None
        changed = await self._hooks.change(form.flow, field, email, state.form)
        if changed is None:
            # The handler is gone: draw the form as it is, the field no longer dispatching, so
            # that the submission is not held for a redraw that will not come.
            return dataclasses.replace(state, changing=state.changing - {field})
        if isinstance(changed, HookFailure):
            failed = f"The form could not be updated: {changed.text}"
            return dataclasses.replace(state, error=failed)
        return dataclasses.replace(state, form=changed, rev=state.rev + 1)

    def _newer_drawing(self, view: dict[str, Any], made: float) -> dict[str, Any] | None:
        """The newest drawing of ``view``'s modal, if it is not ``view`` and was not made for a
        change later than ``made`` (whose result must not be overwritten by an older one)."""
        known = self._drawn.get(str(view.get("id", "")))
        if known is None:
            return None
        drawn, drawn_for = known
        if drawn.get("hash") == view.get("hash") or drawn_for > made:
            return None
        return drawn

    @asynccontextmanager
    async def _one_redraw_at_a_time(self, view_id: str) -> AsyncIterator[None]:
        """Hold the modal's redraws to one at a time, so that a redraw refused for a newer
        drawing finds that drawing already remembered. Other modals' redraws do not wait."""
        lock = self._locks.setdefault(view_id, asyncio.Lock())
        self._waiting[view_id] += 1
        try:
            async with lock:
                yield
        finally:
            self._waiting[view_id] -= 1
            if self._waiting[view_id] <= 0:
                del self._waiting[view_id]
                del self._locks[view_id]

    async def _update(
        self, view: dict[str, Any], form: FlowForm, state: ModalState, made: float
    ) -> bool:
        """Redraw ``view`` as ``state``; True when Slack refused it for a newer drawing
        (``hash_conflict``)."""
        try:
            body = request_view(form, state)
        except FormTooLarge as error:
            kept = restored(view, form.base)
            failed = f"The form could not be updated: {error}"
            body = request_view(form, dataclasses.replace(kept, error=failed))
        view_id = str(view.get("id", ""))
        async with self._one_redraw_at_a_time(view_id):
            try:
                answer = await self._slack.views_update(
                    view_id=view_id, hash=view.get("hash"), view=body
                )
            except SlackApiError as error:
                if error.response.get("error") == "hash_conflict":
                    return True
                log.warning("views.update failed: %s", describe_failure(error))
                return False
            except Exception as error:
                log.warning("views.update failed: %s", describe_failure(error))
                return False
            drawn = answer.get("view")
            if isinstance(drawn, dict):
                self._remember(view_id, drawn, made)
        return False

    def _remember(self, view_id: str, drawn: dict[str, Any], made: float) -> None:
        """Keep the newest drawing of the modal (Slack has no method to read one back), for
        the most recent modals only."""
        known = self._drawn.get(view_id)
        made = max(made, known[1]) if known else made
        self._drawn[view_id] = (drawn, made)
        self._drawn.move_to_end(view_id)
        while len(self._drawn) > MAX_KNOWN_VIEWS:
            self._drawn.popitem(last=False)


def _seconds(stamp: Any) -> float:
    """Slack's ``action_ts`` (``"1712345678.123456"``) as a number; 0 when absent."""
    try:
        return float(stamp)
    except (TypeError, ValueError):
        return 0.0
