"""The benchmark's options, the smoke run's verdict and the one place decisions are sent.

Pure checks on the code: the benchmark itself runs with ``make bench-smoke`` (CI) or
``make bench-quick``, not under pytest.
"""

from __future__ import annotations

import ast
import asyncio
import copy
import shutil
import subprocess
import time
from typing import Any

import pytest

from bench.fixtures import ROLES, USERS
from bench.report import run_problems
from bench.run import ALL_PHASES, combine_rounds, parse_options, ratios
from bench.stack import REPO

BENCH = REPO / "bench"


def test_smoke_runs_every_phase_small_and_writes_a_git_ignored_file() -> None:
    options = parse_options(["--smoke"])
    assert options.mode == "smoke"
    assert options.phases == ALL_PHASES
    assert options.output == BENCH / "results-smoke.json"
    assert max(options.grants) <= 10
    assert options.deadline is not None
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git work tree")
    ignored = subprocess.run(
        ["git", "-C", str(REPO), "check-ignore", "-q", str(options.output)], check=False
    )
    assert ignored.returncode == 0, f"{options.output} is not git-ignored"


def test_modes_and_phases() -> None:
    full, quick = parse_options([]), parse_options(["--quick"])
    assert (full.mode, full.grants, full.output.name) == ("full", (100, 1000, 3000), "results.json")
    assert (quick.mode, quick.grants, quick.output.name) == ("quick", (50,), "results-quick.json")
    assert "decisions" not in full.phases
    assert parse_options(["--phases", "decisions"]).phases == ("decisions",)
    with pytest.raises(SystemExit):
        parse_options(["--phases", "latency,nonsense"])
    with pytest.raises(SystemExit):
        parse_options(["--quick", "--smoke"])


def test_the_full_run_measures_throughput_in_three_rounds() -> None:
    assert parse_options([]).throughput_rounds == 3
    assert parse_options(["--quick"]).throughput_rounds == 1
    assert parse_options(["--smoke"]).throughput_rounds == 1
    assert parse_options(["--quick", "--throughput-rounds", "5"]).throughput_rounds == 5
    with pytest.raises(SystemExit):
        parse_options(["--throughput-rounds", "-1"])


def _round(per_s: float, errors: list[str], owners: int = 0) -> dict[str, Any]:
    return {
        "concurrency": 50,
        "duration_s": 2,
        "run_s": 30.0,
        "first_wave_s": 7.5,
        "completed": int(per_s * 30),
        "per_s": per_s,
        "steady_per_s": per_s + 1,
        "errors": len(errors),
        "first_errors": errors,
        "owners_open_before_floor": owners,
    }


def test_rounds_combine_to_the_median_rate_and_keep_every_failure() -> None:
    """An outlying round moves neither side's figure; a failure in any round is a problem."""
    rounds = [_round(6.2, []), _round(4.1, ["boom"]), _round(6.0, [], owners=2)]
    combined = combine_rounds(rounds)
    assert combined["per_s"] == 6.0
    assert combined["per_s_by_round"] == [6.2, 4.1, 6.0]
    assert combined["steady_per_s"] == 7.0
    assert (combined["rounds"], combined["completed"]) == (3, sum(r["completed"] for r in rounds))
    assert (combined["errors"], combined["first_errors"]) == (1, ["boom"])
    assert combined["owners_open_before_floor"] == 2
    document = copy.deepcopy(CLEAN)
    document["throughput"] = combined
    problems = run_problems(document)
    assert any("throughput: boom" in problem for problem in problems)
    assert any("owners still open" in problem for problem in problems)
    with pytest.raises(ValueError, match="no throughput rounds"):
        combine_rounds([])


@pytest.mark.parametrize("mode", [["--smoke"], ["--quick"]])
def test_the_decisions_phase_has_pairs_no_other_phase_uses(mode: list[str]) -> None:
    options = parse_options(mode)
    used = max(options.latency_requests, options.throughput_concurrency, *options.grants)
    assert used <= ROLES * USERS - 2


CLEAN: dict[str, Any] = {
    "mode": "smoke",
    "latency": {
        "memberships_not_seen": 0,
        "runs_not_completed": 0,
        "approve_to_escalated_ms": {"p99": 99_000.0},
    },
    "floor_latency": {"runs_not_completed": 0},
    "throughput": {"errors": 0, "first_errors": [], "completed": 3, "per_s": 0.001},
    "floor_throughput": {"errors": 0, "first_errors": [], "completed": 3, "per_s": 0.001},
    "revocation": [
        {
            "grants": 5,
            "escalated": 5,
            "setup_errors": 0,
            "first_setup_errors": [],
            "runs_not_completed": 0,
            "still_present_after_drain": 0,
            "never_revoked": 5,
            "lag_ms": {"p99": 50_000.0, "max": 60_000.0},
            "poll_errors": [],
        }
    ],
    "decisions": {"problems": []},
}


def test_a_slow_but_correct_run_has_no_problems() -> None:
    """Speed is never judged: huge latencies and lags, grants removed only after the grace."""
    assert run_problems(CLEAN) == []


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("latency", "memberships_not_seen"), 1, "no membership"),
        (("floor_latency", "runs_not_completed"), 2, "floor latency"),
        (("throughput", "completed"), 0, "no lifecycle completed"),
        (("floor_throughput", "errors"), 1, "floor throughput"),
        (("revocation", 0, "escalated"), 4, "never escalated"),
        (("revocation", 0, "still_present_after_drain"), 1, "never removed"),
        (("revocation", 0, "poll_errors"), ["ConnectError()"], "emulator poll failed"),
        (("decisions", "problems"), ["revoke: ended failed"], "revoke: ended failed"),
    ],
)
def test_errors_are_problems(path: tuple[Any, ...], value: Any, expected: str) -> None:
    document = copy.deepcopy(CLEAN)
    node: Any = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    problems = run_problems(document)
    assert len(problems) == 1
    assert expected in problems[0]


def test_revoke_all_is_judged_against_the_fastest_removal_floor_of_its_size() -> None:
    """A floor measured on a struggling server must not flatter the mass revocation."""
    results: dict[str, Any] = {
        "mass_revocation": {
            "grants": 1000,
            "last_gone_s": 15.0,
            "floor_removal": {"drain_s": 30.0},
        },
        "revocation": [
            {"grants": 100, "lag_ms": {"max": 900.0}, "floor_removal": {"drain_s": 1.0}},
            {"grants": 1000, "lag_ms": {"max": 9000.0}, "floor_removal": {"drain_s": 10.0}},
        ],
    }
    assert ratios(results)["mass_revocation_vs_floor_drain"] == 1.5
    results["revocation"] = results["revocation"][:1]
    assert ratios(results)["mass_revocation_vs_floor_drain"] == 0.5


def test_a_memory_floor_that_failed_or_left_runs_is_a_problem() -> None:
    document = copy.deepcopy(CLEAN)
    floor = {"errors": 0, "first_errors": [], "runs_held": 10, "released": 10}
    document["revocation"][0]["floor_memory"] = floor
    assert run_problems(document) == []
    floor.update(errors=1, first_errors=["BenchError('not ready')"], released=8)
    problems = run_problems(document)
    assert any("failed to set up: 1" in problem for problem in problems)
    assert any("not ready" in problem for problem in problems)
    assert any("did not end cancelled: 2" in problem for problem in problems)


def _enclosing_functions(tree: ast.Module) -> dict[ast.AST, str]:
    """Each node -> the qualified name of the function it is in ("" at module level)."""
    owners: dict[ast.AST, str] = {}

    def visit(node: ast.AST, owner: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = owner
            if isinstance(child, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{owner}.{child.name}" if owner else child.name
            owners[child] = name
            visit(child, name)

    visit(tree, "")
    return owners


#: Where the benchmark may send updates: ``send_decision`` for every jitflow decision, and the
#: floor's own ``approve`` (a ``BenchFloor`` update, not a jitflow decision).
UPDATE_SENDERS = {"send_decision", "FloorDriver.approve"}
UPDATE_CALLS = {
    "execute_update",
    "start_update",
    "execute_update_with_start_workflow",
    "start_update_with_start_workflow",
}
DECISION_BODIES = {"Decision", "Revocation", "Cancellation"}


def test_every_decision_goes_through_send_decision() -> None:
    """Decisions will carry a signature: the one function that sends them is the one to adapt."""
    senders: set[str] = set()
    for path in sorted(BENCH.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        owners = _enclosing_functions(tree)
        where = path.relative_to(BENCH.parent)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "jitflow.access_client":
                pytest.fail(f"{where}: decisions go through bench.measure.send_decision")
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = owners.get(node, "")
            if name in UPDATE_CALLS:
                assert owner in UPDATE_SENDERS, f"{where}:{node.lineno}: {name} in {owner!r}"
                senders.add(owner)
            if name in DECISION_BODIES:
                assert owner == "send_decision", f"{where}:{node.lineno}: {name} in {owner!r}"
    assert "send_decision" in senders


def test_mass_revocation_phase_sizes_and_the_summary_it_reads() -> None:
    from bench.removal import parse_summary

    assert parse_options([]).mass_grants == 1000
    assert parse_options(["--quick"]).mass_grants == 50
    assert parse_options(["--smoke"]).mass_grants <= 10
    assert "mass_revocation" in parse_options(["--smoke"]).phases
    assert parse_options(["--mass-grants", "7"]).mass_grants == 7
    printed = (
        "revoking 12/12: removed 10, already gone 1, failed 1\n"
        "mass revocation 0123456789ab by bob@example.com: 12 grants\n"
        "  removed       10\n  already gone  1\n  failed        1\n  took          2.5s\n"
    )
    assert parse_summary(printed) == {"removed": 10, "already_gone": 1, "failed": 1}


def test_a_failed_mass_revocation_is_a_problem() -> None:
    document = copy.deepcopy(CLEAN)
    document["mass_revocation"] = {
        "grants": 5,
        "escalated": 5,
        "setup_errors": 0,
        "first_setup_errors": [],
        "exit_code": 4,
        "output_tail": ["failed 1"],
        "summary": {"removed": 4, "already_gone": 0, "failed": 1},
        "never_removed": 1,
        "floor_removal": {"not_completed": 0},
    }
    problems = run_problems(document)
    assert any("exited 4" in problem for problem in problems)
    assert "mass revocation 5: revokes that failed: 1" in problems
    assert "mass revocation 5: memberships never removed: 1" in problems


def test_result_waits_are_bounded_and_runs_still_going_block_no_others() -> None:
    """Thousands of result long-polls at once exceed the dev server's namespace poller limit
    (the 3000-grant floor lost 2812 of its results that way): at most ``RESULT_POLLS`` wait at
    a time. Runs still going (requests waiting out their grace) fill every poll first here, yet
    each finished run behind them is seen; a failure and a ``None`` result come back as values,
    in order, and only the runs that never end are pending."""
    import asyncio

    from bench.measure import PENDING, RESULT_POLLS, bounded_results

    in_flight = [0, 0]  # now, most
    quick = RESULT_POLLS * 2

    async def never() -> None:
        in_flight[0] += 1
        in_flight[1] = max(in_flight[1], in_flight[0])
        try:
            await asyncio.Event().wait()
        finally:
            in_flight[0] -= 1

    async def finishes(value: int) -> int | None:
        await asyncio.sleep(0.001)
        if value == 7:
            raise RuntimeError("run 7 failed")
        return None if value == 8 else value

    async def scenario() -> tuple[list[Any], list[int]]:
        stuck: list[Any] = [never] * RESULT_POLLS
        done: list[Any] = [lambda v=value: finishes(v) for value in range(quick)]
        return await bounded_results([*stuck, *done], timeout=0.6, poll_s=0.05)

    values, pending = asyncio.run(scenario())
    assert pending == list(range(RESULT_POLLS))
    assert in_flight == [0, RESULT_POLLS]  # never more at once, and every poll cancelled
    finished = values[RESULT_POLLS:]
    assert all(value is not PENDING for value in finished)
    assert isinstance(finished[7], RuntimeError) and str(finished[7]) == "run 7 failed"
    assert finished[8] is None
    assert [v for i, v in enumerate(finished) if i not in (7, 8)] == [
        v for v in range(quick) if v not in (7, 8)
    ]


async def test_the_watcher_judges_a_grant_only_by_listings_asked_for_after_it_was_registered() -> (
    None
):
    """A grant registered while a round's listings were in flight is not in them yet: that round
    must not note it removed (it once did, giving 3000 grants lags of -550 s)."""
    from bench.fixtures import Pair
    from bench.measure import Grant
    from bench.run import RevocationWatcher

    def grant(user: str) -> Grant:
        pair = Pair(target="t", role_id="role", email=f"{user}@x", user_id=user, org_id="org")
        return Grant(pair=pair, handle=None, started=0.0, expires_at=time.time() + 60)  # type: ignore[arg-type]

    early, late = grant("early"), grant("late")
    asked = asyncio.Event()
    release = asyncio.Event()
    listings = 0

    class Emulator:
        async def members(self, role_id: str) -> set[str]:
            nonlocal listings
            listings += 1
            if listings == 1:
                asked.set()
                await release.wait()
                return {"early"}  # read before "late" was added
            return {"late"}  # "early" removed since; "late" present

    watcher = RevocationWatcher(Emulator())  # type: ignore[arg-type]
    watcher.register(early)
    stop = asyncio.Event()
    task = asyncio.create_task(watcher.run(stop))
    await asyncio.wait_for(asked.wait(), 5)
    watcher.register(late)
    release.set()
    while early.gone_at is None:
        await asyncio.sleep(0.01)
    assert late.gone_at is None
    assert set(watcher.outstanding) == {("role", "late")}
    watcher.outstanding.clear()
    stop.set()
    await asyncio.wait_for(task, 5)


def test_a_lingering_owner_s_removal_and_close_are_counted_apart() -> None:
    """The removal is the workflow task its lease-end timer woke; the close comes after the
    owner lingered (its own timer), and is not the removal's."""
    import json

    from google.protobuf import json_format
    from temporalio.api.enums.v1 import EventType
    from temporalio.api.history.v1 import History

    from bench.run import _removal_and_close

    path = REPO / "tests" / "histories" / "membership_owner_lingers_then_serves_a_new_grant.json"
    history = json_format.ParseDict(
        json.loads(path.read_text()), History(), ignore_unknown_fields=True
    )
    removal, close = _removal_and_close(list(history.events))
    names = [EventType.Name(event.event_type).removeprefix("EVENT_TYPE_") for event in removal]
    assert names == [
        "TIMER_FIRED",
        "WORKFLOW_TASK_SCHEDULED",
        "WORKFLOW_TASK_STARTED",
        "WORKFLOW_TASK_COMPLETED",
        "MARKER_RECORDED",
        "TIMER_STARTED",
    ]
    assert [EventType.Name(event.event_type) for event in close][-1] == (
        "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED"
    )
    assert len(close) == 5
