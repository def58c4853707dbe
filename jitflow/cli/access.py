"""``jitflow request|approve|deny|revoke|cancel|status|list``: the access workflow from a terminal.

Each command is a thin wrapper over one Temporal call that the ``temporal`` CLI can make too;
its ``--help`` shows that equivalent command. Refusals (not an approver, already decided...)
come back from the workflow's update validators and are printed as they are.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from jitflow.access_client import AccessRequests
from jitflow.cli.signing import body_json, key_option, signer
from jitflow.contracts.access import (
    AccessRequestInput,
    AccessState,
    Cancellation,
    Decision,
    Revocation,
    UpdateOutcome,
)
from jitflow.contracts.names import DEFAULT_TASK_QUEUE
from jitflow.contracts.trust import DecisionAction
from jitflow.temporal import TemporalConnectionError, connect

_T = TypeVar("_T")

_connection_options = [
    click.option("--address", envvar="TEMPORAL_ADDRESS", help="Temporal frontend host:port."),
    click.option("--namespace", envvar="TEMPORAL_NAMESPACE", help="Temporal namespace."),
]


def _with_connection(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_connection_options):
        command = option(command)
    return command


def _run(address: str | None, namespace: str | None, call: Callable[[Client], Awaitable[_T]]) -> _T:
    """Connect and run ``call``; turn Temporal's errors into one readable line and exit 1."""

    async def go() -> _T:
        client = await connect(address, namespace)
        return await call(client)

    try:
        return asyncio.run(go())
    except TemporalConnectionError as error:
        raise click.ClickException(str(error)) from None
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        message = cause.message if isinstance(cause, ApplicationError) else str(cause)
        raise click.ClickException(f"refused: {message}") from None
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            if "already completed" in error.message:
                raise click.ClickException(
                    "the request has ended, so nothing can change it; "
                    "`jitflow status ID` shows how it ended"
                ) from None
            raise click.ClickException(f"not found: {error.message}") from None
        raise click.ClickException(f"Temporal said: {error.message}") from None


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else "-"


def describe_state(state: AccessState) -> str:
    """A short, readable block for a terminal."""
    resolved = state.resolved
    target = (resolved.target.label or resolved.target.name) if resolved else state.input.target
    lines = [
        f"request   {state.workflow_id}",
        f"status    {state.status}",
        f"requester {resolved.requester if resolved else state.input.requester}",
        f"target    {target}",
    ]
    if resolved:
        lines.append(f"duration  {resolved.duration_seconds}s (flow {resolved.flow_name})")
    if state.approver:
        message = f" ({state.decision_message})" if state.decision_message else ""
        lines.append(f"decided   by {state.approver}{message}")
    if state.escalated_at:
        lines.append(f"granted   {_when(state.escalated_at)}, ends {_when(state.expires_at)}")
    if state.preexisting:
        lines.append("note      standing access: the user already held this role; kept")
    if state.deescalated_at:
        lines.append(f"removed   {_when(state.deescalated_at)}")
    if state.error:
        lines.append(f"error     {state.error}")
    return "\n".join(lines)


#: How long a command waits for the workflow to reach the state it reports.
WAIT_SECONDS = 30.0


async def _wait_for_state(
    client: Client,
    workflow_id: str,
    done: Callable[[AccessState], bool],
    timeout: float = WAIT_SECONDS,
) -> AccessState:
    """Query ``status`` until ``done`` holds (or ``timeout`` passes: then the latest state).

    A request's first steps (configuration, identity, permissions) run in activities, so the
    state a command wants to show may be a moment behind the call that caused it.
    """
    requests = AccessRequests(client)
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        state = await requests.status(workflow_id)
        if done(state) or asyncio.get_running_loop().time() > deadline:
            return state
        await asyncio.sleep(0.1)


def _print_outcome(outcome: UpdateOutcome) -> None:
    if outcome.accepted:
        click.echo(f"done: the request is now {outcome.status}")
    else:
        click.echo(f"not applied: {outcome.message} (status {outcome.status})")


@click.command()
@click.option("--flow", default="aptible_access", show_default=True, help="Flow name.")
@click.option("--target", required=True, help="Target name, label or role id.")
@click.option("--requester", required=True, help="Requester's email.")
@click.option("--duration", required=True, help="One of the flow's durations: 1h, 3600...")
@click.option("--reason", default=None, help="Why (the flow's reason field).")
@click.option("--field", "fields", multiple=True, help="Another prompt field, as name=value.")
@click.option("--id", "workflow_id", default=None, help="Workflow id (default: generated).")
@click.option("--task-queue", envvar="JITFLOW_TASK_QUEUE", default=DEFAULT_TASK_QUEUE)
@_with_connection
def request(
    flow: str,
    target: str,
    requester: str,
    duration: str,
    reason: str | None,
    fields: tuple[str, ...],
    workflow_id: str | None,
    task_queue: str,
    address: str | None,
    namespace: str | None,
) -> None:
    """Request access: start an AccessRequest workflow.

    \b
    Equivalent:
      temporal workflow start --type AccessRequest --task-queue jitflow \\
        --input '{"flow": "aptible_access", "target": "admin_prod",
                  "requester": "alice@example.com", "duration": "1h", "reason": "..."}'
    """
    extra: dict[str, Any] = {}
    for item in fields:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{item!r} is not name=value", param_hint="--field")
        extra[name] = value
    body = AccessRequestInput(
        flow=flow,
        target=target,
        requester=requester,
        duration=int(duration) if duration.isdigit() else duration,
        reason=reason,
        fields=extra,
    )
    chosen_id = workflow_id or f"access-{uuid.uuid4()}"

    async def start(client: Client) -> AccessState:
        handle = await AccessRequests(client, task_queue).start(
            body, chosen_id, summary=f"{requester} requests {target} for {duration}"
        )
        # Wait until approvers can act (or the request already ended: refused, auto-approved).
        return await _wait_for_state(
            client, handle.id, lambda state: state.ready_for_decision or state.final
        )

    state = _run(address, namespace, start)
    started = state.workflow_id
    click.echo(f"requested: {started}")
    click.echo(describe_state(state))
    if state.status == "failed":
        raise SystemExit(1)
    if state.status == "pending":
        click.echo(f"  approve: jitflow approve {started} --approver <email>")
    click.echo(f"  status:  jitflow status {started}")


def _decision_command(name: str, equivalent: str) -> click.Command:
    @click.command(name=name, help=f"{name.capitalize()} a pending request.\n\n{equivalent}")
    @click.argument("workflow_id")
    @click.option("--approver", required=True, help="Email of who decides.")
    @click.option("--message", default=None, help="Optional decision message.")
    @key_option
    @_with_connection
    def command(
        workflow_id: str,
        approver: str,
        message: str | None,
        key_path: Path | None,
        address: str | None,
        namespace: str | None,
    ) -> None:
        key = signer(key_path)

        async def decide(client: Client) -> tuple[UpdateOutcome, AccessState | None]:
            requests = AccessRequests(client)
            send = requests.approve if name == "approve" else requests.deny
            action: DecisionAction = "approve" if name == "approve" else "deny"
            body = await requests.signed(action, workflow_id, approver, message, key)
            assert isinstance(body, Decision)
            outcome = await send(workflow_id, body)
            if not (outcome.accepted and name == "approve"):
                return outcome, None
            # Show the grant once it is in place (the update answers "approved" when Aptible
            # is slow and escalation is still going on).
            granted = await _wait_for_state(
                client, workflow_id, lambda state: state.status != "approved"
            )
            return outcome, granted

        outcome, granted = _run(address, namespace, decide)
        _print_outcome(outcome)
        if granted is not None:
            click.echo(describe_state(granted))
            if granted.status == "failed":
                raise SystemExit(1)

    return command


approve = _decision_command(
    "approve",
    "\b\nEquivalent:\n  temporal workflow update execute --workflow-id ID --name approve \\\n"
    '    --input \'{"approver": "bob@example.com", "message": "ok"}\'',
)
deny = _decision_command(
    "deny",
    "\b\nEquivalent:\n  temporal workflow update execute --workflow-id ID --name deny \\\n"
    '    --input \'{"approver": "bob@example.com", "message": "not now"}\'',
)


@click.command()
@click.argument("workflow_id")
@click.option("--by", required=True, help="Email of who revokes (requester or approver).")
@click.option("--message", default=None)
@key_option
@_with_connection
def revoke(
    workflow_id: str,
    by: str,
    message: str | None,
    key_path: Path | None,
    address: str | None,
    namespace: str | None,
) -> None:
    """Revoke granted access now.

    \b
    Equivalent:
      temporal workflow update execute --workflow-id ID --name revoke \\
        --input '{"by": "alice@example.com", "message": "done"}'
    """

    key = signer(key_path)

    async def call(client: Client) -> UpdateOutcome:
        requests = AccessRequests(client)
        body = await requests.signed("revoke", workflow_id, by, message, key)
        assert isinstance(body, Revocation)
        return await requests.revoke(workflow_id, body)

    _print_outcome(_run(address, namespace, call))


@click.command()
@click.argument("workflow_id")
@click.option("--by", required=True, help="The requester's email.")
@click.option("--message", default=None)
@key_option
@_with_connection
def cancel(
    workflow_id: str,
    by: str,
    message: str | None,
    key_path: Path | None,
    address: str | None,
    namespace: str | None,
) -> None:
    """Withdraw your own pending request.

    \b
    Equivalent:
      temporal workflow update execute --workflow-id ID --name cancel \\
        --input '{"by": "alice@example.com"}'
    """

    key = signer(key_path)

    async def call(client: Client) -> UpdateOutcome:
        requests = AccessRequests(client)
        body = await requests.signed("cancel", workflow_id, by, message, key)
        assert isinstance(body, Cancellation)
        return await requests.cancel(workflow_id, body)

    _print_outcome(_run(address, namespace, call))


@click.command()
@click.argument("workflow_id")
@click.option("--json", "as_json", is_flag=True, help="Print the whole state as JSON.")
@_with_connection
def status(workflow_id: str, as_json: bool, address: str | None, namespace: str | None) -> None:
    """Show a request's state.

    \b
    Equivalent:
      temporal workflow query --workflow-id ID --type status
    """

    async def call(client: Client) -> AccessState:
        return await AccessRequests(client).status(workflow_id)

    state = _run(address, namespace, call)
    click.echo(state.model_dump_json(indent=2) if as_json else describe_state(state))


def list_query(active: bool) -> str:
    """The visibility query behind ``jitflow list``."""
    if active:
        return "WorkflowType = 'AccessRequest' AND JitStatus = 'escalated'"
    return "WorkflowType = 'AccessRequest'"


@click.command(name="list")
@click.option("--active", is_flag=True, help="Only grants in force now (JitStatus='escalated').")
@click.option("--limit", default=50, show_default=True)
@_with_connection
def list_requests(active: bool, limit: int, address: str | None, namespace: str | None) -> None:
    """List requests, newest first.

    \b
    Equivalent:
      temporal workflow list --query "JitStatus='escalated'"
    """
    query = list_query(active)

    async def call(client: Client) -> list[dict[str, str]]:
        rows: list[dict[str, str]] = []
        async for execution in client.list_workflows(query, limit=limit):
            attributes = execution.typed_search_attributes
            values = {pair.key.name: pair.value for pair in attributes}
            expires = values.get("JitExpiresAt")
            rows.append(
                {
                    "id": execution.id,
                    "status": str(values.get("JitStatus", "-")),
                    "requester": str(values.get("JitRequester", "-")),
                    "target": str(values.get("JitTarget", "-")),
                    "approver": str(values.get("JitApprover", "-")),
                    "ends": expires.isoformat(timespec="seconds")
                    if isinstance(expires, datetime)
                    else "-",
                }
            )
        return rows

    rows = _run(address, namespace, call)
    if not rows:
        click.echo("no active grants" if active else "no requests")
        return
    columns = ["id", "status", "requester", "target", "approver", "ends"]
    widths = {col: max(len(col), *(len(row[col]) for row in rows)) for col in columns}
    click.echo("  ".join(col.upper().ljust(widths[col]) for col in columns))
    for row in rows:
        click.echo("  ".join(row[col].ljust(widths[col]) for col in columns))


@click.command()
@click.argument("action", type=click.Choice(["approve", "deny", "revoke", "cancel"]))
@click.argument("workflow_id")
@click.option("--approver", "--by", "who", required=True, help="Email of who decides.")
@click.option("--message", default=None, help="Optional decision message (it is signed too).")
@key_option
@_with_connection
def sign(
    action: DecisionAction,
    workflow_id: str,
    who: str,
    message: str | None,
    key_path: Path | None,
    address: str | None,
    namespace: str | None,
) -> None:
    """Print a signed decision, for `temporal workflow update execute --input`.

    \b
    Use:
      temporal workflow update execute --workflow-id ID --name approve \\
        --input "$(jitflow sign approve ID --approver bob@example.com --key KEY)"

    The proof is valid for 10 minutes and for this request's run only.
    """
    key = signer(key_path)

    async def call(client: Client) -> str:
        body = await AccessRequests(client).signed(action, workflow_id, who, message, key)
        return body_json(body)

    click.echo(_run(address, namespace, call))


def register(group: click.Group) -> None:
    """Add the access commands to the ``jitflow`` group."""
    for command in (request, approve, deny, revoke, cancel, sign, status, list_requests):
        group.add_command(command)
