"""Issue 9's targets checked against one run, what went wrong in it apart from speed, and the
short table ``make bench`` prints."""

from __future__ import annotations

from typing import Any

TOKEN_LIFETIME_S = 3600
"""The lifetime the worker's Aptible client asks for (``AptibleClient(token_lifetime=3600)``)."""


def _judged_revocation(document: dict[str, Any]) -> dict[str, Any] | None:
    """The run the targets speak of: 1000 live grants when there is one, else the largest (a
    3000-grant run is reported, not judged)."""
    runs: list[dict[str, Any]] = document.get("revocation") or []
    if not runs:
        return None
    return next(
        (run for run in runs if run["grants"] == 1000), max(runs, key=lambda r: r["grants"])
    )


def _target(name: str, wanted: str, value: float | int | None, met: bool | None) -> dict[str, Any]:
    return {"name": name, "target": wanted, "value": value, "met": met}


def evaluate_targets(document: dict[str, Any]) -> list[dict[str, Any]]:
    targets: list[dict[str, Any]] = []
    if "latency" in document:
        p99 = document["latency"]["approve_to_escalated_ms"]["p99"]
        met = None if p99 is None else p99 < 150
        targets.append(_target("approve -> escalated p99 (ms)", "< 150", p99, met))
    judged = _judged_revocation(document)
    if judged is not None:
        n = judged["grants"]
        lag = judged["lag_ms"]
        targets.append(
            _target(
                f"revocation lag p99 at {n} grants (ms)",
                "< 1000",
                lag["p99"],
                None if lag["p99"] is None else lag["p99"] < 1000,
            )
        )
        targets.append(
            _target(
                f"revocation lag max at {n} grants (ms)",
                "< 2000",
                lag["max"],
                None if lag["max"] is None else lag["max"] < 2000,
            )
        )
        never = sum(run["never_revoked"] for run in document["revocation"])
        targets.append(
            _target("grants not revoked within the grace (all runs)", "0", never, never == 0)
        )
        calls = judged["aptible_calls"]
        targets.append(
            _target(
                "Aptible calls per escalation",
                "<= 2",
                calls["per_escalation"],
                calls["per_escalation"] <= 2,
            )
        )
        targets.append(
            _target(
                "Aptible calls per de-escalation",
                "<= 1",
                calls["per_deescalation"],
                calls["per_deescalation"] <= 1,
            )
        )
        rss = judged["worker_peak_rss_mb"]
        targets.append(
            _target(f"worker peak RSS at {judged['grants']} grants (MB)", "< 250", rss, rss < 250)
        )
    tokens = document.get("token_requests_whole_run", 0)
    lifetimes = max(1, -(-int(document["wall_time_s"]) // TOKEN_LIFETIME_S))
    targets.append(
        _target(
            "token requests per worker per token lifetime",
            "1",
            tokens / lifetimes,
            1 <= tokens <= lifetimes,
        )
    )
    ratio = document["ratios"].get("throughput_vs_floor")
    if "throughput" in document:
        targets.append(
            _target(
                "lifecycle throughput / floor",
                ">= 0.5",
                ratio,
                None if ratio is None else ratio >= 0.5,
            )
        )
    return targets


def run_problems(document: dict[str, Any]) -> list[str]:
    """What went wrong in a run other than speed: errors, runs that never ended, memberships
    never granted or still present when the run was done, refused or mis-ended decisions.
    Never a latency, rate or lag: a smoke run (``--smoke``) fails on these and on nothing else.
    (A request still open after its news grace, which a lost lease news leaves to, shows up
    here too.)"""
    problems: list[str] = []

    def check(count: int | None, what: str) -> None:
        if count:
            problems.append(f"{what}: {count}")

    latency = document.get("latency")
    if latency is not None:
        check(latency["memberships_not_seen"], "latency: approved requests with no membership")
        check(latency["runs_not_completed"], "latency: runs that failed or never ended")
        check(
            latency.get("owners_open_before_floor"),
            "latency: membership owners still open when the floor ran",
        )
    floor_latency = document.get("floor_latency")
    if floor_latency is not None:
        check(floor_latency["runs_not_completed"], "floor latency: runs that failed or never ended")
    for key, name in (("throughput", "throughput"), ("floor_throughput", "floor throughput")):
        run = document.get(key)
        if run is None:
            continue
        check(run["errors"], f"{name}: lifecycles that failed")
        check(
            run.get("owners_open_before_floor"),
            f"{name}: membership owners still open when the next measurement began",
        )
        for error in run["first_errors"]:
            problems.append(f"{name}: {error}")
        if not run["completed"]:
            problems.append(f"{name}: no lifecycle completed")
    for run in document.get("revocation") or []:
        n = run["grants"]
        memory_floor = run.get("floor_memory")
        if memory_floor is not None:
            check(memory_floor["errors"], f"memory floor {n}: floor grants that failed to set up")
            problems.extend(f"memory floor {n}: {error}" for error in memory_floor["first_errors"])
            check(
                memory_floor["runs_held"] - memory_floor["released"],
                f"memory floor {n}: held runs that did not end cancelled",
            )
        check(run["setup_errors"], f"revocation {n}: grants that failed to set up")
        for error in run["first_setup_errors"]:
            problems.append(f"revocation {n}: {error}")
        check(run["grants"] - run["escalated"], f"revocation {n}: grants never escalated")
        check(run["runs_not_completed"], f"revocation {n}: runs that failed or never ended")
        check(run["still_present_after_drain"], f"revocation {n}: memberships never removed")
        for error in run["poll_errors"]:
            problems.append(f"revocation {n}: emulator poll failed: {error}")
        check(
            run.get("owners_open_before_floor"),
            f"revocation {n}: membership owners still open when the floor ran",
        )
        floor = run.get("floor_removal")
        if floor is not None:
            check(floor["not_completed"], f"floor removal {n}: runs that failed or never ended")
    mass = document.get("mass_revocation")
    if mass is not None:
        n = mass["grants"]
        check(mass["setup_errors"], f"mass revocation {n}: grants that failed to set up")
        problems += [f"mass revocation {n}: {error}" for error in mass["first_setup_errors"]]
        check(mass["grants"] - mass["escalated"], f"mass revocation {n}: grants never escalated")
        if mass["exit_code"] != 0:
            problems.append(
                f"mass revocation {n}: jitflow revoke --all exited {mass['exit_code']}: "
                + " | ".join(mass["output_tail"])
            )
        check(mass["summary"].get("failed"), f"mass revocation {n}: revokes that failed")
        check(mass["never_removed"], f"mass revocation {n}: memberships never removed")
        check(
            mass.get("runs_not_completed"), f"mass revocation {n}: runs that failed or never ended"
        )
        check(
            mass.get("owners_open_before_floor"),
            f"mass revocation {n}: membership owners still open when the floor ran",
        )
        check(
            mass["floor_removal"]["not_completed"],
            f"floor removal {n}: runs that failed or never ended",
        )
    decisions = document.get("decisions")
    if decisions is not None:
        problems += decisions["problems"]
    return problems


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 10 else f"{value:.0f}"
    return str(value)


def render_table(document: dict[str, Any]) -> str:
    lines: list[str] = []
    machine = document["machine"]
    lines.append(
        f"jitflow bench ({document['mode']}), {machine['cpus_usable']} CPUs, Python "
        f"{machine['python']}, temporalio {machine['temporalio']}, "
        f"load {machine['load_average_at_start']} -> {machine['load_average_at_end']}, "
        f"{document['wall_time_s']:.0f} s"
    )
    lines.append("")
    row = "{:<44} {:>9} {:>9} {:>9} {:>9}"
    lines.append(row.format("figure", "p50", "p95/p99", "max", "floor p50"))
    if "latency" in document:
        jit = document["latency"]["approve_to_escalated_ms"]
        floor = document["floor_latency"]["approve_to_granted_ms"]
        lines.append(
            row.format(
                f"approve -> escalated ms (n={jit['n']})",
                _fmt(jit["p50"]),
                f"{_fmt(jit['p95'])}/{_fmt(jit['p99'])}",
                _fmt(jit["max"]),
                _fmt(floor["p50"]),
            )
        )
    for run in document.get("revocation", []):
        lag = run["lag_ms"]
        lines.append(
            row.format(
                f"revocation lag ms, {run['grants']} grants",
                _fmt(lag["p50"]),
                f"-/{_fmt(lag['p99'])}",
                _fmt(lag["max"]),
                "",
            )
        )
    lines.append("")
    pair = "{:<44} {:>12} {:>12}"
    lines.append(pair.format("", "jitflow", "floor"))
    if "throughput" in document:
        mine, floor = document["throughput"], document["floor_throughput"]
        rounds = mine.get("rounds", 1)
        lines.append(
            pair.format(
                f"lifecycles/s at concurrency {mine['concurrency']}"
                + (f", median of {rounds}" if rounds > 1 else ""),
                _fmt(mine["per_s"]),
                _fmt(floor["per_s"]),
            )
        )
        if rounds > 1:
            for index, (a, b) in enumerate(
                zip(mine["per_s_by_round"], floor["per_s_by_round"], strict=True), 1
            ):
                lines.append(pair.format(f"  round {index}", _fmt(a), _fmt(b)))
    for run in document.get("revocation", []):
        calls = run["aptible_calls"]
        lines.append(
            pair.format(
                f"{run['grants']} grants: expiry spread s", _fmt(run["expiry_spread_s"]), ""
            )
        )
        lines.append(
            pair.format(
                f"{run['grants']} grants: unrevoked after grace / drain",
                run["never_revoked"],
                run.get("still_present_after_drain", "-"),
            )
        )
        lines.append(
            pair.format(
                f"{run['grants']} grants: calls per esc. / de-esc.",
                _fmt(calls["per_escalation"]),
                _fmt(calls["per_deescalation"]),
            )
        )
        held = (run.get("floor_memory") or {}).get("worker_peak_rss_mb", "")
        lines.append(
            pair.format(
                f"{run['grants']} grants: worker peak RSS MB", run["worker_peak_rss_mb"], held
            )
        )
    growth = rss_growth_per_1000(document.get("revocation", []))
    if growth is not None:
        lines.append(pair.format("worker RSS growth per 1000 grants MB", _fmt(growth), ""))
    for run in document.get("revocation", []):
        floor = run.get("floor_removal") or {}
        lines.append(
            pair.format(
                f"{run['grants']} ending together: last removed s",
                _fmt((run["lag_ms"]["max"] or 0) / 1000 if run["lag_ms"]["max"] else None),
                _fmt(floor.get("drain_s")),
            )
        )
    mass = document.get("mass_revocation")
    if mass is not None:
        lines.append(
            pair.format(
                f"revoke --all of {mass['grants']}: last gone s",
                _fmt(mass["last_gone_s"]),
                _fmt(mass["floor_removal"]["drain_s"]),
            )
        )
        summary = mass["summary"]
        lines.append(
            pair.format(
                f"revoke --all of {mass['grants']}: removed / failed",
                summary.get("removed", "-"),
                summary.get("failed", "-"),
            )
        )
    lines.append(
        pair.format("token requests (whole run)", document["token_requests_whole_run"], "")
    )
    ratios = document["ratios"]
    lines.append(
        pair.format(
            "ratio to floor: throughput / latency p50",
            _fmt(ratios.get("throughput_vs_floor")),
            _fmt(ratios.get("latency_p50_vs_floor")),
        )
    )
    if ratios.get("mass_revocation_vs_floor_drain") is not None:
        lines.append(
            pair.format(
                "ratio to fastest removal floor: revoke --all",
                _fmt(ratios["mass_revocation_vs_floor_drain"]),
                "",
            )
        )
    decisions = document.get("decisions")
    if decisions is not None:
        ended = [
            f"{kind} -> {decisions[kind]['ended']}"
            for kind in ("deny", "revoke")
            if decisions[kind]
        ]
        lines.append("decisions: " + (", ".join(ended) or "none"))
    lines.append("")
    if document["mode"] == "smoke":
        lines.append("targets: not judged (a smoke run checks that the benchmark works)")
    else:
        lines.append("targets (issue 9):")
    for target in document["targets"]:
        mark = {True: "ok  ", False: "MISS", None: "n/a "}[target["met"]]
        lines.append(
            f"  {mark} {target['name']}: {_fmt(target['value'])} (target {target['target']})"
        )
    problems = document.get("problems") or []
    lines.append("")
    lines.append(f"problems other than speed: {len(problems) or 'none'}")
    lines += [f"  {problem}" for problem in problems]
    return "\n".join(lines)


def rss_growth_per_1000(runs: list[dict[str, Any]]) -> float | None:
    """How much the worker's peak RSS grows per 1000 live grants, between the smallest and the
    largest revocation run (None with fewer than two sizes)."""
    sizes = sorted(runs, key=lambda run: run["grants"])
    if len(sizes) < 2 or sizes[-1]["grants"] == sizes[0]["grants"]:
        return None
    low, high = sizes[0], sizes[-1]
    rise = high["worker_peak_rss_mb"] - low["worker_peak_rss_mb"]
    return round(rise / (high["grants"] - low["grants"]) * 1000, 1)
