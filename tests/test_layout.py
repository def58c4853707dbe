"""The house rules of the layout, checked on the source: who may import whom.

Rooms talk through ``jitflow.contracts``; ``workflows/`` never imports ``activities/``; test
helpers are a leaf that only tests and benchmarks import; and no two rooms import each other.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["workflows", "activities", "reducers", "jitflow", "worker.py", "bench"]


def _python_files() -> list[Path]:
    files: list[Path] = []
    for name in SOURCES:
        path = ROOT / name
        files += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return files


def _module_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth of its code (lazy imports included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def room(module: str) -> str | None:
    """The room a module belongs to; None for third-party modules."""
    parts = module.split(".")
    if parts[0] == "jitflow" and len(parts) > 1:
        if parts[1] in ("contracts", "testing"):
            return f"jitflow.{parts[1]}"
        if parts[1] in ("cli", "devstack", "__main__"):
            return "entry points"
        return "jitflow"
    if parts[0] in ("worker", "jitflow"):
        return "entry points" if parts[0] == "worker" else "jitflow"
    if parts[0] in ("workflows", "activities", "reducers", "bench"):
        return parts[0]
    return None


def test_workflows_import_no_activity_code() -> None:
    for path in (ROOT / "workflows").rglob("*.py"):
        bad = {m for m in _imports(path) if m.split(".")[0] == "activities"}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_test_helpers_are_imported_by_tests_and_benchmarks_only() -> None:
    for path in _python_files():
        if path.is_relative_to(ROOT / "bench") or path.is_relative_to(ROOT / "jitflow/testing"):
            continue
        bad = {m for m in _imports(path) if m.startswith("jitflow.testing")}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_contracts_depend_on_nothing_of_the_project() -> None:
    for path in (ROOT / "jitflow/contracts").rglob("*.py"):
        rooms = {room(m) for m in _imports(path)} - {None, "jitflow.contracts"}
        assert not rooms, f"{path.relative_to(ROOT)} imports from {sorted(rooms)}"


def test_no_import_cycle_between_rooms() -> None:
    edges: dict[str, set[str]] = defaultdict(set)
    for path in _python_files():
        source = room(_module_of(path))
        for module in _imports(path):
            target = room(module)
            if source and target and target != source:
                edges[source].add(target)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in edges.get(start, set()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    cycles = sorted(
        f"{a} -> {b} -> ... -> {a}" for a in list(edges) for b in edges[a] if reaches(b, a, {b})
    )
    assert not cycles, (cycles, dict(edges))


def test_reducers_holds_only_the_users_room() -> None:
    names = {p.name for p in (ROOT / "reducers").iterdir() if p.name != "__pycache__"}
    assert names == {"__init__.py", "README.md", "aptible_access.py"}
