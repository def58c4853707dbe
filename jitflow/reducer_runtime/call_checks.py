"""``jitflow validate``'s verdict on each flow's integration calls (found by ``calls.py``).

For every flow with an implementation, each call to an integration helper is checked against
what that flow reaches: a function jitflow lacks, or one whose ``sym_integration`` the flow does
not have, raises the integration's error on every request. Unguarded, that fails the request
(an error); inside a ``try`` that catches it, the hook falls back as written (a warning). A
``slack.channel(...)`` returned by ``get_approvers`` without Slack approves nobody but admins
(a warning): jitflow reads a channel's members through the flow's slack integration and its
bot token, so without them only admins can decide. A ``slack.channel("#name")`` there, by name
rather than id, is a warning too: whoever may create or rename a channel to that name would
decide who approves, where a channel id (``C…``) stays the same channel.
``....integrations["x"]`` for an ``x`` the flow lacks is a ``KeyError``.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from pathlib import Path

from jitflow.config.integrations import ambiguous_types, flow_integrations
from jitflow.config.issues import ConfigIssue
from jitflow.config.models import Flow, JitflowConfig, SymIntegration
from jitflow.config.slack import BOT_TOKEN_SETTING, SLACK
from jitflow.reducer_runtime.calls import (
    BUILDERS,
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
from jitflow.sdk.integrations import slack as sdk_slack
from jitflow.sdk.request_destination import SlackChannelName


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
        elif call.name == "slack.channel" and call.handler == "get_approvers":
            missing = _channel_reader_missing(reachable)
            if missing is not None:
                issue(
                    call.line,
                    call.handler,
                    "slack.channel(...) as an approver destination approves nobody but admins: "
                    f"{missing}, so jitflow cannot tell who is in the channel",
                    True,
                )
            named = _channel_name(call)
            if named is not None:
                issue(call.line, call.handler, _BY_NAME.format(name=named), True)
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


_BY_NAME = (
    'slack.channel("{name}") names the approvers channel by name: approval rights follow the '
    "name, so whoever can create a channel with that name (after this one is renamed or "
    "archived) or rename one to it decides who approves; give the channel's id instead "
    '(slack.channel("C…"), shown at the bottom of the channel\'s details in Slack)'
)


def _channel_name(call: SdkCall) -> str | None:
    """The channel name a ``slack.channel("...")`` call writes, or None when it writes an id
    (or computes its argument, which this reading cannot tell)."""
    if call.text is None:
        return None
    try:  # read as the call itself reads it, so an id here is an id there
        built = sdk_slack.channel(call.text)
    except ValueError:
        return None
    return built.channel_name if isinstance(built, SlackChannelName) else None


def _channel_reader_missing(reachable: Mapping[str, SymIntegration]) -> str | None:
    """Why jitflow cannot read a channel's members for this flow, or None when it can."""
    slack = reachable.get(SLACK)
    if slack is None or slack.type != SLACK:
        return "no slack integration is configured"
    if BOT_TOKEN_SETTING not in slack.secrets:
        return f"sym_integration.{slack.key} has no {BOT_TOKEN_SETTING}"
    return None


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
    builds_only = call.function in BUILDERS.get(call.module, frozenset())
    if call.module in NEEDS_INTEGRATION and not builds_only and call.module not in reachable:
        if call.module in ambiguous:
            return (
                f"{call.name} cannot tell which {call.module} integration to use: name one as "
                f"{call.module}_id in the sym_environment of flow {flow.name!r}"
            )
        return f"{call.name} needs a {call.module} integration, and flow {flow.name!r} has none"
    return None
