"""Reducers and hooks: the Python that decides and reacts in a jitflow flow, as in Sym.

This package is the user's room: its modules (``reducers/aptible_access.py``, or any file a
flow's ``implementation`` names) hold the reducers and hooks. The framework lives in jitflow:
``jitflow/sdk`` (the Sym-compatible names) and ``jitflow/reducer_runtime`` (loading, checking and
running user code).

Everything a user module needs is importable from here (``from reducers import hook, Event``),
and the module names of Sym's SDK work too: ``from reducers.annotations import hook`` or
``from reducers.integrations import slack``, so porting a Sym ``impl.py`` means replacing
``sym.sdk`` with ``reducers`` in its imports. Those module names are aliases, registered below,
of the modules in ``jitflow/sdk``.
"""

import sys
from types import ModuleType

from jitflow.sdk import (
    annotations,
    errors,
    event,
    exceptions,
    field_option,
    flow,
    forms,
    integrations,
    models,
    notifications,
    request_destination,
    request_permission,
    resource,
    secret,
    strategies,
    strategy,
    target,
    templates,
    user,
    utils,
)
from jitflow.sdk.annotations import hook, prefetch, reducer
from jitflow.sdk.errors import SymIntegrationError, SymSDKError
from jitflow.sdk.event import Channel, Event, EventMeta, Payload
from jitflow.sdk.exceptions import (
    AptibleError,
    IdentityNotFound,
    SymException,
)
from jitflow.sdk.flow import Environment, Flow, Run
from jitflow.sdk.forms import FieldOption, FieldType, PromptField, SymPromptForm
from jitflow.sdk.integrations import (
    aws_iam,
    aws_lambda,
    aws_sso,
    boundary,
    github,
    google,
    jira,
    knowbe4,
    okta,
    onelogin,
    pagerduty,
    slack,
    store,
    sym,
)
from jitflow.sdk.notifications import Notification
from jitflow.sdk.request_destination import (
    RequestDestination,
    RequestDestinationFallback,
    RequestForwardContext,
    SlackChannelID,
    SlackChannelName,
    SlackUser,
    SlackUserGroup,
)
from jitflow.sdk.request_permission import PermissionLevel, RequestPermission
from jitflow.sdk.resource import SRN, SymResource
from jitflow.sdk.strategies import AccessStrategy, Integration
from jitflow.sdk.strategy import Strategy
from jitflow.sdk.target import AccessTarget
from jitflow.sdk.templates import (
    ApprovalTemplate,
    ApprovalTemplateStep,
    EventRequest,
    Template,
    TemplateStep,
    get_step_output,
)
from jitflow.sdk.user import User, UserIdentity, UserRole, user_ids

#: Sym's module names, mapped onto this package's SDK modules (``reducers.<name>``).
SYM_MODULE_ALIASES: dict[str, ModuleType] = {
    "annotations": annotations,
    "errors": errors,
    "event": event,
    "exceptions": exceptions,
    "field_option": field_option,
    "flow": flow,
    "forms": forms,
    "integrations": integrations,
    "models": models,
    "notifications": notifications,
    "request_destination": request_destination,
    "request_permission": request_permission,
    "resource": resource,
    "secret": secret,
    "strategies": strategies,
    "strategy": strategy,
    "target": target,
    "templates": templates,
    "user": user,
    "utils": utils,
    **{f"integrations.{name}": getattr(integrations, name) for name in integrations.__all__},
}


def _register_sym_module_aliases() -> None:
    """Make ``import reducers.<sym module>`` find the SDK module, as ``import sym.sdk.<x>`` does."""
    for alias, module in SYM_MODULE_ALIASES.items():
        sys.modules.setdefault(f"{__name__}.{alias}", module)


_register_sym_module_aliases()

__all__ = [
    "SRN",
    "AccessStrategy",
    "AccessTarget",
    "ApprovalTemplate",
    "ApprovalTemplateStep",
    "AptibleError",
    "Channel",
    "Environment",
    "Event",
    "EventMeta",
    "EventRequest",
    "FieldOption",
    "FieldType",
    "Flow",
    "IdentityNotFound",
    "Integration",
    "Notification",
    "Payload",
    "PermissionLevel",
    "PromptField",
    "RequestDestination",
    "RequestDestinationFallback",
    "RequestForwardContext",
    "RequestPermission",
    "Run",
    "SlackChannelID",
    "SlackChannelName",
    "SlackUser",
    "SlackUserGroup",
    "Strategy",
    "SymException",
    "SymIntegrationError",
    "SymPromptForm",
    "SymResource",
    "SymSDKError",
    "Template",
    "TemplateStep",
    "User",
    "UserIdentity",
    "UserRole",
    "aws_iam",
    "aws_lambda",
    "aws_sso",
    "boundary",
    "get_step_output",
    "github",
    "google",
    "hook",
    "jira",
    "knowbe4",
    "okta",
    "onelogin",
    "pagerduty",
    "prefetch",
    "reducer",
    "slack",
    "store",
    "sym",
    "user_ids",
]
