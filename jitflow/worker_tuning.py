"""How the worker runs workflows and keeps them in memory: the sandbox, the cache size and the
C allocator's thresholds.

Measured (``bench/README.md``, "worker memory" and "the workflow sandbox"): temporalio's default
sandbox re-imports and recompiles jitflow's workflow modules (``workflows/``) for every run,
about 230 KB per run, and a worker holding 1000 live grants holds 2000 runs (a request and an
owner each). Passing ``workflows`` through halved that, and left the sandbox guarding little of
jitflow's: a passed-through module's ``datetime``, ``random`` and ``time`` are the real ones
(only the builtins ``open``, ``input`` and ``breakpoint`` were still caught). What it still cost
was CPU on every workflow task: each payload in and out asks the sandbox for its serialization
context (an ``exec`` inside it, with its import guards applied and removed), which made a
request's replay 17 ms instead of 9 and an owner's 10 ms instead of 5. The worker therefore
runs workflows unsandboxed; ``JITFLOW_WORKFLOW_SANDBOX=on`` puts the sandbox back (with
``workflows`` passed through), for whoever changes the workflow modules and wants the run-time
guard on ``open`` and the sandbox's import checks back while they try it.

What keeps the workflows deterministic without it: ``tests/test_workflow_determinism.py``
reads the source of ``workflows/`` and refuses clock reads, random numbers, threads, executors,
the event loop's clock, caches and I/O, which is the only guard for the helper modules (even in
a strict sandbox, what a workflow module imports inside ``imports_passed_through()`` is the real
thing); the replay tests (``temporalio.worker.Replayer``) and the fake-activity tests run the
modules that define workflows in temporalio's default, strict sandbox, named in the tests; and
the modules hold no state of their own (constants only; the trust directory they read is filled
by the worker's start-up and read only by update validators), so runs share nothing that
changes. User code (reducers and hooks) never runs in a workflow: it runs in activities on the
hooks task queue.

The cache holds 2000 runs, the runs of up to about 1000 live grants (a request and an owner each;
requests waiting for a decision and lingering owners take places too), chosen from measurement
(``bench/README.md``, "the workflow cache"): ``jitflow revoke --all`` touches both runs of every
grant (a ``status`` query, then the owner's release). With 1000 runs, once
the cached half was done every touch missed the cache (34 to 74 misses a second in the worker's
metrics), each a replay, and workflow tasks took 0.4 to 1.3 s instead of 0.1 to 0.2 s; the last
of 1000 memberships went 24 s after the command, against 11.5 s with every run cached, for 107 KB
per extra cached run (worker peak RSS 439 MB instead of 332 MB at 1000 live grants). Memory grows
with live grants up to the cap, then stays flat; a smaller cache (``JITFLOW_WORKFLOW_CACHE``)
trades that memory for replays when many grants are touched at once, and with 500 runs or fewer
a burst of grants made ``status`` queries time out.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Mapping
from datetime import timedelta

from temporalio.worker import (
    PollerBehaviorAutoscaling,
    UnsandboxedWorkflowRunner,
    WorkflowRunner,
)
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from jitflow.contracts.membership import OWNER_LINGER_LIMIT

#: The project's workflow package, passed through when the sandbox is on (imported once per
#: worker process instead of once per run).
WORKFLOW_PACKAGE = "workflows"
WORKFLOW_CACHE_ENV = "JITFLOW_WORKFLOW_CACHE"
SANDBOX_ENV = "JITFLOW_WORKFLOW_SANDBOX"
#: Workflow runs kept in memory; a run not cached replays its history when it next wakes.
DEFAULT_WORKFLOW_CACHE = 2000


def workflow_runner(environ: Mapping[str, str] | None = None) -> WorkflowRunner:
    """No sandbox, unless ``$JITFLOW_WORKFLOW_SANDBOX`` is ``on``: then temporalio's, with
    jitflow's workflow modules passed through."""
    given = (environ if environ is not None else os.environ).get(SANDBOX_ENV, "")
    value = given.strip().lower()
    if value in ("", "off"):
        return UnsandboxedWorkflowRunner()
    if value == "on":
        restrictions = SandboxRestrictions.default.with_passthrough_modules(WORKFLOW_PACKAGE)
        return SandboxedWorkflowRunner(restrictions=restrictions)
    raise ValueError(f"{SANDBOX_ENV}={given!r}: give on or off")


def task_pollers() -> PollerBehaviorAutoscaling:
    """How a worker polls its task queues: as many polls as the server's backlog calls for.
    temporalio's default, five fixed activity polls, took removals waiting in the queue when
    1000 grants ended together at about ten a second (the round trips of five polls to a busy
    server): the last was removed after 66 s, against 43 s with this (the removal floor: 25 to
    33 s). Never fewer than those five, though: with one poll left when the backlog is short,
    each step of a revoke waited for that poll's round trip. The benchmark's floor worker polls
    the same way, so the ratio stays fair."""
    return PollerBehaviorAutoscaling(minimum=5, initial=5, maximum=100)


def workflow_task_pollers() -> PollerBehaviorAutoscaling:
    """Workflow task polls: never fewer than 25. The server's backlog hints scale the normal
    queue's polls, but the worker's sticky queue (where a cached run's next task goes) stayed at
    the minimum: with 5, when 1000 grants ended together, removal tasks waited up to 9 s on the
    sticky queue (then the 10 s sticky timeout sent them to the normal queue) while 5 of the
    worker's 100 workflow task slots were busy (temporalio's metrics, ``bench/README.md``)."""
    return PollerBehaviorAutoscaling(minimum=25, initial=25, maximum=100)


#: Activities the main worker runs at once. All but the configuration step are async and hold no
#: thread: a request's ``release_lease`` waits on its owner's removal, holding only a slot. With
#: as many slots as threads, a thousand grants ending together filled every slot with releases
#: waiting for removals that could not start for want of a slot (until the releases' RPC
#: deadlines passed), and removals lagged by minutes. (The benchmark's floor worker has as many.)
ACTIVITY_SLOTS = 2000

OWNER_LINGER_ENV = "JITFLOW_OWNER_LINGER"
#: Seconds a membership owner stays open after its removal (``RoleMembershipInput.linger``).
DEFAULT_OWNER_LINGER = 30


def owner_linger(environ: Mapping[str, str] | None = None) -> timedelta:
    """``$JITFLOW_OWNER_LINGER`` (whole seconds, 0 to 600; 0 closes an owner with its removal),
    else 30 s: long enough that when many grants end together, the owners' closes (each a
    visibility write on the server) come after the removals still due, not between them."""
    given = (environ if environ is not None else os.environ).get(OWNER_LINGER_ENV, "")
    value = given.strip()
    if not value:
        return timedelta(seconds=DEFAULT_OWNER_LINGER)
    most = int(OWNER_LINGER_LIMIT.total_seconds())
    if not value.isdigit() or int(value) > most:
        raise ValueError(f"{OWNER_LINGER_ENV}={given!r}: give whole seconds from 0 to {most}")
    return timedelta(seconds=int(value))


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
