"""Configuration checks of every flow's reducers, for ``jitflow validate`` and worker start."""

from __future__ import annotations

from collections import defaultdict

from jitflow.config.issues import ConfigIssue
from jitflow.config.models import JitflowConfig
from jitflow.reducer_runtime.call_checks import call_issues
from jitflow.reducer_runtime.errors import ImplementationError
from jitflow.reducer_runtime.loader import implementation_path, load_implementation
from jitflow.reducer_runtime.options import hook_options
from jitflow.reducer_runtime.prompt_checks import prompt_field_problems


def check_implementations(config: JitflowConfig) -> list[str]:
    """Every problem with the flows' implementations and hook options, as error texts.

    Each text names the flow and, for code, the file, the line and the function. An empty list
    means every flow's module loads and its handlers have names and signatures jitflow calls.
    """
    errors: list[str] = []
    flows_by_file: dict[str, list[str]] = defaultdict(list)
    first_flow: dict[str, str] = {}
    for key, flow in sorted(config.flows.items()):
        try:
            hook_options(flow)
        except ValueError as error:
            errors.append(str(error))
        if flow.implementation is None:
            continue
        try:
            where = str(implementation_path(flow.implementation, flow))
        except ImplementationError as error:
            errors.extend(f"sym_flow.{key}: {problem}" for problem in error.problems)
            continue
        flows_by_file[where].append(f"sym_flow.{key}")
        first_flow.setdefault(where, key)
    for where, flow_names in flows_by_file.items():
        flow = config.flows[first_flow[where]]
        assert flow.implementation is not None
        try:
            load_implementation(flow.implementation, flow)
        except ImplementationError as error:
            names = ", ".join(flow_names)
            errors.extend(f"{names}: {problem}" for problem in error.problems)
    return errors + prompt_field_problems(config)


def implementation_issues(config: JitflowConfig) -> list[ConfigIssue]:
    """``check_implementations`` as configuration errors, the form ``jitflow validate`` reports,
    then each flow's integration calls that would raise (``call_checks``): errors when nothing
    catches them, warnings inside a ``try`` that catches ``SymException``."""
    issues = [ConfigIssue(message) for message in check_implementations(config)]
    return issues + call_issues(config)
