"""``jitflow dev``: the whole stack on one machine (what ``make run`` starts)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from jitflow.devstack.stack import StackSettings


@click.command()
@click.option("--demo", is_flag=True, help="Play a request → approve → revoke scenario, then stop.")
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
def dev(
    demo: bool,
    config_dir: Path,
    state_dir: Path,
    temporal_port: int,
    ui_port: int,
    aptible_port: int,
    aws_port: int,
) -> None:
    """Start Temporal (with its Web UI), the Aptible emulator, Secrets Manager (moto) and the
    worker, as child processes stopped together by Ctrl-C or SIGTERM.

    Requests survive a restart: Temporal's database and the emulator's state live in
    --state-dir. With --demo, a scripted request goes through approval, escalation and
    revocation, each step printed, and the stack stops afterwards.
    """
    from jitflow.devstack.demo import DemoFailed, instructions, run_demo
    from jitflow.devstack.run import run_stack
    from jitflow.devstack.supervisor import StackError

    settings = StackSettings(
        state_dir=state_dir,
        config_dir=config_dir,
        temporal_port=temporal_port,
        ui_port=ui_port,
        aptible_port=aptible_port,
        aws_port=aws_port,
    )

    def after_start(ready: StackSettings) -> None:
        if demo:
            click.echo("\nDemo: one request, from request to revocation")
            asyncio.run(run_demo(ready, echo=click.echo))
            click.echo("Demo finished: access was granted and taken away again.")
        else:
            click.echo(instructions(ready))

    try:
        code = run_stack(settings, after_start=after_start, keep_running=not demo, echo=click.echo)
    except (StackError, DemoFailed) as error:
        raise click.ClickException(str(error)) from None
    raise SystemExit(code)
