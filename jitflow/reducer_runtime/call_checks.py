"""``jitflow validate``'s verdict on each flow's integration calls (found by ``calls.py``).

For every flow with an implementation, each call to an integration helper is checked against
what that flow reaches: a function jitflow lacks, or one whose ``sym_integration`` the flow does
not have, raises the integration's error on every request. Unguarded, that fails the request
(an error); inside a ``try`` that catches it, the hook falls back as written (a warning). A
``slack.channel(...)`` returned by ``get_approvers`` without Slack approves nobody but admins
(a warning), and ``....integrations["x"]`` for an ``x`` the flow lacks is a ``KeyError``.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from pathlib import Path

from jitflow.config.integrations import ambiguous_types, flow_integrations
from jitflow.config.issues import ConfigIssue
from jitflow.config.models import Flow, JitflowConfig
from jitflow.reducer_runtime.calls import (
    ERROR_CLASSES,
    NEEDS_INTEGRATION,
    SUPPORTED,
    IntegrationKey,
    SdkCall,
    find_calls,
)
from jitflow.reducer_runtime.errors import ImplementationError
from jitflow.reducer_runtime.loader import implementation_path
from jitflow.sdk import integrations as sdk_integrations


def call_issues(config: JitflowConfig) -> list[ConfigIssue]:
    """Every integration call problem of every flow, with file and line; no duplicates."""
    issues: list[ConfigIssue] = []
    for flow in sorted(config.flows.values(), key=lambda f: f.key):
        if flow.implementation is None:
            continue
        try:
            path = implementation_path(flow.implementation, flow)
            calls, keys = find_calls(path.read_text(encoding="utf-8"), str(path))
        except (ImplementationError, OSError, SyntaxError, UnicodeDecodeError):
            continue  # the loader's own check reports a module that cannot be read
        for issue in _flow_issues(config, flow, path, calls, keys):
            if issue not in issues:
                issues.append(issue)
    return issues


def _flow_issues(
    config: JitflowConfig,
    flow: Flow,
    path: Path,
    calls: list[SdkCall],
    keys: list[IntegrationKey],
) -> list[ConfigIssue]:
    reachable = flow_integrations(config, flow)
    ambiguous = ambiguous_types(config, flow)
    found: list[ConfigIssue] = []

    def issue(line: int, handler: str | None, message: str, warning: bool) -> None:
        text = f"{handler}: {message}" if handler else message
        found.append(
            ConfigIssue(
                text,
                file=str(path),
                line=line,
                address=f"sym_flow.{flow.key}",
                severity="warning" if warning else "error",
            )
        )

    for call in calls:
        problem = _problem(call, reachable, ambiguous, flow)
        if problem is not None:
            error = ERROR_CLASSES.get(call.module, ("SymException",))[0]
            if call.guarded():
                consequence = f"it raises {error}, which the surrounding except catches"
            else:
                consequence = (
                    f"it raises {error} and nothing around it catches that, so the request fails "
                    "(wrap it in try/except SymException to fall back)"
                )
            issue(call.line, call.handler, f"{problem}: {consequence}", call.guarded())
        elif (
            call.name == "slack.channel"
            and call.handler == "get_approvers"
            and "slack" not in reachable
        ):
            issue(
                call.line,
                call.handler,
                "slack.channel(...) as an approver destination approves nobody but admins: "
                "no slack integration is configured, so jitflow cannot tell who is in the channel",
                True,
            )
    for key in keys:
        if key.name not in reachable:
            issue(
                key.line,
                key.handler,
                f'integrations["{key.name}"] is not configured for this flow (it has: '
                f"{', '.join(sorted(reachable)) or 'none'}): the lookup raises KeyError",
                True,
            )
    return found


def _problem(
    call: SdkCall, reachable: Mapping[str, object], ambiguous: set[str], flow: Flow
) -> str | None:
    """What is wrong with ``call`` in ``flow``, or None."""
    module = getattr(sdk_integrations, call.module)
    exported = set(getattr(module, "__all__", ()))
    if call.function not in exported:
        return f"{call.name} is no function of Sym's {call.module} module"
    if inspect.isclass(getattr(module, call.function, None)):
        return None  # an error class or an enum: building one calls nothing
    if call.function not in SUPPORTED.get(call.module, frozenset()):
        return f"jitflow lacks {call.name}"
    if call.module in NEEDS_INTEGRATION and call.module not in reachable:
        if call.module in ambiguous:
            return (
                f"{call.name} cannot tell which {call.module} integration to use: name one as "
                f"{call.module}_id in the sym_environment of flow {flow.name!r}"
            )
        return f"{call.name} needs a {call.module} integration, and flow {flow.name!r} has none"
    return None
