"""Configuration checks of the request form's functions, for ``jitflow validate`` and worker start.

A ``prefetch = true`` field whose flow has no ``@prefetch(field_name=...)`` function, or an
``on_change`` file that does not load or lacks its ``on_change_<field>``, would otherwise show
only when someone opens the form in Slack: each is reported here with the flow and the file.
"""

from __future__ import annotations

from jitflow.config.models import Flow, Implementation, JitflowConfig
from jitflow.reducer_runtime.errors import ImplementationError
from jitflow.reducer_runtime.loader import load_implementation
from jitflow.reducer_runtime.prompt import on_change_name


def prompt_field_problems(config: JitflowConfig) -> list[str]:
    """Every problem with the flows' prefetch functions and ``on_change`` files, as error texts.

    A flow whose own implementation does not load is skipped here: ``check_implementations``
    reports that already.
    """
    errors: list[str] = []
    for key, flow in sorted(config.flows.items()):
        errors += _prefetch_problems(key, flow)
        for field in flow.params.prompt_fields:
            if field.on_change is None:
                continue
            try:
                loaded = load_implementation(Implementation(kind="file", path=field.on_change))
            except ImplementationError as error:
                errors += [
                    f"sym_flow.{key}: on_change of {field.name}: {p}" for p in error.problems
                ]
                continue
            name = on_change_name(field.name)
            if loaded.get(name) is None:
                errors.append(
                    f"sym_flow.{key}: on_change of {field.name}: {field.on_change} defines no "
                    f"{name}(username, form)"
                )
    return errors


def _prefetch_problems(key: str, flow: Flow) -> list[str]:
    wanted = [field.name for field in flow.params.prompt_fields if field.prefetch]
    if not wanted:
        return []
    if flow.implementation is None:
        return [
            f"sym_flow.{key}: prompt field {name} has prefetch = true, but the flow has no "
            "implementation to define its @prefetch function"
            for name in wanted
        ]
    try:
        loaded = load_implementation(flow.implementation, flow)
    except ImplementationError:
        return []
    return [
        f"sym_flow.{key}: prompt field {name} has prefetch = true, but "
        f"{loaded.display} has no @prefetch(field_name={name!r}) function"
        for name in wanted
        if name not in loaded.prefetchers
    ]
