"""Read a flow's module for its calls to Sym's integration helpers, before any request runs them.

A hook that calls ``pagerduty.is_on_call`` or ``slack.send_message`` in a flow with no
PagerDuty or Slack integration, or ``slack.send_thread_message``, which jitflow does not offer,
raises the integration's error on every request. ``jitflow validate`` reports each such call
with its file and line: as an **error** when nothing catches it (the request would fail), as a
**warning** when it sits in the body of a ``try`` whose ``except`` catches ``SymException`` (or
the integration's own error class, or ``Exception``), the fallback Sym's examples write. The
analysis is lexical: a call is guarded only by a ``try`` written around it, not by one in a
function that calls its function.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from jitflow.sdk import integrations as sdk_integrations

#: Every integration module of the SDK (``pagerduty``, ``slack``...).
SDK_MODULES: frozenset[str] = frozenset(sdk_integrations.__all__)

#: Functions of each module that jitflow performs; any other public one raises NOT_SUPPORTED.
SUPPORTED: dict[str, frozenset[str]] = {
    "pagerduty": frozenset(
        {"is_on_call", "users_on_call", "users_for_schedule", "get_incidents", "has_incident"}
    ),
    "okta": frozenset({"is_user_in_group", "users_in_group", "get_user_info", "list_groups"}),
    "knowbe4": frozenset({"get_training_enrollments_for_user", "is_user_in_group"}),
    "aws_lambda": frozenset({"invoke", "invoke_async"}),
    "slack": frozenset(
        {
            "user",
            "channel",
            "group",
            "fallback",
            "mention",
            "send_message",
            "get_user_info",
            "list_users",
            "is_user_in_group",
            "users_in_channel",
        }
    ),
    "sym": frozenset({"get_or_create_user_by_email", "get_or_create_users_by_emails"}),
}

#: Modules whose functions need the flow to reach a ``sym_integration`` of that name.
NEEDS_INTEGRATION: frozenset[str] = frozenset(
    {"pagerduty", "okta", "knowbe4", "aws_lambda", "slack"}
)

#: Functions of those modules that only build a value and call nothing, so need no integration
#: (Slack's destinations: ``get_approvers`` returns them with or without Slack).
BUILDERS: dict[str, frozenset[str]] = {
    "slack": frozenset({"user", "channel", "group", "fallback", "mention"}),
}

#: The error classes each module raises (its own, and the bases an ``except`` may name).
ERROR_CLASSES: dict[str, tuple[str, ...]] = {
    "pagerduty": ("PagerDutyError",),
    "okta": ("OktaError",),
    "knowbe4": ("KnowBe4Error",),
    "aws_lambda": ("AWSLambdaError", "AWSError"),
    "aws_iam": ("AWSIAMError", "AWSError"),
    "aws_sso": ("AWSSSOError", "AWSError"),
    "slack": ("SlackError",),
    "google": ("GoogleError",),
    "github": ("GitHubError",),
    "jira": ("JiraError",),
    "onelogin": ("OneLoginError",),
    "boundary": ("BoundaryError",),
    "store": ("SymIntegrationError",),
    "sym": ("SymIntegrationError",),
}
_CATCH_ALL = frozenset({"SymException", "Exception", "BaseException"})
_SDK_PREFIXES = ("reducers", "jitflow.sdk", "sym.sdk")


@dataclass(frozen=True)
class SdkCall:
    """One call of an integration helper in a module."""

    module: str
    function: str
    line: int
    handler: str | None
    """The top-level function the call is written in (``on_request``), if any."""
    caught: frozenset[str] | None
    """Exception names the enclosing ``try`` bodies catch; None when no ``try`` encloses it
    (an empty set never occurs: a bare ``except`` catches ``BaseException``)."""
    text: str | None = None
    """The first argument when it is written as a string (``slack.channel("#approvers")``),
    for checks that depend on what was named; None for anything computed."""

    def guarded(self) -> bool:
        """Whether an enclosing ``try`` catches what this call raises."""
        if self.caught is None:
            return False
        names = _CATCH_ALL | set(ERROR_CLASSES.get(self.module, ()))
        return bool(self.caught & names)

    @property
    def name(self) -> str:
        return f"{self.module}.{self.function}"


@dataclass(frozen=True)
class IntegrationKey:
    """A literal ``....integrations["name"]`` subscript: a lookup that fails if not configured."""

    name: str
    line: int
    handler: str | None


def find_calls(source: str, filename: str) -> tuple[list[SdkCall], list[IntegrationKey]]:
    """The integration helper calls and integration lookups of a module's source."""
    tree = ast.parse(source, filename)
    visitor = _CallFinder(_bindings(tree))
    visitor.visit(tree)
    return visitor.calls, visitor.keys


@dataclass
class _Bindings:
    modules: dict[str, str]
    """Local name -> SDK integration module (``pd`` -> ``pagerduty``)."""
    functions: dict[str, tuple[str, str]]
    """Local name -> (module, function) for ``from ...pagerduty import is_on_call``."""


def _bindings(tree: ast.AST) -> _Bindings:
    bound = _Bindings(modules={}, functions={})
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            _bind_from(bound, node)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                module = _sdk_module(alias.name)
                if module is not None and alias.asname:
                    bound.modules[alias.asname] = module
    return bound


def _bind_from(bound: _Bindings, node: ast.ImportFrom) -> None:
    source = node.module or ""
    module = _sdk_module(source)
    for alias in node.names:
        local = alias.asname or alias.name
        if module is not None:  # from reducers.integrations.pagerduty import is_on_call
            bound.functions[local] = (module, alias.name)
        elif alias.name in SDK_MODULES and _is_sdk_package(source):
            bound.modules[local] = alias.name  # from reducers.integrations import pagerduty


def _is_sdk_package(name: str) -> bool:
    """``reducers``, ``reducers.integrations`` and the same under ``jitflow.sdk``/``sym.sdk``."""
    return any(name in (prefix, f"{prefix}.integrations") for prefix in _SDK_PREFIXES)


def _sdk_module(dotted: str) -> str | None:
    """``reducers.integrations.pagerduty`` -> ``pagerduty``; None for anything else."""
    for prefix in _SDK_PREFIXES:
        head = f"{prefix}.integrations."
        if dotted.startswith(head) and dotted[len(head) :] in SDK_MODULES:
            return dotted[len(head) :]
    return None


def _dotted(node: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _caught_names(handler: ast.ExceptHandler) -> Iterator[str]:
    if handler.type is None:
        yield "BaseException"
        return
    items = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    for item in items:
        dotted = _dotted(item)
        if dotted:
            yield dotted.rsplit(".", 1)[-1]


class _CallFinder(ast.NodeVisitor):
    def __init__(self, bindings: _Bindings) -> None:
        self.bindings = bindings
        self.calls: list[SdkCall] = []
        self.keys: list[IntegrationKey] = []
        self._handler: str | None = None
        self._depth = 0
        self._guards: list[frozenset[str]] = []

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        """A function body runs when called, not where it is written: its own guards only."""
        saved_guards, saved_handler = self._guards, self._handler
        self._guards = []
        if self._depth == 0 and not isinstance(node, ast.Lambda):
            self._handler = node.name
        self._depth += 1
        self.generic_visit(node)
        self._depth -= 1
        self._guards, self._handler = saved_guards, saved_handler

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function
    visit_Lambda = _function

    def _try(self, node: ast.Try | ast.TryStar) -> None:
        caught = frozenset(name for h in node.handlers for name in _caught_names(h))
        self._guards.append(caught)
        for statement in node.body:
            self.visit(statement)
        self._guards.pop()
        for part in (*node.handlers, *node.orelse, *node.finalbody):
            self.visit(part)

    visit_Try = _try
    visit_TryStar = _try

    def visit_Call(self, node: ast.Call) -> None:
        target = self._resolve(node.func)
        if target is not None:
            caught = frozenset().union(*self._guards) if self._guards else None
            first = node.args[0] if node.args else None
            text = (
                first.value
                if isinstance(first, ast.Constant) and isinstance(first.value, str)
                else None
            )
            self.calls.append(SdkCall(*target, node.lineno, self._handler, caught, text))
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        value = node.value
        key = node.slice
        if (
            isinstance(value, ast.Attribute)
            and value.attr == "integrations"
            and isinstance(key, ast.Constant)
            and isinstance(key.value, str)
        ):
            self.keys.append(IntegrationKey(key.value, node.lineno, self._handler))
        self.generic_visit(node)

    def _resolve(self, func: ast.expr) -> tuple[str, str] | None:
        dotted = _dotted(func)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        if not rest:
            return self.bindings.functions.get(head)
        if head in self.bindings.modules and "." not in rest:
            return self.bindings.modules[head], rest
        for prefix in (
            *_SDK_PREFIXES,
            *(f"{p}.integrations" for p in _SDK_PREFIXES),
            "integrations",
        ):
            if dotted.startswith(f"{prefix}."):
                module, _, function = dotted[len(prefix) + 1 :].partition(".")
                if module in SDK_MODULES and function and "." not in function:
                    return module, function
        return None
