"""Running a command's Temporal calls, and saying in one line what went wrong.

Every request command connects, makes a call or two and prints. Anything Temporal can answer
instead (nobody listening at the address, no such namespace or request, a worker that does not
answer, an update the workflow refused) is a situation to explain, not a crash: each becomes a
``CommandError`` naming the address, namespace or request id involved, the fix, and the exit
code that says what kind of outcome it was.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from temporalio.client import (
    Client,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from jitflow.cli.naming import command_name, unreachable_hint
from jitflow.cli.outcome import CommandError, ExitCode
from jitflow.temporal import TemporalConnectionError, connect, connect_options

_T = TypeVar("_T")

#: How long a ``status`` query may wait for a worker to answer. A running worker answers in
#: milliseconds; silence means none is running for the request's task queue.
QUERY_TIMEOUT = timedelta(seconds=10)


def _where(address: str | None, namespace: str | None) -> tuple[str, str]:
    """The address and namespace the command used, for messages (env config included)."""
    try:
        options = connect_options(address, namespace)
        return str(options["target_host"]), str(options["namespace"])
    except Exception:  # a broken profile file already failed the connect; name what was given
        return address or "Temporal", namespace or "default"


def _rpc_error(
    error: RPCError, workflow_id: str | None, address: str, namespace: str
) -> CommandError:
    prog = command_name()
    message = error.message
    if error.status == RPCStatusCode.NOT_FOUND:
        if "already completed" in message:
            return CommandError(
                "the request has ended, so nothing can change it; "
                f"`{prog} status {workflow_id}` shows how it ended",
                ExitCode.REFUSED,
            )
        if "namespace" in message.lower():
            return CommandError(
                f"namespace {namespace!r} does not exist at {address}; "
                "check --namespace or TEMPORAL_NAMESPACE"
            )
        if workflow_id is not None:
            return CommandError(
                f"no request {workflow_id!r} at {address} (namespace {namespace!r}); "
                f"`{prog} list` shows the requests there"
            )
        return CommandError(f"not found at {address}: {message}")
    if error.status in (RPCStatusCode.CANCELLED, RPCStatusCode.DEADLINE_EXCEEDED):
        if workflow_id is not None:
            return CommandError(
                f"request {workflow_id!r} did not answer within "
                f"{QUERY_TIMEOUT.total_seconds():.0f}s: no worker seems to serve its task queue "
                f"(`make run` starts the local stack with one; elsewhere run `{prog} worker`)"
            )
        return CommandError(f"Temporal at {address} did not answer in time ({message})")
    if error.status == RPCStatusCode.UNAVAILABLE:
        return CommandError(
            f"Temporal at {address} stopped answering ({message}); {unreachable_hint(address)}"
        )
    return CommandError(f"Temporal at {address} refused the call: {message}")


def _query_failed(workflow_id: str | None, message: str) -> CommandError:
    if "expected but not found" in message:
        # The workflow has no ``status`` query: it is not an access request (a RoleMembership
        # owner, or something else that shares the namespace).
        return CommandError(
            f"{workflow_id!r} is not an access request (it has no status query); "
            f"`{command_name()} list` shows the requests"
        )
    return CommandError(f"request {workflow_id!r} could not report its state: {message}")


def run_call(
    address: str | None,
    namespace: str | None,
    call: Callable[[Client], Awaitable[_T]],
    *,
    workflow_id: str | None = None,
) -> _T:
    """Connect and run ``call``; every failure Temporal reports becomes a ``CommandError``.

    ``workflow_id`` is the request the call is about, so that "not found" and "no answer" can
    name it.
    """

    async def go() -> _T:
        client = await connect(address, namespace)
        return await call(client)

    try:
        return asyncio.run(go())
    except TemporalConnectionError as error:
        raise CommandError(f"{error}; {unreachable_hint(error.address)}") from None
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        message = cause.message if isinstance(cause, ApplicationError) else str(cause)
        raise CommandError(f"refused: {message}", ExitCode.REFUSED) from None
    except WorkflowQueryFailedError as error:
        raise _query_failed(workflow_id, error.message) from None
    except WorkflowQueryRejectedError as error:
        raise CommandError(
            f"request {workflow_id!r} refused the query (its status: {error.status})"
        ) from None
    except RPCError as error:
        raise _rpc_error(error, workflow_id, *_where(address, namespace)) from None
