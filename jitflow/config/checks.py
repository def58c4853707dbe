"""Checks that run after a configuration loaded, for rules that need more than the ``.tf`` files.

The loader does not import user code. Other parts of jitflow verify what only they can (for
example, that a flow's ``implementation`` module imports and defines valid reducers) by adding a
``"module:function"`` entry to ``POST_LOAD_CHECKS``. A check takes the loaded ``JitflowConfig``
and returns ``ConfigIssue``s (errors fail ``jitflow validate``; warnings are shown). Entries are
imported only when the checks run, so ``jitflow.config`` never imports its consumers.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Sequence

from jitflow.config.issues import ConfigIssue
from jitflow.config.models import JitflowConfig

PostLoadCheck = Callable[[JitflowConfig], Iterable[ConfigIssue]]

#: ``"package.module:function"`` of every check ``jitflow validate`` runs, in order.
POST_LOAD_CHECKS: list[str] = [
    # Every flow's reducers and hooks import, and their names and signatures are ones jitflow calls.
    "jitflow.reducer_runtime.checks:implementation_issues",
]


def resolve_check(spec: str) -> PostLoadCheck:
    """Import the check named ``spec`` (``"package.module:function"``)."""
    module_name, _, function_name = spec.partition(":")
    if not module_name or not function_name:
        raise ValueError(f"post-load check {spec!r} must look like 'package.module:function'")
    module = importlib.import_module(module_name)
    check = getattr(module, function_name, None)
    if not callable(check):
        raise ValueError(
            f"post-load check {spec!r}: {module_name} has no function {function_name!r}"
        )
    return check  # type: ignore[no-any-return]


def run_post_load_checks(
    config: JitflowConfig, checks: Sequence[str | PostLoadCheck] | None = None
) -> list[ConfigIssue]:
    """Run ``checks`` (default ``POST_LOAD_CHECKS``) and return every issue they report.

    A check that crashes is reported as an error naming it, rather than hiding the others.
    """
    issues: list[ConfigIssue] = []
    for entry in POST_LOAD_CHECKS if checks is None else checks:
        name = entry if isinstance(entry, str) else getattr(entry, "__qualname__", repr(entry))
        try:
            check = resolve_check(entry) if isinstance(entry, str) else entry
            issues.extend(check(config))
        except Exception as error:  # a broken check must not hide the other checks' findings
            issues.append(
                ConfigIssue(f"post-load check {name} failed: {type(error).__name__}: {error}")
            )
    return issues
