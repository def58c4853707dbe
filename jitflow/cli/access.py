"""``jitflow request|approve|deny|revoke|cancel|status|list``: the access workflow from a terminal.

Each command is a thin wrapper over one Temporal call that the ``temporal`` CLI can make too;
its ``--help`` shows that equivalent command. Refusals (not an approver, already decided...)
come back from the workflow's update validators and are printed as they are. The exit status
says how the request stands (``jitflow.cli.outcome``), and no user mistake or unreachable
service ends in a traceback (``jitflow.cli.calls``).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowQueryFailedError
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from jitflow.access_client import AccessRequests
from jitflow.cli import calls
from jitflow.cli.calls import run_call
from jitflow.cli.describe import describe_state, target_shown
from jitflow.cli.mass_revocation import DEFAULT_CONCURRENCY
from jitflow.cli.mass_revoke import mass_revoke, selection_from_options
from jitflow.cli.naming import command_name
from jitflow.cli.outcome import Command, CommandError, ExitCode, exit_code
from jitflow.cli.request_help import CONFIG_ENV, RequestCommand
from jitflow.cli.signing import body_json, key_option, signer
from jitflow.contracts.access import (
    AccessRequestInput,
    AccessState,
    Cancellation,
    Decision,
    Revocation,
    UpdateOutcome,
)
from jitflow.contracts.names import ACCESS_WORKFLOW_TYPE, DEFAULT_TASK_QUEUE
from jitflow.contracts.trust import DecisionAction

_connection_options = [
    click.option("--address", envvar="TEMPORAL_ADDRESS", help="Temporal frontend host:port."),
    click.option("--namespace", envvar="TEMPORAL_NAMESPACE", help="Temporal namespace."),
]


def _with_connection(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_connection_options):
        command = option(command)
    return command


def _requests(client: Client, task_queue: str = DEFAULT_TASK_QUEUE) -> AccessRequests:
    return AccessRequests(client, task_queue, query_timeout=calls.QUERY_TIMEOUT)


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
    requests = _requests(client)
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        state = await requests.status(workflow_id)
        if done(state) or asyncio.get_running_loop().time() > deadline:
            return state
        await asyncio.sleep(0.1)


def _exit(code: ExitCode) -> None:
    if code != ExitCode.DONE:
        raise SystemExit(int(code))


# --- request -------------------------------------------------------------------------------


def parse_fields(items: tuple[str, ...]) -> dict[str, Any]:
    """``--field name=value`` options as a dict."""
    fields: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{item!r} is not name=value", param_hint="--field")
        fields[name.strip()] = value
    return fields


def parse_context(items: tuple[str, ...]) -> dict[str, Any]:
    """``--context KEY=VALUE`` and ``--context @file.json`` options merged in order (a later
    key wins), for reducers' ``event.get_context("request")``."""
    context: dict[str, Any] = {}
    for item in items:
        if item.startswith("@"):
            path = Path(item[1:])
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as error:
                raise click.BadParameter(
                    f"cannot read {str(path)!r}: {error.strerror or error}", param_hint="--context"
                ) from None
            except UnicodeDecodeError:
                raise click.BadParameter(
                    f"{str(path)!r} is not UTF-8 text", param_hint="--context"
                ) from None
            try:
                value = json.loads(text)
            except json.JSONDecodeError as error:
                raise click.BadParameter(
                    f"{str(path)!r} is not JSON: {error}", param_hint="--context"
                ) from None
            if not isinstance(value, dict):
                raise click.BadParameter(
                    f"{str(path)!r} holds a JSON {type(value).__name__}, not an object "
                    '(expected {"key": value, ...})',
                    param_hint="--context",
                )
            context.update(value)
            continue
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(
                f"{item!r} is neither KEY=VALUE nor @FILE.json", param_hint="--context"
            )
        context[name.strip()] = value
    return context


def _settled(state: AccessState) -> bool:
    """Worth reporting: ended, or waiting for people (an auto-approval is followed until the
    grant is in place, so that the exit status can say "granted")."""
    return state.final or (state.ready_for_decision and state.status != "approved")


async def _id_in_use(requests: AccessRequests, workflow_id: str) -> str:
    """Say what holds ``workflow_id`` and what to do instead: see it, or pick another id."""
    prog = command_name()
    other_id = "pick another --id (without --id, one is generated)"
    try:
        description = await requests.handle(workflow_id).describe()
    except RPCError:
        return f"id {workflow_id!r} is already taken; {other_id}"
    running = description.status == WorkflowExecutionStatus.RUNNING
    if description.workflow_type != ACCESS_WORKFLOW_TYPE:
        state_text = "running" if running else "ended"
        return (
            f"id {workflow_id!r} belongs to a {description.workflow_type} workflow "
            f"({state_text}), not an access request; {other_id}"
        )
    try:
        state: AccessState | None = await requests.status(workflow_id)
    except (RPCError, WorkflowQueryFailedError):
        state = None  # no worker to answer: Temporal's own status still tells open from ended
    if state is not None:
        asked = f"{state.input.requester} asked for {target_shown(state)}"
        status_text = f"{state.status}: {asked}"
    else:
        status_text = (description.status.name if description.status else "unknown").lower()
    see = f"`{prog} status {workflow_id}`"
    if running:
        return (
            f"request {workflow_id!r} is already open ({status_text}); see it with {see}, "
            f"or {other_id}"
        )
    return (
        f"request {workflow_id!r} has already ended ({status_text}); {see} shows it. To request "
        f"again, {other_id}, or add --new-run to start a new request under this id"
    )


@click.command(cls=RequestCommand)
@click.option("--flow", default="aptible_access", show_default=True, help="Flow name.")
@click.option("--target", required=True, help="Target name, label or role id.")
@click.option("--requester", required=True, help="Requester's email.")
@click.option("--duration", required=True, help="One of the flow's durations: 1h, 3600...")
@click.option("--reason", default=None, help="Why (the flow's reason field).")
@click.option("--field", "fields", multiple=True, help="Another prompt field, as name=value.")
@click.option(
    "--context",
    "contexts",
    multiple=True,
    metavar="KEY=VALUE|@FILE.json",
    help='Context for the flow\'s reducers (event.get_context("request")); repeatable.',
)
@click.option("--id", "workflow_id", default=None, help="Workflow id (default: generated).")
@click.option(
    "--new-run",
    is_flag=True,
    help="Allow an --id whose earlier request has ended: start a new request under it.",
)
@click.option("--task-queue", envvar="JITFLOW_TASK_QUEUE", default=DEFAULT_TASK_QUEUE)
@click.option(
    "--config",
    "config_path",
    envvar=CONFIG_ENV,
    default=None,
    metavar="DIR",
    help="Configuration whose flows this help lists (default: $JITFLOW_CONFIG, else "
    "examples/aptible). The worker checks the request against its own.",
)
@_with_connection
def request(
    flow: str,
    target: str,
    requester: str,
    duration: str,
    reason: str | None,
    fields: tuple[str, ...],
    contexts: tuple[str, ...],
    workflow_id: str | None,
    new_run: bool,
    task_queue: str,
    config_path: str | None,
    address: str | None,
    namespace: str | None,
) -> None:
    """Request access: start an AccessRequest workflow.

    Waits until approvers can act (or the request has ended) and exits 0 when access was
    granted at once, 3 while it waits for a decision, 4 when it was refused, 5 when it failed.

    \b
    Equivalent:
      temporal workflow start --type AccessRequest --task-queue jitflow \\
        --input '{"flow": "aptible_access", "target": "admin_prod",
                  "requester": "alice@example.com", "duration": "1h", "reason": "..."}'
    """
    body = AccessRequestInput(
        flow=flow,
        target=target,
        requester=requester,
        duration=int(duration) if duration.isdigit() else duration,
        reason=reason,
        fields=parse_fields(fields),
        context=parse_context(contexts),
    )
    chosen_id = workflow_id or f"access-{uuid.uuid4()}"

    async def start(client: Client) -> AccessState:
        requests = _requests(client, task_queue)
        try:
            handle = await requests.start(
                body,
                chosen_id,
                summary=f"{requester} requests {target} for {duration}",
                reuse_ended_id=new_run,
            )
        except WorkflowAlreadyStartedError:
            raise CommandError(await _id_in_use(requests, chosen_id)) from None
        return await _wait_for_state(client, handle.id, _settled)

    state = run_call(address, namespace, start, workflow_id=chosen_id)
    started = state.workflow_id
    prog = command_name()
    if state.status == "failed":
        # Nothing was requested: say why, not "requested: <id>".
        raise CommandError(f"request {started} failed: {state.error}", ExitCode.FAILED)
    click.echo(f"requested: {started}")
    click.echo(describe_state(state))
    if state.status == "pending":
        click.echo(f"  approve: {prog} approve {started} --approver <email> --key <their key>")
    elif state.status == "approved":
        click.echo("  access is being granted; status shows when it is in place")
    elif state.status == "escalated":
        click.echo(f"  revoke:  {prog} revoke {started} --by <email> --key <their key>")
    click.echo(f"  status:  {prog} status {started}")
    _exit(exit_code("request", state.status))


# --- decisions -----------------------------------------------------------------------------


def _print_outcome(outcome: UpdateOutcome) -> None:
    if outcome.accepted:
        click.echo(f"done: the request is now {outcome.status}")
    else:
        click.echo(f"not applied: {outcome.message} (status {outcome.status})")


def _decision_command(name: Command, equivalent: str) -> click.Command:
    @click.command(
        name=name,
        help=f"{name.capitalize()} a pending request.\n\nExits 0 when done, 4 when refused "
        f"(README: exit codes).\n\n{equivalent}",
    )
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
            requests = _requests(client)
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

        outcome, granted = run_call(address, namespace, decide, workflow_id=workflow_id)
        _print_outcome(outcome)
        status = outcome.status
        if granted is not None:
            click.echo(describe_state(granted))
            status = granted.status
        _exit(exit_code(name, status, accepted=outcome.accepted))

    return command


approve = _decision_command(
    "approve",
    "\b\nEquivalent:\n  temporal workflow update execute --workflow-id ID --name approve \\\n"
    '    --input "$(jitflow sign approve ID --approver bob@example.com --message ok)"',
)
deny = _decision_command(
    "deny",
    "\b\nEquivalent:\n  temporal workflow update execute --workflow-id ID --name deny \\\n"
    "    --input \"$(jitflow sign deny ID --approver bob@example.com --message 'not now')\"",
)


@click.command()
@click.argument("workflow_id", required=False)
@click.option("--by", required=True, help="Email of who revokes (requester or approver).")
@click.option("--message", default=None)
@click.option(
    "--all", "everything", is_flag=True, help="Revoke every escalated grant (on --task-queue)."
)
@click.option("--requester", default=None, help="Revoke every escalated grant of this email.")
@click.option(
    "--target", default=None, help="Revoke every escalated grant of this target (name, key...)."
)
@click.option(
    "--concurrency",
    default=DEFAULT_CONCURRENCY,
    show_default=True,
    type=click.IntRange(min=1),
    help=(
        "With --all/--requester/--target: grants read and released at their owners, then"
        " revoked, at once."
    ),
)
@click.option("--task-queue", envvar="JITFLOW_TASK_QUEUE", default=DEFAULT_TASK_QUEUE)
@key_option
@_with_connection
def revoke(
    workflow_id: str | None,
    by: str,
    message: str | None,
    everything: bool,
    requester: str | None,
    target: str | None,
    concurrency: int,
    task_queue: str,
    key_path: Path | None,
    address: str | None,
    namespace: str | None,
) -> None:
    """Revoke granted access now: one request (WORKFLOW_ID), or every escalated grant that
    --all, --requester and/or --target select, each with its own signed revoke.

    Exits 0 once access is removed (all of it: removed or already gone), 3 while some is still
    being removed, 4 when refused (README: exit codes).

    \b
    Equivalent:
      temporal workflow update execute --workflow-id ID --name revoke \\
        --input "$(jitflow sign revoke ID --by alice@example.com --message done)"
    """
    selecting = everything or requester is not None or target is not None
    if selecting == (workflow_id is not None):
        raise click.UsageError(
            "give either a WORKFLOW_ID or a selection (--all, --requester EMAIL, --target NAME)"
        )
    if everything and (requester is not None or target is not None):
        raise click.UsageError("--all selects everything: leave out --requester and --target")
    key = signer(key_path)
    if selecting:
        selection = selection_from_options(everything, requester, target, task_queue)
        _exit(
            mass_revoke(
                selection,
                by=by,
                message=message,
                key=key,
                concurrency=concurrency,
                address=address,
                namespace=namespace,
            )
        )
        return
    assert workflow_id is not None
    single_id = workflow_id

    async def call(client: Client) -> UpdateOutcome:
        requests = _requests(client)
        body = await requests.signed("revoke", single_id, by, message, key)
        assert isinstance(body, Revocation)
        return await requests.revoke(single_id, body)

    outcome = run_call(address, namespace, call, workflow_id=single_id)
    _print_outcome(outcome)
    _exit(exit_code("revoke", outcome.status, accepted=outcome.accepted))


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

    Exits 0 once withdrawn, 4 when refused (README: exit codes).

    \b
    Equivalent:
      temporal workflow update execute --workflow-id ID --name cancel \\
        --input "$(jitflow sign cancel ID --by alice@example.com)"
    """

    key = signer(key_path)

    async def call(client: Client) -> UpdateOutcome:
        requests = _requests(client)
        body = await requests.signed("cancel", workflow_id, by, message, key)
        assert isinstance(body, Cancellation)
        return await requests.cancel(workflow_id, body)

    outcome = run_call(address, namespace, call, workflow_id=workflow_id)
    _print_outcome(outcome)
    _exit(exit_code("cancel", outcome.status, accepted=outcome.accepted))


# --- reading -------------------------------------------------------------------------------


@click.command()
@click.argument("workflow_id")
@click.option("--json", "as_json", is_flag=True, help="Print the whole state as JSON.")
@_with_connection
def status(workflow_id: str, as_json: bool, address: str | None, namespace: str | None) -> None:
    """Show a request's state: its reason, decision and timeline.

    \b
    Equivalent:
      temporal workflow query --workflow-id ID --type status
    """

    async def call(client: Client) -> AccessState:
        return await _requests(client).status(workflow_id)

    state = run_call(address, namespace, call, workflow_id=workflow_id)
    click.echo(state.model_dump_json(indent=2) if as_json else describe_state(state))


def list_query(active: bool) -> str:
    """The visibility query behind ``jitflow list``."""
    if active:
        return "WorkflowType = 'AccessRequest' AND JitStatus = 'escalated'"
    return "WorkflowType = 'AccessRequest'"


@click.command(name="list")
@click.option("--active", is_flag=True, help="Only grants in force now (JitStatus='escalated').")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1))
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

    rows = run_call(address, namespace, call)
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
        body = await _requests(client).signed(action, workflow_id, who, message, key)
        return body_json(body)

    click.echo(run_call(address, namespace, call, workflow_id=workflow_id))
