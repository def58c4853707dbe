"""``jitflow dev``: the whole stack on one machine (what ``make run`` starts)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from jitflow.cli.naming import command_name, shown_path
from jitflow.devstack.ports import SLACK_EMULATOR_PORT, SLACK_FRONT_DOOR_PORT
from jitflow.devstack.stack import StackSettings


@click.command()
@click.option(
    "--demo",
    is_flag=True,
    help="Play a request → Slack click → approve → revoke scenario, then keep the stack up "
    "until Ctrl-C.",
)
@click.option(
    "--stop-after-demo",
    is_flag=True,
    help="With --demo: stop the stack when the demo ends (its Web UI link then stops working).",
)
@click.option(
    "--config",
    "config_dir",
    default="examples/aptible",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of sym_* .tf files (with emulator-state.json for the Aptible emulator).",
)
@click.option(
    "--state-dir",
    default=".jitflow",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the Temporal database, the emulator state, the identity store and logs live.",
)
@click.option("--temporal-port", default=7233, show_default=True)
@click.option("--ui-port", default=8233, show_default=True)
@click.option("--aptible-port", default=8780, show_default=True)
@click.option("--aws-port", default=4566, show_default=True)
@click.option("--slack-port", default=SLACK_EMULATOR_PORT, show_default=True)
@click.option("--front-door-port", default=SLACK_FRONT_DOOR_PORT, show_default=True)
def dev(
    demo: bool,
    stop_after_demo: bool,
    config_dir: Path,
    state_dir: Path,
    temporal_port: int,
    ui_port: int,
    aptible_port: int,
    aws_port: int,
    slack_port: int,
    front_door_port: int,
) -> None:
    """Start Temporal (with its Web UI), the Aptible and Slack emulators, Secrets Manager
    (moto), the Slack front door and the worker, as child processes stopped together by Ctrl-C
    or SIGTERM. The worker runs on a copy of --config (in --state-dir/config) with a Slack
    integration added, so requests are announced in the Slack emulator's #access-requests.

    Requests survive a restart: Temporal's database and the emulator's state live in
    --state-dir. With --demo, a scripted request goes through Slack (the message, a signed click
    on Approve), escalation and revocation, each step printed; the stack then stays up, so that the Web UI link it prints
    works, until Ctrl-C (or stops at once with --stop-after-demo).
    """
    from jitflow.devstack.binaries import BinaryNotFound, temporal_cli
    from jitflow.devstack.demo import DemoFailed, after_demo, instructions, run_demo
    from jitflow.devstack.run import run_stack
    from jitflow.devstack.supervisor import StackError

    if stop_after_demo and not demo:
        raise click.UsageError("--stop-after-demo goes with --demo")
    # The printed commands name jitflow as it was run here, so that they paste as they are.
    jitflow = command_name()
    settings = StackSettings(
        state_dir=state_dir,
        config_dir=config_dir,
        temporal_port=temporal_port,
        ui_port=ui_port,
        aptible_port=aptible_port,
        aws_port=aws_port,
        slack_port=slack_port,
        front_door_port=front_door_port,
    )

    def after_start(ready: StackSettings) -> None:
        if demo:
            click.echo("\nDemo: one request through Slack, from request to revocation")
            final = asyncio.run(run_demo(ready, echo=click.echo))
            click.echo("Demo finished: access was granted and taken away again.")
            click.echo(
                after_demo(
                    ready, final.workflow_id, keep_running=not stop_after_demo, jitflow=jitflow
                )
            )
        else:
            click.echo(
                instructions(ready, jitflow=jitflow, temporal=shown_path(str(temporal_cli())))
            )

    try:
        code = run_stack(
            settings,
            after_start=after_start,
            keep_running=not (demo and stop_after_demo),
            echo=click.echo,
        )
    except (StackError, DemoFailed, BinaryNotFound) as error:
        raise click.ClickException(str(error)) from None
    raise SystemExit(code)
