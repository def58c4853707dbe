"""The worker runs workflows without temporalio's sandbox (``jitflow/worker_tuning.py``), and
even the tests' strict sandbox only guards the bodies of the modules that define workflows (what
they import inside ``workflow.unsafe.imports_passed_through()`` is the real thing there too), so
nothing at run time stops a clock, random number, thread or I/O call written in ``workflows/``:
this reads the source and refuses them instead, before any history could record one."""

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
#: asyncio is allowed for its deterministic parts (gather, wait, Event...); these leave the
#: workflow's event loop for threads or read the loop's clock.
FORBIDDEN_ATTRIBUTES = {
    "to_thread",
    "run_in_executor",
    "get_event_loop",
    "get_running_loop",
    "new_event_loop",
    "time",
    "sleep",
    "lru_cache",
    "cache",
}
#: ``workflow.sleep`` is the durable timer; only ``asyncio.sleep`` and ``time.sleep`` are refused.
_SLEEP_OWNERS = {"asyncio", "time"}


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
            problems += [
                f"{where}: from {node.module} import {a.name}"
                for a in node.names
                if a.name in FORBIDDEN_ATTRIBUTES | CLOCK_CALLS and a.name != "sleep"
            ]
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in FORBIDDEN_BUILTINS:
                problems.append(f"{where}: {func.id}()")
            owner = (
                func.value.id
                if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
                else ""
            )
            if isinstance(func, ast.Attribute) and func.attr in CLOCK_CALLS and owner != "workflow":
                # datetime.now(), date.today(), datetime.datetime.now(), or any alias of them:
                # nothing in workflow code has a method of these names but the clock's (and
                # temporalio's workflow.now(), the replayed clock).
                problems.append(f"{where}: .{func.attr}() reads the clock")
        elif isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRIBUTES:
            owner = node.value.id if isinstance(node.value, ast.Name) else ""
            if node.attr != "sleep" or owner in _SLEEP_OWNERS:
                problems.append(f"{where}: {owner or '...'}.{node.attr}")
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
        "x = datetime.datetime.now()",
        "x = dt.utcnow()",
        "open('f')",
        "await asyncio.to_thread(f)",
        "await asyncio.get_running_loop().run_in_executor(None, f)",
        "x = asyncio.get_event_loop().time()",
        "await asyncio.sleep(1)",
        "@functools.lru_cache\ndef f(): pass",
        "from functools import cache",
        "from asyncio import to_thread",
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
        "await workflow.sleep(timedelta(seconds=1))\n"
        "await asyncio.gather(asyncio.wait_for(f(), 1))\n"
    )
    assert _problems(Path("workflows/example.py"), source) == []
