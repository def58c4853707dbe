"""Run a flow's reducers and hooks: find the function by name, call it, reduce what it returned.

One call per activity, on the activity's thread. Hooks run **at least once**: Temporal retries an
activity that timed out, so a hook that calls out may run again; a hook that raised is not
retried (its activity fails with the function's name and message). Each call gets an
``IntegrationHub`` over the worker's ``IntegrationServices``, through which the SDK's
integration helpers (``pagerduty.is_on_call``...) reach the flow's integrations.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any, TypeVar, cast, get_args

from jitflow.config.models import Flow, Implementation, JitflowConfig
from jitflow.config.slack import BOT_TOKEN_SETTING, slack_integration
from jitflow.contracts.base import normalize_email
from jitflow.contracts.events import (
    EventData,
    HookCall,
    HookOutcome,
    Permissions,
    PermissionsCall,
    UserData,
    UserRoleName,
)
from jitflow.integrations import IntegrationHub, IntegrationServices
from jitflow.reducer_runtime.errors import ReducerFailed
from jitflow.reducer_runtime.event_builder import build_event, find_flow, to_user
from jitflow.reducer_runtime.handlers import HOOKED_EVENTS, hook_event
from jitflow.reducer_runtime.loader import ImplementationCache, LoadedImplementation
from jitflow.reducer_runtime.outcomes import (
    OutcomeError,
    PeopleResolver,
    SlackPeople,
    approvers_from_destinations,
    check_request_permission,
    hook_outcome,
    notifications_record,
    short_text,
    split_people,
)
from jitflow.sdk._context import CallContext, calling
from jitflow.sdk.exceptions import SymException

RolesProvider = Callable[[], dict[str, str]]

_ROLES: frozenset[str] = frozenset(get_args(UserRoleName))
T = TypeVar("T")


class ReducerRunner:
    """Runs the reducers and hooks of ``config``'s flows; ``roles_provider`` gives email -> role.

    ``integrations`` is what the SDK's integration calls use (secrets, identity store, base
    URLs); without it they still run, and those needing a token or the store say it is missing.
    """

    def __init__(
        self,
        config: JitflowConfig,
        roles_provider: RolesProvider,
        cache: ImplementationCache | None = None,
        *,
        integrations: IntegrationServices | None = None,
    ) -> None:
        self.config = config
        self._roles_provider = roles_provider
        self._cache = cache or ImplementationCache()
        self.integrations = integrations or IntegrationServices()

    def implementation(self, flow_key: str) -> LoadedImplementation | None:
        """The flow's loaded implementation; None when the flow has none (jitflow's defaults)."""
        flow = find_flow(self.config, flow_key)
        if flow.implementation is None:
            return None
        return self._cache.get(flow.implementation, flow)

    def load(self, implementation: Implementation, flow_key: str) -> LoadedImplementation:
        """Another module of the flow (a prompt field's ``on_change`` file), cached and
        reloaded as the flow's own implementation is."""
        return self._cache.get(implementation, find_flow(self.config, flow_key))

    def roles(self) -> dict[str, UserRoleName]:
        """The user store's roles, emails in lower case; a clear error on a role jitflow lacks."""
        roles: dict[str, UserRoleName] = {}
        for email, role in self._roles_provider().items():
            if role not in _ROLES:
                raise ValueError(
                    f"the user store gives {email!r} the role {role!r}; roles are "
                    f"{', '.join(sorted(_ROLES))}"
                )
            roles[normalize_email(email)] = cast(UserRoleName, role)
        return roles

    def run_hook(self, call: HookCall) -> HookOutcome:
        """Run hook ``call.hook``; ``called=False`` when the flow's module has no such function."""
        parsed = hook_event(call.hook)
        if parsed is None or parsed[1] not in HOOKED_EVENTS:
            raise ValueError(
                f"{call.hook!r} is not a hook jitflow runs; hooks are on_/after_ + "
                f"{', '.join(HOOKED_EVENTS)}"
            )
        when, event_name = parsed
        if call.event.name != event_name:
            raise ValueError(f"hook {call.hook} was given a {call.event.name!r} event")
        _check_same_flow(call.flow, call.event)
        loaded = self.implementation(call.flow)
        function = loaded.get(call.hook) if loaded else None
        if loaded is None or function is None:
            return HookOutcome(called=False)
        returned = self._call(loaded, call.hook, call.event, self.roles(), lambda e: (e,))
        try:
            return hook_outcome(call.hook, when, call.event, returned)
        except OutcomeError as error:
            raise ReducerFailed(call.hook, loaded.where(call.hook), str(error)) from None

    def permissions(self, call: PermissionsCall) -> Permissions:
        """Who may decide the request: ``get_permissions``, else ``get_approvers``, else defaults.

        ``get_request_notifications`` is called too, when present, and its result recorded.
        """
        _check_same_flow(call.flow, call.event)
        roles = self.roles()
        loaded = self.implementation(call.flow)
        # Only the roles that differ from the default go into the request's history: admins and
        # guests. Everyone else is a member, which is what Permissions.role_of answers for them.
        recorded = {email: role for email, role in roles.items() if role != "member"}
        base: dict[str, Any] = {"user_roles": recorded, "default_role": "member"}
        if loaded is None:
            return _default_permissions(base)
        if loaded.get("get_request_notifications"):
            returned = self._call(loaded, "get_request_notifications", call.event, roles)
            base["notifications"] = self._reduce(
                loaded, "get_request_notifications", notifications_record, returned
            )
        if loaded.get("get_permissions"):
            # Users the SDK handed to the reducer (okta.users_in_group...) may come back as
            # user ids (Sym's user_ids()): the resolver must know them to find their emails.
            seen: set[str] = set()
            returned = self._call(loaded, "get_permissions", call.event, roles, seen=seen)
            return self._reduce(
                loaded,
                "get_permissions",
                lambda r: _from_request_permission(r, base, _resolver(call.event, roles, seen)),
                returned,
            )
        if loaded.get("get_approvers"):
            returned = self._call(loaded, "get_approvers", call.event, roles)
            people = self._slack_people(find_flow(self.config, call.flow), roles)
            try:
                approvers, allow_self, record = self._reduce(
                    loaded,
                    "get_approvers",
                    lambda r: approvers_from_destinations(
                        r, people, requester=call.event.requester.email
                    ),
                    returned,
                )
            except SymException as error:
                # As if the reducer had asked Slack itself (slack.users_in_channel): the same
                # SlackError, and the request fails as it would then.
                raise ReducerFailed(
                    "get_approvers",
                    loaded.where("get_approvers"),
                    "returned Slack destinations whose members jitflow could not read: "
                    f"{_error_text(error)}",
                ) from error
            base["notifications"] = [record, *base.get("notifications", [])]
            return Permissions(
                source="get_approvers",
                approvers=approvers,
                allow_self_approval=allow_self,
                webapp_view_levels=("admin",),
                **base,
            )
        return _default_permissions(base)

    def _slack_people(self, flow: Flow, roles: dict[str, UserRoleName]) -> SlackPeople | None:
        """Who a legacy ``get_approvers`` Slack destination reaches, read from Slack, when the
        flow has a slack integration with a bot token; otherwise None, and its channels
        approve nobody (``jitflow validate`` warns about that)."""
        integration = slack_integration(self.config, flow)
        if integration is None or BOT_TOKEN_SETTING not in integration.secrets:
            return None
        hub = IntegrationHub(self.integrations, self.config, flow, roles)
        return lambda destination: hub.slack().approver_emails(destination)

    def identity(
        self,
        flow: str,
        event: EventData,
        service_type: str,
        external_id: str,
        user: UserData | None = None,
    ) -> str | None:
        """``get_identity(event, service_type, external_id, user)``; None when absent or None.

        ``user`` defaults to the requester, whose identity escalation needs.
        """
        loaded = self.implementation(flow)
        if loaded is None or loaded.get("get_identity") is None:
            return None
        who = to_user(user or event.requester)
        returned = self._call(
            loaded,
            "get_identity",
            event,
            self.roles(),
            lambda e: (e, service_type, external_id, who),
        )
        if returned is None or (isinstance(returned, str) and not returned.strip()):
            return None
        if not isinstance(returned, str):
            raise ReducerFailed(
                "get_identity",
                loaded.where("get_identity"),
                f"returned {short_text(returned)}; it returns the identity as a string, or None",
            )
        return returned.strip()

    def _call(
        self,
        loaded: LoadedImplementation,
        name: str,
        data: EventData,
        roles: dict[str, UserRoleName],
        arguments: Callable[[Any], tuple[Any, ...]] = lambda e: (e,),
        *,
        seen: set[str] | None = None,
    ) -> Any:
        """Call ``name`` with the event built from ``data``; ``seen`` collects the emails of the
        users the SDK handed out during the call."""
        function = loaded.get(name)
        if function is None:
            raise ValueError(f"{loaded.display} has no {name}")
        event = build_event(data, self.config)
        return self.call_function(
            loaded,
            name,
            function,
            data.flow,
            data.name,
            arguments(event),
            roles,
            step_outputs=dict(data.step_outputs),
            seen=seen,
        )

    def call_function(
        self,
        loaded: LoadedImplementation,
        name: str,
        function: Callable[..., Any],
        flow_key: str,
        event_name: str,
        arguments: tuple[Any, ...],
        roles: dict[str, UserRoleName],
        *,
        step_outputs: dict[str, dict[str, Any]] | None = None,
        seen: set[str] | None = None,
    ) -> Any:
        """Call user function ``function`` (``name`` in ``loaded``) with ``arguments``, inside
        the context the SDK reads (the flow's integrations, the roles, the step outputs).

        Whatever it raises becomes ``ReducerFailed`` naming the function, its file and line: the
        one place where user exceptions turn into jitflow's, for workflow steps and for forms.
        """
        seen = set() if seen is None else seen
        flow = find_flow(self.config, flow_key)
        hub = IntegrationHub(self.integrations, self.config, flow, roles, seen=seen)
        context = CallContext(
            event_name=event_name,
            step_outputs=step_outputs or {},
            roles=dict(roles),
            hub=hub,
            seen=seen,
        )
        with calling(context):
            try:
                return function(*arguments)
            except Exception as error:
                where = _raise_site(error, str(loaded.path)) or loaded.where(name)
                raise ReducerFailed(name, where, f"raised {_error_text(error)}") from error

    @staticmethod
    def _reduce(
        loaded: LoadedImplementation, name: str, reduce: Callable[[Any], T], returned: Any
    ) -> T:
        try:
            return reduce(returned)
        except (OutcomeError, ValueError) as error:
            raise ReducerFailed(name, loaded.where(name), str(error)) from None


def _check_same_flow(flow: str, event: EventData) -> None:
    if event.flow != flow:
        raise ValueError(f"a call for flow {flow!r} was given an event of flow {event.flow!r}")


def _error_text(error: Exception) -> str:
    """``SlackError (Slack:NOT_SUPPORTED): message``: the class, Sym's error code when it has
    one (what an audit reader searches for), and the message."""
    code = error.error_code if isinstance(error, SymException) else None
    return f"{type(error).__name__}" + (f" ({code})" if code else "") + f": {error}"


def _raise_site(error: BaseException, filename: str) -> str | None:
    """``file:line`` of the last frame of the user's file on the traceback."""
    site = None
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename == filename:
            site = f"{filename}:{frame.lineno}"
    return site


def _resolver(event: EventData, roles: dict[str, UserRoleName], seen: set[str]) -> PeopleResolver:
    people = [event.user.email, event.requester.email, *(a.email for a in event.actors.values())]
    return PeopleResolver([*roles, *people, *sorted(seen)])


def _from_request_permission(
    returned: Any, base: dict[str, Any], resolver: PeopleResolver
) -> Permissions:
    permission = check_request_permission(returned)
    if permission is None:  # Sym: no RequestPermission means admins only
        return Permissions(
            source="get_permissions", levels=("admin",), webapp_view_levels=("admin",), **base
        )
    levels, approvers = split_people(permission.approve_deny, "approve_deny", resolver)
    view_levels, viewers = split_people(permission.webapp_view, "webapp_view", resolver)
    return Permissions(
        source="get_permissions",
        approvers=approvers,
        levels=levels,
        allow_self_approval=permission.allow_self_approval,
        webapp_view_levels=view_levels,
        webapp_view=viewers,
        **base,
    )


def _default_permissions(base: dict[str, Any]) -> Permissions:
    """jitflow's defaults: admins approve, deny and view; nobody approves their own request."""
    return Permissions(
        source="default",
        levels=("admin",),
        allow_self_approval=False,
        webapp_view_levels=("admin",),
        **base,
    )
