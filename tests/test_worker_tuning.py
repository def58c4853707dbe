"""The worker's memory settings (``jitflow/worker_tuning.py``): what they are and how a bad
value is refused. What they save is measured by the benchmark, not here."""

from __future__ import annotations

import pytest

from jitflow.worker_tuning import (
    WORKFLOW_PACKAGE,
    workflow_cache_size,
    workflow_runner,
)


def test_the_worker_passes_its_workflow_modules_through_and_nothing_else_new() -> None:
    restrictions = workflow_runner().restrictions
    assert WORKFLOW_PACKAGE in restrictions.passthrough_modules
    assert not restrictions.passthrough_all_modules
    # The sandbox's guards on the standard library stay as temporalio ships them.
    assert restrictions.invalid_module_members is not None


def test_the_cache_size_is_a_whole_number_or_a_clear_error() -> None:
    assert workflow_cache_size({}) == 1000
    assert workflow_cache_size({"JITFLOW_WORKFLOW_CACHE": "400"}) == 400
    with pytest.raises(ValueError, match="JITFLOW_WORKFLOW_CACHE='lots'"):
        workflow_cache_size({"JITFLOW_WORKFLOW_CACHE": "lots"})
