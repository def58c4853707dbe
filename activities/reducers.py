"""Activities that run user reducers and hooks, so user code never runs in workflow code.

Every method is a synchronous activity: the worker runs it on its thread pool, so a reducer that
blocks (an HTTP call, a sleep) cannot stall the worker's event loop. What a reducer returned
goes back as plain data (``HookOutcome``, ``Permissions``) and is recorded in the workflow's
history, so editing a reducer never breaks a running grant's replay.

Hooks run **at least once**. The workflow gives each call the flow's ``hook_options`` (a
start-to-close timeout and a maximum number of attempts); Temporal retries a call that timed
out, so a hook that calls out may run again and should tolerate that. A reducer that *raised*
fails its activity at once with a non-retryable ``ApplicationError`` naming the function, its
file and line, and the message; a module that no longer loads fails the same way with the
configuration error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol, TypeVar

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.blocking import Blocking
from jitflow.config.models import JitflowConfig
from jitflow.contracts.activities import GET_PERMISSIONS, RUN_HOOK
from jitflow.contracts.events import (
    EventData,
    HookCall,
    HookOutcome,
    Permissions,
    PermissionsCall,
    UserData,
)
from jitflow.integrations import IntegrationServices
from jitflow.reducer_runtime import (
    ImplementationCache,
    ImplementationError,
    ReducerFailed,
    ReducerRunner,
    RolesProvider,
    check_implementations,
    hook_options,
)
from jitflow.scrub import scrub, scrubbed_traceback

__all__ = [
    "REDUCER_CONFIGURATION_ERROR",
    "REDUCER_ERROR",
    "IntegrationServices",
    "ReducerActivities",
    "check_implementations",
    "hook_options",
]

#: ``ApplicationError.type`` of a reducer that raised or returned something unusable.
REDUCER_ERROR = "ReducerError"
#: ``ApplicationError.type`` of a flow whose implementation does not load.
REDUCER_CONFIGURATION_ERROR = "ReducerConfigurationError"

log = logging.getLogger("jitflow.reducers")

T = TypeVar("T")


class IdentityCall(Protocol):
    """The arguments of ``get_identity`` as the identity activity gathers them."""

    @property
    def flow(self) -> str | None: ...
    @property
    def event(self) -> EventData | None: ...
    @property
    def service_type(self) -> str: ...
    @property
    def external_id(self) -> str: ...
    @property
    def user(self) -> UserData: ...


class ReducerActivities:
    """The reducer activities of one worker, over ``config``'s flows.

    ``roles_provider`` returns ``{email: role}`` from the identity store; it is called once per
    activity, so role changes apply to the next step. ``integrations`` (the worker's secret
    reader and identity store, see ``IntegrationServices``) lets reducers call PagerDuty, Okta,
    KnowBe4 and AWS Lambda, read secrets and save identities, as Sym's SDK does.
    """

    def __init__(
        self,
        config: JitflowConfig,
        roles_provider: RolesProvider,
        cache: ImplementationCache | None = None,
        *,
        user_code: Blocking | None = None,
        integrations: IntegrationServices | None = None,
    ) -> None:
        self.runner = ReducerRunner(config, roles_provider, cache, integrations=integrations)
        self._user_code = user_code or Blocking()

    @activity.defn(name=RUN_HOOK.name)
    def run_hook(self, call: HookCall) -> HookOutcome:
        """Run an ``on_*``/``after_*`` hook of the flow; ``called=False`` when it has none."""
        return _as_activity(lambda: self.runner.run_hook(call))

    @activity.defn(name=GET_PERMISSIONS.name)
    def get_permissions(self, call: PermissionsCall) -> Permissions:
        """Who may approve, deny and view the request, with the store's roles at this moment."""
        return _as_activity(lambda: self.runner.permissions(call))

    def get_identity(
        self,
        flow: str,
        event: EventData,
        service_type: str,
        external_id: str,
        user: UserData | None = None,
    ) -> str | None:
        """The flow's ``get_identity`` answer (None: fall back to discovery), for the identity
        activity to call. Errors are raised as non-retryable ``ApplicationError``s."""
        return _as_activity(
            lambda: self.runner.identity(flow, event, service_type, external_id, user)
        )

    async def get_identity_for_call(self, call: IdentityCall) -> str | None:
        """``get_identity`` for the identity activity's injected callable, on a worker thread.

        None when the call carries no flow or event (nothing to run the reducer with).
        """
        if call.flow is None or call.event is None:
            return None
        flow, event = call.flow, call.event
        return await self._user_code(
            self.get_identity, flow, event, call.service_type, call.external_id, call.user
        )


def _as_activity(run: Callable[[], T]) -> T:
    """Run ``run``, turning reducer and configuration errors into non-retryable failures."""
    try:
        return run()
    except ReducerFailed as error:
        # The user's exception may hold a webhook URL or a token: the log gets its traceback
        # with every line scrubbed; history gets the function, file, line and a scrubbed,
        # shortened message, and no cause chain.
        log.warning(
            "%s (%s): %s\n%s",
            error.function,
            error.where,
            scrub(error.message),
            scrubbed_traceback(error.__cause__ or error),
        )
        recorded = f"{error.function} ({error.where}): {scrub(error.message)}"
        raise ApplicationError(recorded, type=REDUCER_ERROR, non_retryable=True) from None
    except ImplementationError as error:
        raise ApplicationError(
            f"the flow's reducers do not load: {error}",
            type=REDUCER_CONFIGURATION_ERROR,
            non_retryable=True,
        ) from None
    except ValueError as error:
        raise ApplicationError(str(error), type=REDUCER_ERROR, non_retryable=True) from None
