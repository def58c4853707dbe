"""What the Web UI, ``temporal workflow list`` and ``jitflow status`` say about a request's target
(issue 19, item 4): one identifier, the target's key, wherever a person types or searches it,
and the label where a person reads; and upserts at the same moments as the first releases, so
that runs they recorded still replay.
"""

from __future__ import annotations

from typing import Any

import pytest
from access_stack import resolved_request
from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

from jitflow.cli.describe import describe_state
from jitflow.contracts.access import AccessRequestInput, AccessState
from jitflow.contracts.events import TargetData
from workflows.request_view import RequestView, details, search_attributes

ADMIN = TargetData(
    key="admin_prod", name="main-aptible-admin-role", label="Admin Role", role_id="r"
)


def _state(target: str, *, resolved: bool, **changes: Any) -> AccessState:
    state = AccessState(
        workflow_id="w",
        input=AccessRequestInput(
            flow="f", target=target, requester="alice@example.com", duration="1h"
        ),
        resolved=resolved_request(target=ADMIN, duration_seconds=3600) if resolved else None,
    )
    return state.model_copy(update=changes)


@pytest.mark.parametrize("given", ["admin_prod", "Admin Role", "main-aptible-admin-role", "r"])
def test_jit_target_is_the_key_however_the_target_was_given(given: str) -> None:
    assert search_attributes(_state(given, resolved=False))["JitTarget"] == given
    assert search_attributes(_state(given, resolved=True))["JitTarget"] == "admin_prod"


class _Recorder:
    """Stands in for the workflow calls the view makes: each upsert, as name -> value."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.upserts: list[dict[str, Any]] = []
        self.details = ""
        # The view calls them through ``temporalio.workflow``; outside a workflow they would
        # raise, so the module's functions are replaced for the test.
        monkeypatch.setattr(workflow, "upsert_search_attributes", self._upsert)
        monkeypatch.setattr(workflow, "set_current_details", self._details)

    def _upsert(self, updates: list[SearchAttributeUpdate[Any]]) -> None:
        self.upserts.append({update.key.name: update.value for update in updates})

    def _details(self, text: str) -> None:
        self.details = text


def _play(recorder: _Recorder, given: str) -> None:
    """A request's first three publishes: started, resolved, approved."""
    view = RequestView()
    view.publish(_state(given, resolved=False), 3600)
    view.publish(_state(given, resolved=True), 3600)
    view.publish(_state(given, resolved=True, status="approved", approver="bob@example.com"), 3600)


def test_upserts_keep_the_first_releases_moments_and_carry_the_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recorder = _Recorder(monkeypatch)
    # Given as the key: the name replaced it at resolution, an upsert in recorded histories.
    # It still happens (replay needs the command), now carrying the key.
    _play(recorder, "admin_prod")
    assert len(recorder.upserts) == 3
    assert [upsert.get("JitTarget") for upsert in recorder.upserts] == [
        "admin_prod",
        "admin_prod",
        None,
    ]

    recorder.upserts.clear()
    # Given as the name: nothing changed at resolution then, so no upsert now either; the key
    # goes out with the next one.
    _play(recorder, "main-aptible-admin-role")
    assert len(recorder.upserts) == 2
    assert recorder.upserts[0]["JitTarget"] == "main-aptible-admin-role"
    assert recorder.upserts[1]["JitTarget"] == "admin_prod"
    assert recorder.upserts[1]["JitStatus"] == "approved"
    assert "Admin Role" in recorder.details and "admin\\_prod" in recorder.details


def test_details_read_the_label_and_show_the_key() -> None:
    shown = details(_state("Admin Role", resolved=True), 3600, "waiting for a decision")
    first = shown.split("\n\n")[0]
    assert "**Admin Role**" in first and "admin\\_prod" in first and "for 1h" in first
    assert "Status: **pending**, waiting for a decision" in shown


def test_details_of_a_request_refused_on_its_input_say_why() -> None:
    failed = _state("nope", resolved=False, status="failed", error="unknown target 'nope'")
    shown = details(failed, 0, "failed")
    assert "alice@example\\.com" in shown and "nope" in shown and "for 1h" in shown
    assert "Status: **failed**" in shown and "Error: unknown target 'nope'" in shown


def test_status_shows_the_key_then_the_label() -> None:
    shown = describe_state(_state("Admin Role", resolved=True))
    assert "target    admin_prod (Admin Role)\n" in shown
    failed = describe_state(_state("nope", resolved=False, status="failed", error="unknown"))
    assert "target    nope (as given; not resolved)\n" in failed
