"""How the worker keeps workflows in memory: the sandbox's pass-through, the cache size and
the C allocator's thresholds.

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

The cache stays at 1000 runs: the rest of a run's ~130 KB is temporalio's own (its core's state
machines and buffers), and a smaller cache replays evicted runs on every query and update,
which under a burst of grants made ``status`` queries time out (``bench/README.md``).
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Mapping

from temporalio.worker import PollerBehaviorAutoscaling
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


def task_pollers() -> PollerBehaviorAutoscaling:
    """How a worker polls its task queues: as many polls as the server's backlog calls for.
    temporalio's default, five fixed activity polls, took removals waiting in the queue when
    1000 grants ended together at about ten a second (the round trips of five polls to a busy
    server): the last was removed after 66 s, against 43 s with this (the removal floor: 25 to
    33 s). Never fewer than those five, though: with one poll left when the backlog is short,
    each step of a revoke waited for that poll's round trip. The benchmark's floor worker polls
    the same way, so the ratio stays fair."""
    return PollerBehaviorAutoscaling(minimum=5, initial=5, maximum=100)


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


#: glibc's thresholds (bytes) above which freed memory goes back to the system: its defaults grow
#: with the process's peak (up to 32 MB), which keeps the owners' freed history buffers resident.
ALLOCATOR_THRESHOLD = 128 * 1024
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def tune_allocator() -> bool:
    """Fix glibc malloc's trim and mmap thresholds (as ``MALLOC_TRIM_THRESHOLD_`` and
    ``MALLOC_MMAP_THRESHOLD_`` would) so that memory freed by evicted and finished workflow runs
    is returned; measured with ``bench.memory_probe``. False where the C library is not glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    trimmed = mallopt(_M_TRIM_THRESHOLD, ALLOCATOR_THRESHOLD)
    mapped = mallopt(_M_MMAP_THRESHOLD, ALLOCATOR_THRESHOLD)
    return bool(trimmed and mapped)
