"""The worker passes ``workflows/`` through the sandbox (``jitflow/worker_tuning.py``), so the
sandbox no longer stops a clock, random number or I/O call written there: this reads the source
and refuses them instead, before any history could record one."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from jitflow.worker_tuning import WORKFLOW_PACKAGE

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW_FILES = sorted((ROOT / WORKFLOW_PACKAGE).glob("*.py"))

#: What workflow code may import: deterministic standard modules, Temporal's workflow API, the
#: contracts and the pure trust checks (used by update validators, which never run on replay).
ALLOWED_IMPORTS = (
    "__future__",
    "asyncio",
    "collections.abc",
    "contextlib",
    "dataclasses",
    "datetime",
    "enum",
    "functools",
    "typing",
    "temporalio",
    "workflows",
    "jitflow.contracts",
    "jitflow.trust.checks",
    "jitflow.trust.directory",
)
#: ``datetime.now()`` and its kin read the machine's clock; ``workflow.now()`` is the one to use.
CLOCK_CALLS = {"now", "utcnow", "today", "fromtimestamp", "utcfromtimestamp"}
FORBIDDEN_BUILTINS = {"open", "input", "print", "exec", "eval", "compile", "__import__"}


def _allowed(module: str) -> bool:
    return any(module == root or module.startswith(root + ".") for root in ALLOWED_IMPORTS)


def _problems(path: Path, source: str) -> list[str]:
    problems: list[str] = []
    for node in ast.walk(ast.parse(source)):
        where = f"{path.name}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import):
            problems += [f"{where}: import {a.name}" for a in node.names if not _allowed(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if not _allowed(node.module):
                problems.append(f"{where}: from {node.module} import ...")
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in FORBIDDEN_BUILTINS:
                problems.append(f"{where}: {func.id}()")
            if (
                isinstance(func, ast.Attribute)
                and func.attr in CLOCK_CALLS
                and isinstance(func.value, ast.Name)
                and func.value.id in {"datetime", "date"}
            ):
                problems.append(f"{where}: {func.value.id}.{func.attr}() reads the clock")
    return problems


def test_workflow_code_has_no_clock_randomness_io_or_threads() -> None:
    assert WORKFLOW_FILES, f"no workflow modules found under {ROOT / WORKFLOW_PACKAGE}"
    problems = [p for f in WORKFLOW_FILES for p in _problems(f, f.read_text())]
    assert not problems, "non-deterministic code in workflows/:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    "line",
    [
        "import time",
        "import random",
        "from uuid import uuid4",
        "import threading",
        "import httpx",
        "from activities.membership import MembershipActivities",
        "from jitflow.identity import IdentityStore",
        "x = datetime.now()",
        "x = date.today()",
        "open('f')",
    ],
)
def test_each_kind_of_non_determinism_is_caught(line: str) -> None:
    assert _problems(Path("workflows/example.py"), line), line


def test_deterministic_code_passes() -> None:
    source = (
        "from datetime import timedelta\n"
        "from temporalio import workflow\n"
        "from jitflow.contracts.access import AccessState\n"
        "x = workflow.now() + timedelta(seconds=1)\n"
    )
    assert _problems(Path("workflows/example.py"), source) == []
