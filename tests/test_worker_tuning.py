"""The worker's sandbox and memory settings (``jitflow/worker_tuning.py``): what they are and how a bad
value is refused. What they save is measured by the benchmark, not here."""

from __future__ import annotations

import pytest
from temporalio.worker import PollerBehaviorAutoscaling, UnsandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from jitflow.worker_tuning import (
    DEFAULT_WORKFLOW_CACHE,
    WORKFLOW_PACKAGE,
    task_pollers,
    tune_allocator,
    workflow_cache_size,
    workflow_runner,
)


def test_the_worker_runs_workflows_unsandboxed_unless_told() -> None:
    """The sandbox cost CPU on every workflow task (bench/README.md); the determinism it
    guarded is kept by the source check and by the tests' strict sandbox."""
    assert isinstance(workflow_runner({}), UnsandboxedWorkflowRunner)
    assert isinstance(
        workflow_runner({"JITFLOW_WORKFLOW_SANDBOX": "off"}), UnsandboxedWorkflowRunner
    )


def test_the_sandbox_when_asked_passes_the_workflow_modules_through_and_nothing_else_new() -> None:
    runner = workflow_runner({"JITFLOW_WORKFLOW_SANDBOX": " On "})
    assert isinstance(runner, SandboxedWorkflowRunner)
    restrictions = runner.restrictions
    assert WORKFLOW_PACKAGE in restrictions.passthrough_modules
    assert not restrictions.passthrough_all_modules
    # The sandbox's guards on the standard library stay as temporalio ships them.
    assert restrictions.invalid_module_members is not None


def test_a_bad_sandbox_setting_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="JITFLOW_WORKFLOW_SANDBOX='maybe': give on or off"):
        workflow_runner({"JITFLOW_WORKFLOW_SANDBOX": "maybe"})


def test_the_cache_size_is_a_whole_number_or_a_clear_error() -> None:
    assert workflow_cache_size({}) == DEFAULT_WORKFLOW_CACHE
    assert workflow_cache_size({"JITFLOW_WORKFLOW_CACHE": "400"}) == 400
    with pytest.raises(ValueError, match="JITFLOW_WORKFLOW_CACHE='lots'"):
        workflow_cache_size({"JITFLOW_WORKFLOW_CACHE": "lots"})


def test_the_allocator_thresholds_are_set_where_the_c_library_is_glibc() -> None:
    import platform

    if platform.libc_ver()[0] != "glibc":
        assert tune_allocator() is False
    else:
        assert tune_allocator() is True


def test_workers_poll_as_the_backlog_calls_for() -> None:
    """Five fixed polls took queued removals at about ten a second when 1000 grants ended
    together (bench/README.md); autoscaled polls keep up with the server's backlog."""
    pollers = task_pollers()
    assert isinstance(pollers, PollerBehaviorAutoscaling)
    assert pollers.maximum > 5 and pollers.minimum >= 1


def test_the_worker_reports_every_bad_setting_at_once_before_it_connects() -> None:
    from worker import WorkerConfigError, check_worker_settings

    with pytest.raises(WorkerConfigError) as raised:
        check_worker_settings(
            {
                "JITFLOW_WORKFLOW_CACHE": "lots",
                "JITFLOW_WORKFLOW_SANDBOX": "maybe",
                "JITFLOW_EXPIRY_GUARD_GRACE": "soon",
            }
        )
    message = str(raised.value)
    for bad in ("JITFLOW_WORKFLOW_CACHE='lots'", "JITFLOW_WORKFLOW_SANDBOX='maybe'", "soon"):
        assert bad in message
    assert check_worker_settings({}).total_seconds() == 300


def test_owners_linger_30_s_unless_told_and_a_bad_value_is_refused_naming_it() -> None:
    from datetime import timedelta

    from jitflow.worker_tuning import OWNER_LINGER_ENV, owner_linger

    assert owner_linger({}) == timedelta(seconds=30)
    assert owner_linger({OWNER_LINGER_ENV: " 0 "}) == timedelta(0)
    assert owner_linger({OWNER_LINGER_ENV: "600"}) == timedelta(minutes=10)
    for bad in ("soon", "-5", "601", "1.5"):
        with pytest.raises(ValueError) as raised:
            owner_linger({OWNER_LINGER_ENV: bad})
        assert f"{OWNER_LINGER_ENV}={bad!r}" in str(raised.value)
