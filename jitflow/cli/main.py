"""Entry point of the ``jitflow`` console script: one module per command group, wired here.

Each command's module is imported only when that command runs (or ``--help`` lists them all):
importing every group (the emulators, Slack, the dev stack) took a second before any command
started, which ``jitflow revoke --all`` in an incident spent before its first removal.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import traceback

import click

from jitflow import __version__

#: Command name -> ``module:attribute`` of its click command.
COMMANDS = {
    "validate": "jitflow.cli.validate:validate",
    "users": "jitflow.cli.users:users",
    "emulator": "jitflow.cli.emulator:emulator",
    "worker": "jitflow.cli.worker:worker",
    "dev": "jitflow.cli.dev:dev",
    "request": "jitflow.cli.access:request",
    "approve": "jitflow.cli.access:approve",
    "deny": "jitflow.cli.access:deny",
    "revoke": "jitflow.cli.access:revoke",
    "cancel": "jitflow.cli.access:cancel",
    "sign": "jitflow.cli.access:sign",
    "status": "jitflow.cli.access:status",
    "list": "jitflow.cli.access:list_requests",
    "reconcile": "jitflow.cli.reconcile:reconcile",
    "slack": "jitflow.cli.slack:slack",
}


class LazyGroup(click.Group):
    """A group whose commands are imported by name, when asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        known = super().get_command(ctx, cmd_name)
        if known is not None or cmd_name not in COMMANDS:
            return known
        module, _, attribute = COMMANDS[cmd_name].partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{COMMANDS[cmd_name]} is not a click command")
        self.add_command(command, cmd_name)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="jitflow")
def main() -> None:
    """jitflow: just-in-time privileged access for Aptible, built on Temporal."""


#: Set to show the traceback of an unexpected error instead of its one-line summary.
DEBUG_ENV = "JITFLOW_DEBUG"


def _unexpected(error: Exception) -> int:
    """Report an error no command anticipated in one line, not a traceback.

    Commands turn every user mistake and unreachable service into a message of their own; what
    still arrives here is a bug, and a page of traceback would bury the one line that matters.
    ``JITFLOW_DEBUG=1`` brings the traceback back for whoever investigates.
    """
    if os.environ.get(DEBUG_ENV):
        traceback.print_exception(error)
    else:
        print(
            f"Error: unexpected {type(error).__name__}: {error} (a bug in jitflow; "
            f"{DEBUG_ENV}=1 shows the traceback)",
            file=sys.stderr,
        )
    return 1


def run() -> None:
    """Console-script entry: run the CLI, then leave without CPython's interpreter teardown.

    The Temporal client's Rust threads can outlive the event loop and abort the interpreter while
    it finalizes (temporalio/sdk-python#300: "PyGILState_Release ... must be current"), turning a
    command that succeeded into a SIGABRT. Every command has flushed and closed what it owns by
    the time it returns, so exiting directly is safe.
    """
    try:
        main()
        code = 0
    except Exception as error:
        code = _unexpected(error)
    except SystemExit as exit_:
        if exit_.code is None:
            code = 0
        elif isinstance(exit_.code, int):
            code = exit_.code
        else:
            print(exit_.code, file=sys.stderr)
            code = 1
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
