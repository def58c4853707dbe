"""The ``/jitflow`` form runs the flow's code, over real HTTP: the Slack emulator plays the
command, the typing into a search field (``block_suggestion``), the change of a field with an
``on_change`` handler (``block_actions`` from the modal) and the submission, each signed with
the signing secret; the front door runs ``on_prompt``/``after_prompt``, ``@prefetch`` and
``on_change_<field>`` from ``form_hooks_impl.py`` and ``form_on_change.py`` and answers as Slack
expects (a text answer, ``{"options": [...]}``, ``views.update`` with the view's hash).

Submissions start real ``AccessRequest`` workflows on the dev server; no worker serves their
task queue, so each is read back from its history (its input) and terminated.

Code that hangs (``form_hooks_impl.py``) waits for ``released``: a test holds calls in flight
while it needs them, then lets them end and waits until none runs, so the next test starts with
every person's share of the front door's threads free.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from access_stack import test_config as stack_config
from slack_sdk.errors import SlackApiError
from slack_support import APPROVALS, PEOPLE, RunningSlack, running_slack
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from jitflow.access_client import AccessRequests
from jitflow.config.models import Flow, FlowParams, Implementation, JitflowConfig, PromptField
from jitflow.contracts.access import AccessRequestInput
from jitflow.emulator.server import bind_socket, build_server
from jitflow.emulator.slack_state import SlackFault
from jitflow.reducer_runtime import ReducerRunner
from jitflow.reducer_runtime.prompt import PromptCalls
from jitflow.sdk.forms import FieldOption, SymPromptForm
from jitflow.slack.client import web_client
from jitflow.slack.commands import COMMANDS_PATH
from jitflow.slack.form_actions import FAILED_CHOICE
from jitflow.slack.form_hooks import ALL_BUSY, USER_BUSY, FormHooks
from jitflow.slack.form_submission import STILL_UPDATING
from jitflow.slack.front_door import INTERACTIONS_PATH, FrontDoor
from jitflow.slack.request_modal import DURATION_BLOCK, TARGET_BLOCK, flow_form

pytestmark = pytest.mark.asyncio(loop_scope="session")

HERE = Path(__file__).resolve().parent
JITFLOW_USERS = {email for email in PEOPLE.values() if not email.startswith("zed@")}


def field(name: str, rev: int = 0) -> str:
    return f"jitflow_field_{name}" + (f"~{rev}" if rev else "")


class RecordingCalls(PromptCalls):
    """``PromptCalls`` that notes each prefetch and ``on_change`` call it makes."""

    def __init__(self, runner: ReducerRunner) -> None:
        super().__init__(runner)
        self.made: list[tuple[str, str, str]] = []

    def prefetch(self, flow_key: str, field: str, email: str) -> list[FieldOption]:
        self.made.append(("prefetch", field, email))
        return super().prefetch(flow_key, field, email)

    def on_change(
        self, flow_key: str, field: str, email: str, form: SymPromptForm
    ) -> SymPromptForm | None:
        self.made.append(("on_change", field, email))
        return super().on_change(flow_key, field, email, form)


@dataclass
class FormStack:
    slack: RunningSlack
    front_door: FrontDoor
    client: Client
    folder: Path
    """Where the flow's code runs: ``form_hooks_shown.txt`` (who ``after_prompt`` saw) and
    ``release`` (what lets hung code end) are here."""
    hooks: FormHooks
    calls: RecordingCalls
    config: JitflowConfig

    @property
    def shown(self) -> Path:
        return self.folder / "form_hooks_shown.txt"


def hooked_config(folder: Path) -> JitflowConfig:
    """The stack's configuration plus ``hooked`` (the code under test) and ``bare`` (none)."""
    impl = str(shutil.copy(HERE / "form_hooks_impl.py", folder / "impl.py"))
    on_change = str(shutil.copy(HERE / "form_on_change.py", folder / "on_change.py"))
    base = stack_config()
    strategy = next(iter(base.strategies))
    fields = (
        PromptField(
            name="urgency", type="string", allowed_values=("low", "high"), on_change=on_change
        ),
        PromptField(name="reason", type="string"),
        PromptField(name="runbook", type="string"),
        PromptField(
            name="impact", type="string", label="Impact", allowed_values=("internal", "customers")
        ),
        PromptField(name="ticket", type="string", prefetch=True, required=False),
        PromptField(name="broken", type="string", prefetch=True, required=False),
        PromptField(name="surprise", type="string", allowed_values=("yes", "no"), required=False),
        PromptField(name="odd", type="string", prefetch=True, required=False),
        PromptField(name="slow", type="string", prefetch=True, required=False),
        PromptField(name="late", type="string", prefetch=True, required=False),
    )
    hooked = Flow(
        key="hooked",
        name="hooked",
        implementation=Implementation(kind="file", path=impl),
        params=FlowParams(strategy=strategy, prompt_fields=fields),
        durations=(600, 3600),
    )
    bare = Flow(key="bare", name="bare", params=FlowParams(strategy=strategy), durations=(600,))
    return base.model_copy(update={"flows": {**base.flows, "hooked": hooked, "bare": bare}})


@asynccontextmanager
async def serving(
    slack: RunningSlack, client: Client, config: JitflowConfig, hooks: FormHooks
) -> AsyncIterator[FrontDoor]:
    """A front door on loopback running ``hooks``, where the emulator sends what it plays."""
    front_door = FrontDoor(
        signing_secret=slack.state.signing_secret,
        slack=web_client(slack.state.bot_token, slack.api_url),
        requests=AccessRequests(client, f"form-hooks-{uuid.uuid4().hex[:8]}"),
        key=("unused", lambda body: ""),
        known_user=lambda email: email in JITFLOW_USERS,
        judge=lambda state, action, email: None,
        forms={name: flow_form(config, config.flows[name]) for name in ("hooked", "bare")},
        hooks=hooks,
    )
    sock = bind_socket("127.0.0.1", 0)
    server = build_server(front_door)
    serving_task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    before = (slack.state.front_door_url, slack.state.commands_url)
    slack.state.front_door_url = url + INTERACTIONS_PATH
    slack.state.commands_url = url + COMMANDS_PATH
    try:
        yield front_door
    finally:
        slack.state.front_door_url, slack.state.commands_url = before
        await front_door.settle()
        server.should_exit = True
        await serving_task


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def form_stack(
    dev_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FormStack]:
    folder = tmp_path_factory.mktemp("form_hooks")
    config = hooked_config(folder)
    calls = RecordingCalls(ReducerRunner(config, lambda: {}))
    hooks = FormHooks(calls)
    with running_slack() as slack:
        async with serving(slack, dev_env.client, config, hooks) as front_door:
            stack = FormStack(slack, front_door, dev_env.client, folder, hooks, calls, config)
            try:
                yield stack
            finally:
                await released(stack)


async def released(s: FormStack) -> None:
    """Let the hung code end, and wait until no call of it runs any more."""
    release = s.folder / "release"
    release.touch()
    try:
        deadline = time.monotonic() + 15
        while s.hooks.in_flight and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert s.hooks.in_flight == 0
        await s.front_door.settle()
    finally:
        release.unlink()


async def play(s: FormStack, route: str, **body: Any) -> dict[str, Any]:
    answer: dict[str, Any] = await asyncio.to_thread(s.slack.admin, "POST", route, body)
    return answer


async def open_form(s: FormStack, user: str, flow: str = "hooked") -> dict[str, Any]:
    """``user`` types ``/jitflow <flow>``; the modal it opened."""
    opened = len(s.slack.state.views)
    answer = await play(s, "command", user=user, text=flow, channel=APPROVALS)
    assert answer == {"status": 200, "body": ""}, answer
    (view,) = s.slack.state.views[opened:]
    return view


def block(view: dict[str, Any], block_id: str) -> dict[str, Any] | None:
    return next((b for b in view["blocks"] if b.get("block_id") == block_id), None)


def option_values(answer: dict[str, Any]) -> list[str]:
    assert answer["status"] == 200, answer
    return [o["value"] for o in json.loads(answer["body"])["options"]]


async def started_request(s: FormStack) -> AccessRequestInput:
    """The request the last submission started (read from its history), which
    is then terminated (no worker serves it)."""
    told = [m.text for m in s.slack.state.messages if "You requested" in m.text]
    workflow_id = told[-1].split("`")[1]
    handle = s.client.get_workflow_handle(workflow_id)
    history = await handle.fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    (request,) = await s.client.data_converter.decode(started.input.payloads, [AccessRequestInput])
    await handle.terminate("test done")
    assert isinstance(request, AccessRequestInput)
    return request


async def test_on_prompt_ignore_keeps_the_form_closed_and_tells_the_person(
    form_stack: FormStack,
) -> None:
    s = form_stack
    opened = len(s.slack.state.views)
    answer = await play(s, "command", user="U0BOB", text="hooked", channel=APPROVALS)
    assert answer == {"status": 200, "body": "Bob, use the break-glass flow instead."}
    assert len(s.slack.state.views) == opened  # no modal
    # Slack shows a command's text answer to the person only, where they typed it.
    (told,) = [m for m in s.slack.state.messages if m.ephemeral_to == "U0BOB"]
    assert (told.channel, told.text) == (APPROVALS, "Bob, use the break-glass flow instead.")


async def test_the_form_opens_when_on_prompt_allows_it_or_is_absent(form_stack: FormStack) -> None:
    s = form_stack
    view = await open_form(s, "U0ALICE")
    urgency = block(view, field("urgency"))
    assert urgency is not None and urgency["dispatch_action"] is True  # it has on_change
    assert block(view, field("surprise"))["dispatch_action"] is True  # type: ignore[index]
    assert "dispatch_action" not in block(view, field("reason"))  # type: ignore[operator]
    assert block(view, field("ticket"))["element"]["type"] == "external_select"  # type: ignore[index]
    assert block(view, field("runbook")) is not None
    await s.front_door.settle()  # after_prompt runs once the form is open
    assert f"alice@example.com {APPROVALS}" in s.shown.read_text().splitlines()

    bare = await open_form(s, "U0ALICE", "bare")  # a flow without code
    assert [b["block_id"] for b in bare["blocks"]] == [TARGET_BLOCK, DURATION_BLOCK]


async def test_unsigned_or_stale_suggestions_and_changes_are_refused_and_run_nothing(
    form_stack: FormStack,
) -> None:
    s = form_stack
    view = await open_form(s, "U0ALICE")
    await s.front_door.settle()
    made, updates = len(s.calls.made), len(s.slack.state.view_updates)
    suggest = {"view_id": view["id"], "user": "U0ALICE", "block_id": field("ticket"), "value": ""}
    act = {"view_id": view["id"], "user": "U0ALICE", "block_id": field("urgency"), "value": "high"}
    wrongly = (
        ({"signing_secret": "not-the-signing-secret"}, "bad signature"),
        ({"timestamp_offset": -600}, "stale request"),
    )
    for signed, why in wrongly:
        for route, body in (("suggest", suggest), ("act", act)):
            answer = await play(s, route, **body, **signed)
            assert answer["status"] == 401 and answer["body"].startswith(why), (route, answer)
    await s.front_door.settle()
    assert s.calls.made[made:] == []  # no prefetch, no on_change ran
    assert len(s.slack.state.view_updates) == updates
    assert view["id"] not in s.slack.state.suggestions  # no choices were answered

    # Signed as Slack signs, the same two run the flow's code (what the spy would have seen).
    assert option_values(await play(s, "suggest", **suggest)) == ["OPS-1", "OPS-2", "SEC-7"]
    assert (await play(s, "act", **act))["status"] == 200
    await s.front_door.settle()
    assert s.calls.made[made:] == [
        ("prefetch", "ticket", "alice@example.com"),
        ("on_change", "urgency", "alice@example.com"),
    ]
    assert len(s.slack.state.view_updates) == updates + 1


async def test_prefetched_choices_are_filtered_by_what_is_typed_and_checked_on_submission(
    form_stack: FormStack,
) -> None:
    s = form_stack
    view = await open_form(s, "U0ALICE")
    # Picking the urgency runs its on_change handler, which redraws the form (rev 1).
    await play(s, "act", view_id=view["id"], user="U0ALICE", block_id=field("urgency"), value="low")
    await s.front_door.settle()
    ticket = field("ticket", 1)

    async def typed(text: str, where: str = ticket) -> dict[str, Any]:
        return await play(
            s, "suggest", view_id=view["id"], user="U0ALICE", block_id=where, value=text
        )

    assert option_values(await typed("")) == ["OPS-1", "OPS-2", "SEC-7"]
    assert option_values(await typed("rotation")) == ["SEC-7"]
    ops = await typed("ops")
    assert option_values(ops) == ["OPS-1", "OPS-2"]
    assert json.loads(ops["body"])["options"][1]["text"]["text"] == "OPS-2 cache warm-up"

    # A prefetch that raises offers one choice saying so, scrubbed; submitting it is refused.
    broken = await typed("", field("broken", 1))
    (failed,) = json.loads(broken["body"])["options"]
    assert failed["value"] == FAILED_CHOICE
    assert "broken_choices (impl.py:" in failed["text"]["text"]
    assert "hunter2" not in broken["body"]

    filled = {
        TARGET_BLOCK: "Admin Role",
        DURATION_BLOCK: "10m",
        field("urgency", 1): "low",
        field("reason", 1): "rotate the signing key",
        field("runbook", 1): "RB-12",
        field("impact", 1): "internal",
    }
    refused = await play(
        s,
        "submit",
        view_id=view["id"],
        user="U0ALICE",
        values={**filled, ticket: "OPS-2", field("broken", 1): FAILED_CHOICE},
    )
    errors = json.loads(refused["body"])["errors"]
    assert list(errors) == [field("broken", 1)]
    assert errors[field("broken", 1)].startswith("The choice could not be checked: broken_choices")

    answer = await play(
        s, "submit", view_id=view["id"], user="U0ALICE", values={**filled, ticket: "OPS-2"}
    )
    assert answer == {"status": 200, "body": ""}  # the modal closes
    await s.front_door.settle()  # the requester is told after the answer
    request = await started_request(s)
    assert request.flow == "hooked" and request.requester == "alice@example.com"
    assert request.reason == "rotate the signing key"
    assert request.fields == {
        "urgency": "low",
        "runbook": "RB-12",
        "impact": "internal",
        "ticket": "OPS-2",
    }


async def test_on_change_redraws_the_form_and_the_submission_follows_it(
    form_stack: FormStack,
) -> None:
    s = form_stack
    view = await open_form(s, "U0ALICE")
    updates = len(s.slack.state.view_updates)
    answer = await play(
        s,
        "act",
        view_id=view["id"],
        user="U0ALICE",
        block_id=field("urgency"),
        value="high",
        values={field("reason"): "prod is down"},
    )
    assert answer == {"status": 200, "body": ""}
    await s.front_door.settle()
    (update,) = s.slack.state.view_updates[updates:]
    assert update["view_id"] == view["id"]
    redrawn = update["view"]
    assert redrawn["hash"] != view["hash"]
    # The runbook is hidden, the impact narrowed and relabelled, the values kept.
    assert block(redrawn, field("runbook", 1)) is None
    impact = block(redrawn, field("impact", 1))
    assert impact is not None
    assert impact["label"]["text"] == "Impact (urgent: customer facing only)"
    assert [o["value"] for o in impact["element"]["options"]] == ["customers"]
    urgency = block(redrawn, field("urgency", 1))
    assert urgency["element"]["initial_option"]["value"] == "high"  # type: ignore[index]
    assert block(redrawn, field("reason", 1))["element"]["initial_value"] == "prod is down"  # type: ignore[index]

    # Validation follows the form as shown: the reason is still required (cleared here)...
    missing = await play(
        s,
        "submit",
        view_id=view["id"],
        user="U0ALICE",
        values={
            TARGET_BLOCK: "Admin Role",
            DURATION_BLOCK: "1h",
            field("reason", 1): "",
            field("impact", 1): "customers",
        },
    )
    assert list(json.loads(missing["body"])["errors"]) == [field("reason", 1)]
    # ... the hidden runbook is not, and is sent with the value the handler gave it.
    answer = await play(
        s,
        "submit",
        view_id=view["id"],
        user="U0ALICE",
        values={
            TARGET_BLOCK: "Admin Role",
            DURATION_BLOCK: "1h",
            field("urgency", 1): "high",
            field("reason", 1): "prod is down",
            field("impact", 1): "customers",
        },
    )
    assert answer == {"status": 200, "body": ""}
    await s.front_door.settle()
    request = await started_request(s)
    assert request.duration == 3600 and request.reason == "prod is down"
    assert request.fields == {
        "urgency": "high",
        "runbook": "skipped: urgent (alice@example.com)",
        "impact": "customers",
    }


async def test_code_that_raises_or_hangs_is_reported_scrubbed_and_the_server_carries_on(
    form_stack: FormStack, caplog: pytest.LogCaptureFixture
) -> None:
    s = form_stack
    opened = len(s.slack.state.views)
    caplog.set_level(logging.WARNING, logger="jitflow.slack")
    raised = await play(s, "command", user="U0CAROL", text="hooked", channel=APPROVALS)
    text = raised["body"]
    assert text.startswith("jitflow could not open the request form: on_prompt (impl.py:")
    assert "raised RuntimeError: lookup failed" in text
    for secret in ("xoxb-1234567890-abcdefghijkl", "sekrit", "/services/", "Traceback", str(HERE)):
        assert secret not in text
    assert s.slack.ephemerals("U0CAROL") == [text]
    # The log has the traceback, every line of it scrubbed, and no secret either.
    (logged,) = [r for r in caplog.records if "on_prompt of flow hooked failed" in r.getMessage()]
    assert logged.exc_info is None
    message = logged.getMessage()
    assert "Traceback (most recent call last):" in message
    assert "RuntimeError: lookup failed: token=***" in message
    for secret in ("xoxb-1234567890-abcdefghijkl", "sekrit", "/services/"):
        assert secret not in message

    try:
        began = time.monotonic()
        hung = await play(s, "command", user="U0DAVE", text="hooked", channel=APPROVALS)
        assert time.monotonic() - began < 3.5  # within Slack's 3 s, give or take the emulator
        assert hung["body"] == (
            "jitflow could not open the request form: on_prompt did not answer within 2 s"
        )
        assert len(s.slack.state.views) == opened
    finally:
        await released(s)

    # An on_change handler that raises: the form stays as it was, with why at its top.
    view = await open_form(s, "U0ALICE")
    updates = len(s.slack.state.view_updates)
    await play(
        s, "act", view_id=view["id"], user="U0ALICE", block_id=field("surprise"), value="yes"
    )
    await s.front_door.settle()
    (update,) = s.slack.state.view_updates[updates:]
    top = update["view"]["blocks"][0]["text"]["text"]
    assert top.startswith(":warning: The form could not be updated: on_change_surprise (impl.py:")
    assert "KeyError" in top and "AKIAABCDEFGHIJKLMNOP" not in top
    assert block(update["view"], field("runbook")) is not None  # same fields, same blocks


async def test_views_update_needs_the_current_hash(form_stack: FormStack) -> None:
    slack = web_client(form_stack.slack.state.bot_token, form_stack.slack.api_url)
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "t"}, "blocks": []}
    opened = (await slack.views_open(trigger_id="1.2", view=modal))["view"]
    first = await slack.views_update(view_id=opened["id"], hash=opened["hash"], view=modal)
    assert first["view"]["hash"] != opened["hash"]
    with pytest.raises(SlackApiError) as stale:
        await slack.views_update(view_id=opened["id"], hash=opened["hash"], view=modal)
    assert stale.value.response["error"] == "hash_conflict"
    with pytest.raises(SlackApiError) as unknown:
        await slack.views_update(view_id="V0NOPE", view=modal)
    assert unknown.value.response["error"] == "not_found"
    latest = await slack.views_update(view_id=opened["id"], view=modal)  # no hash: applies
    assert latest["ok"] is True


FILLED = {
    TARGET_BLOCK: "Admin Role",
    DURATION_BLOCK: "10m",
    field("reason"): "rotate the signing key",
    field("runbook"): "RB-12",
    field("impact"): "internal",
}


def at_rev(values: dict[str, str], rev: int) -> dict[str, str]:
    """``values`` by the block ids of the form's ``rev``-th drawing."""
    return {
        (key if key in (TARGET_BLOCK, DURATION_BLOCK) else f"{key.split('~')[0]}~{rev}"): value
        for key, value in values.items()
    }


async def test_a_submission_made_before_the_redraw_landed_is_sent_back(
    form_stack: FormStack,
) -> None:
    s = form_stack
    view = await open_form(s, "U0ALICE")
    await s.front_door.settle()
    told = len(s.slack.dms("U0ALICE"))
    # The urgency was changed (its on_change handler redraws the form) and the form submitted
    # before that redraw landed: Slack sends the form as it was drawn, with the new urgency.
    early = await play(
        s,
        "submit",
        view_id=view["id"],
        user="U0ALICE",
        values={**FILLED, field("urgency"): "high"},
    )
    assert early["status"] == 200
    assert json.loads(early["body"]) == {
        "response_action": "errors",
        "errors": {field("urgency"): STILL_UPDATING},
    }
    await s.front_door.settle()
    assert len(s.slack.dms("U0ALICE")) == told  # nothing was started

    # Once the redraw landed, the same choice is checked against the form the handler made.
    await play(
        s, "act", view_id=view["id"], user="U0ALICE", block_id=field("urgency"), value="high"
    )
    await s.front_door.settle()
    values = {**at_rev(FILLED, 1), field("urgency", 1): "high", field("impact", 1): "customers"}
    del values[field("runbook", 1)]  # hidden by the handler
    answer = await play(s, "submit", view_id=view["id"], user="U0ALICE", values=values)
    assert answer == {"status": 200, "body": ""}
    await s.front_door.settle()
    request = await started_request(s)
    assert request.fields["runbook"] == "skipped: urgent (alice@example.com)"


async def test_the_submission_answers_in_time_with_slow_choices_and_a_slow_slack(
    form_stack: FormStack,
) -> None:
    s = form_stack
    view = await open_form(s, "U0ALICE")
    await play(s, "act", view_id=view["id"], user="U0ALICE", block_id=field("urgency"), value="low")
    await s.front_door.settle()
    filled = {**at_rev(FILLED, 1), field("urgency", 1): "low"}
    try:
        # Two prefetch functions that hang: each search answers that it is still fetching...
        answers = await asyncio.gather(
            *(
                play(
                    s,
                    "suggest",
                    view_id=view["id"],
                    user="U0ALICE",
                    block_id=field(name, 1),
                    value="",
                )
                for name in ("slow", "late")
            )
        )
        assert [option_values(a) for a in answers] == [[FAILED_CHOICE], [FAILED_CHOICE]]
        # ... and the submission checks both at once, within one deadline (1.5 s), not one
        # after the other (2.5 s each before).
        began = time.monotonic()
        refused = await play(
            s,
            "submit",
            view_id=view["id"],
            user="U0ALICE",
            values={**filled, field("slow", 1): FAILED_CHOICE, field("late", 1): FAILED_CHOICE},
        )
        assert time.monotonic() - began < 2.5
        errors = json.loads(refused["body"])["errors"]
        assert errors == {
            field(name, 1): f"The choice could not be checked: the choices of {name} are "
            "still being fetched; try again in a moment"
            for name in ("slow", "late")
        }
    finally:
        await released(s)

    # Slack takes 3 s to post the requester's message: the modal closes without waiting.
    told = len(s.slack.dms("U0ALICE"))
    s.slack.state.faults = [SlackFault(kind="delay", method="chat.postMessage", delay_ms=3000)]
    try:
        began = time.monotonic()
        answer = await play(s, "submit", view_id=view["id"], user="U0ALICE", values=filled)
        assert answer == {"status": 200, "body": ""}
        assert time.monotonic() - began < 2.0
        assert len(s.slack.dms("U0ALICE")) == told  # not posted yet
    finally:
        await s.front_door.settle()
        s.slack.state.faults = []
    assert len(s.slack.dms("U0ALICE")) == told + 1
    request = await started_request(s)
    assert request.fields["urgency"] == "low"


async def test_a_prefetch_returning_what_slack_cannot_show_is_refused_in_words(
    form_stack: FormStack,
) -> None:
    s = form_stack
    view = await open_form(s, "U0ALICE")
    answer = await play(
        s, "suggest", view_id=view["id"], user="U0ALICE", block_id=field("odd"), value="x"
    )
    (failed,) = json.loads(answer["body"])["options"]
    assert failed["value"] == FAILED_CHOICE
    assert failed["text"]["text"].startswith("⚠ odd_choices (impl.py:")
    assert failed["text"]["text"].endswith("returned a bad choice: label 12 is not text")


async def test_one_persons_hung_calls_leave_the_form_to_everyone_else(
    form_stack: FormStack,
) -> None:
    s = form_stack
    try:
        # dave's on_prompt hangs: two of them fill his share, and keep running once abandoned.
        hung = await asyncio.gather(
            *(play(s, "command", user="U0DAVE", text="hooked", channel=APPROVALS) for _ in "ab")
        )
        assert {h["body"] for h in hung} == {
            "jitflow could not open the request form: on_prompt did not answer within 2 s"
        }
        assert s.hooks.in_flight == 2
        began = time.monotonic()
        refused = await play(s, "command", user="U0DAVE", text="hooked", channel=APPROVALS)
        assert time.monotonic() - began < 1.0  # refused at once, not after 2 s more
        assert refused["body"] == f"jitflow could not open the request form: {USER_BUSY}"
        # Everyone else still gets the form.
        view = await open_form(s, "U0ALICE")
        assert block(view, field("urgency")) is not None
    finally:
        await released(s)
    assert s.hooks.in_flight == 0


async def test_the_front_door_runs_a_bounded_number_of_calls_in_all(form_stack: FormStack) -> None:
    s = form_stack
    hooks = FormHooks(PromptCalls(ReducerRunner(s.config, lambda: {})), max_in_flight=3)
    async with serving(s.slack, s.client, s.config, hooks) as front_door:
        small = FormStack(s.slack, front_door, s.client, s.folder, hooks, s.calls, s.config)
        view = await open_form(small, "U0ALICE")
        await front_door.settle()
        try:
            # alice's search that hangs and dave's two forms that hang: three calls in flight.
            await asyncio.gather(
                play(
                    small,
                    "suggest",
                    view_id=view["id"],
                    user="U0ALICE",
                    block_id=field("slow"),
                    value="",
                ),
                *(
                    play(small, "command", user="U0DAVE", text="hooked", channel=APPROVALS)
                    for _ in "ab"
                ),
            )
            assert hooks.in_flight == 3
            # Neither bob (nothing running) nor alice (one of her two) gets another call.
            for user in ("U0BOB", "U0ALICE"):
                began = time.monotonic()
                refused = await play(small, "command", user=user, text="hooked", channel=APPROVALS)
                assert time.monotonic() - began < 1.0
                assert refused["body"] == f"jitflow could not open the request form: {ALL_BUSY}"
        finally:
            await released(small)
        # Once the calls ended, the front door runs code again.
        answer = await play(small, "command", user="U0BOB", text="hooked", channel=APPROVALS)
        assert answer["body"] == "Bob, use the break-glass flow instead."


async def test_a_change_refused_for_a_newer_drawing_is_redone_on_it(form_stack: FormStack) -> None:
    s = form_stack
    first = await open_form(s, "U0ALICE")
    await play(
        s, "act", view_id=first["id"], user="U0ALICE", block_id=field("urgency"), value="high"
    )
    await s.front_door.settle()
    updates = len(s.slack.state.view_updates)
    # The person set the urgency back to low on the form as first drawn, before the redraw for
    # "high" landed: Slack sends that change with the first drawing's hash, which is refused.
    answer = await play(
        s,
        "act",
        view_id=first["id"],
        user="U0ALICE",
        block_id=field("urgency"),
        value="low",
        view=first,
    )
    assert answer == {"status": 200, "body": ""}
    await s.front_door.settle()
    (update,) = s.slack.state.view_updates[updates:]  # redone once, on the newest drawing
    redrawn = update["view"]
    urgency = block(redrawn, field("urgency", 2))
    assert urgency["element"]["initial_option"]["value"] == "low"  # type: ignore[index]
    assert block(redrawn, field("runbook", 2)) is not None  # shown again for low urgency
    impact = block(redrawn, field("impact", 2))
    assert [o["value"] for o in impact["element"]["options"]] == ["internal", "customers"]  # type: ignore[index]
