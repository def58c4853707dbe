"""How the worker keeps workflows in memory: the sandbox's pass-through and the cache size.

Measured (``bench/README.md``, "worker memory"): with temporalio's default sandbox every cached
workflow run re-imports and recompiles jitflow's own workflow modules (``workflows/``), about
230 KB per run; a worker holding 1000 live grants holds 2000 runs (a request and an owner each).
Passing ``workflows`` through (imported once per process, like ``jitflow.contracts`` already is)
halves that and removes the per-run compile from every cache miss.

What the pass-through gives up is the sandbox's run-time guard on that code: a ``datetime.now()``
written in ``workflows/`` would not be stopped by the production worker. Three things keep that
guard: ``tests/test_workflow_determinism.py`` refuses clocks, randomness, I/O and threads in
``workflows/`` by reading the source; the replay tests (``temporalio.worker.Replayer``) and the
fake-activity tests run the workflows in the default, strict sandbox; and the modules hold no
state of their own (constants only), so sharing them between runs shares nothing that changes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

#: The project's workflow package, imported once per worker process instead of once per run.
WORKFLOW_PACKAGE = "workflows"
WORKFLOW_CACHE_ENV = "JITFLOW_WORKFLOW_CACHE"
#: Workflow runs kept in memory; a run not cached replays its history when it next wakes.
DEFAULT_WORKFLOW_CACHE = 1000


def workflow_runner() -> SandboxedWorkflowRunner:
    """temporalio's sandbox with jitflow's workflow modules passed through."""
    restrictions = SandboxRestrictions.default.with_passthrough_modules(WORKFLOW_PACKAGE)
    return SandboxedWorkflowRunner(restrictions=restrictions)


def workflow_cache_size(environ: Mapping[str, str] | None = None) -> int:
    """``$JITFLOW_WORKFLOW_CACHE`` (a whole number of runs, 0 for none), else the default."""
    value = (environ if environ is not None else os.environ).get(WORKFLOW_CACHE_ENV, "").strip()
    if not value:
        return DEFAULT_WORKFLOW_CACHE
    if not value.isdigit():
        raise ValueError(
            f"{WORKFLOW_CACHE_ENV}={value!r}: give the number of workflow runs to keep in memory"
        )
    return int(value)
