"""A flow's functions that run while a person fills in the request form, before any request.

``on_prompt`` (may veto the form), ``after_prompt``, ``@prefetch(field_name=...)`` (the choices
of a ``prefetch = true`` field) and ``on_change_<field>`` (changes the form when that field
changes) run before a request, hence a workflow, exists: nothing is recorded in a history, so
they are called here directly, with the same runner, SDK context and error reporting as the
workflow's reducers (``ReducerRunner.call_function``). These calls block; the caller runs them
on a thread with a time limit (``jitflow.slack.form_hooks``).

Each call raises ``ImplementationError`` when the module does not load, ``ReducerFailed`` when
the function raised or returned something unusable, ``ValueError`` for an unknown flow or field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from jitflow.config.models import Flow, Implementation
from jitflow.config.models import PromptField as ConfigField
from jitflow.contracts.events import UserData
from jitflow.reducer_runtime.errors import ImplementationError, ImplementationProblem, ReducerFailed
from jitflow.reducer_runtime.event_builder import build_prompt_event, find_flow
from jitflow.reducer_runtime.handlers import FORWARD_STEPS, ON_CHANGE_PREFIX
from jitflow.reducer_runtime.loader import LoadedImplementation
from jitflow.reducer_runtime.outcomes import OutcomeError, short_text
from jitflow.reducer_runtime.prompt_form import checked_form, choice_problem
from jitflow.reducer_runtime.runner import ReducerRunner
from jitflow.sdk.forms import FieldOption, SymPromptForm
from jitflow.sdk.templates import EventRequest

T = TypeVar("T")

#: The most choices a prefetch function may return. Slack shows at most 100 of them at a time
#: (those containing the typed text), so more are fine for searching, but each person's are
#: cached for a minute: the bound keeps one flow's function from filling the front door.
MAX_PREFETCH_CHOICES = 1000

#: What the person hears when ``on_prompt`` ignores the prompt without a message.
DEFAULT_IGNORE_MESSAGE = "This flow's rules do not let you request access now."


@dataclass(frozen=True)
class PromptAnswer:
    """What ``on_prompt`` decided, and which fields have an ``on_change`` handler."""

    show: bool
    message: str | None = None
    """``ApprovalTemplate.ignore(message=...)``'s message, when the form is not shown."""
    changing: frozenset[str] = frozenset()


def on_change_name(field: str) -> str:
    """``on_change_<field>``, dashes as underscores (Sym: ``my-field`` -> ``on_change_my_field``)."""
    return ON_CHANGE_PREFIX + field.replace("-", "_")


class PromptCalls:
    """The prompt-time functions of ``runner``'s flows."""

    def __init__(self, runner: ReducerRunner) -> None:
        self.runner = runner

    def open(self, flow_key: str, email: str, channel: str | None) -> PromptAnswer:
        """Run ``on_prompt`` (when the flow has one): show the form, or the ignore message."""
        flow = find_flow(self.runner.config, flow_key)
        loaded = self.runner.implementation(flow_key)
        changing = frozenset(
            field.name for field in flow.params.prompt_fields if self._on_change(flow, field.name)
        )
        function = loaded.get("on_prompt") if loaded else None
        if loaded is None or function is None:
            return PromptAnswer(show=True, changing=changing)
        event = build_prompt_event(self.runner.config, flow_key, self._user(email), channel)
        returned = self._run(loaded, "on_prompt", function, flow_key, (event,))
        answer = self._reduce(loaded, "on_prompt", _prompt_answer, returned)
        return PromptAnswer(answer.show, answer.message, changing)

    def after_prompt(self, flow_key: str, email: str, channel: str | None) -> str | None:
        """Run ``after_prompt`` once the form is shown; its text, if it returned one."""
        loaded = self.runner.implementation(flow_key)
        function = loaded.get("after_prompt") if loaded else None
        if loaded is None or function is None:
            return None
        event = build_prompt_event(self.runner.config, flow_key, self._user(email), channel)
        returned = self._run(loaded, "after_prompt", function, flow_key, (event,))
        return returned if isinstance(returned, str) else None

    def prefetch(self, flow_key: str, field: str, email: str) -> list[FieldOption]:
        """The choices of ``prefetch = true`` field ``field``, from its ``@prefetch`` function."""
        loaded = self.runner.implementation(flow_key)
        function = loaded.prefetchers.get(field) if loaded else None
        if loaded is None or function is None:
            where = loaded.display if loaded else "the flow (it has no implementation)"
            raise ImplementationError(
                [ImplementationProblem(where, None, None, f"no @prefetch(field_name={field!r})")]
            )
        event = build_prompt_event(self.runner.config, flow_key, self._user(email))
        name = function.__name__
        returned = self._run(loaded, name, function, flow_key, (event,))
        return self._reduce(loaded, name, _options, returned)

    def on_change(
        self, flow_key: str, field: str, email: str, form: SymPromptForm
    ) -> SymPromptForm | None:
        """Run ``on_change_<field>`` on ``form``; the form it returned, checked, or None when
        the field has no handler (any more)."""
        flow = find_flow(self.runner.config, flow_key)
        found = self._on_change(flow, field)
        if found is None:
            return None
        loaded, function = found
        name = on_change_name(field)
        given = form.model_copy(deep=True)  # the handler changes its copy in place
        returned = self._run(loaded, name, function, flow_key, (email, given))
        return self._reduce(loaded, name, lambda r: checked_form(r, form), returned)

    def _on_change(
        self, flow: Flow, field: str
    ) -> tuple[LoadedImplementation, Callable[..., Any]] | None:
        """The handler of ``field``: in its ``on_change`` file (Sym's way), else in the flow's
        implementation. A field's ``on_change`` file without the handler is an error."""
        configured = _field(flow, field)
        name = on_change_name(field)
        if configured.on_change is not None:
            loaded = self.runner.load(
                Implementation(kind="file", path=configured.on_change), flow.key
            )
            function = loaded.get(name)
            if function is None:
                raise ImplementationError(
                    [ImplementationProblem(configured.on_change, None, None, f"no {name}")]
                )
            return loaded, function
        own = self.runner.implementation(flow.key)
        function = own.get(name) if own else None
        return (own, function) if own is not None and function is not None else None

    def _user(self, email: str) -> UserData:
        roles = self.runner.roles()
        return UserData(email=email, role=roles.get(email.strip().lower(), "member"))

    def _run(
        self,
        loaded: LoadedImplementation,
        name: str,
        function: Callable[..., Any],
        flow_key: str,
        arguments: tuple[Any, ...],
    ) -> Any:
        roles = self.runner.roles()
        return self.runner.call_function(
            loaded, name, function, flow_key, "prompt", arguments, roles
        )

    @staticmethod
    def _reduce(
        loaded: LoadedImplementation, name: str, reduce: Callable[[Any], T], returned: Any
    ) -> T:
        try:
            return reduce(returned)
        except OutcomeError as error:
            raise ReducerFailed(name, loaded.where(name), str(error)) from None


def _field(flow: Flow, name: str) -> ConfigField:
    found = next((f for f in flow.params.prompt_fields if f.name == name), None)
    if found is None:
        raise ValueError(f"flow {flow.name!r} has no prompt field {name!r}")
    return found


def _prompt_answer(returned: Any) -> PromptAnswer:
    """``on_prompt``'s return: None or ``.request(...)`` shows the form, ``.ignore(...)`` not."""
    if returned is None:
        return PromptAnswer(show=True)
    if isinstance(returned, EventRequest):
        if returned.step == "ignore":
            return PromptAnswer(show=False, message=returned.message or DEFAULT_IGNORE_MESSAGE)
        if returned.step in FORWARD_STEPS["prompt"]:
            return PromptAnswer(show=True)
    raise OutcomeError(
        f"returned {short_text(returned)}; on_prompt returns None, "
        "ApprovalTemplate.request(...) (the form is shown) or .ignore(message=...) (it is not)"
    )


def _options(returned: Any) -> list[FieldOption]:
    """A prefetch function's choices, checked: the front door filters them by their labels and
    hands their values to Slack, so what it cannot use is refused here, with words."""
    if not isinstance(returned, list | tuple) or not all(
        isinstance(o, FieldOption) for o in returned
    ):
        raise OutcomeError(
            f"returned {short_text(returned)}; a prefetch function returns a list of "
            "FieldOption(value=..., label=...)"
        )
    if len(returned) > MAX_PREFETCH_CHOICES:
        raise OutcomeError(
            f"returned {len(returned)} choices; a prefetch function returns at most "
            f"{MAX_PREFETCH_CHOICES} (the form shows those containing the typed text)"
        )
    for choice in returned:
        problem = choice_problem(choice)
        if problem:
            raise OutcomeError(f"returned a bad choice: {problem}")
    return list(returned)
