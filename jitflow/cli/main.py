"""Entry point of the ``jitflow`` console script: one module per command group, wired here."""

from __future__ import annotations

import logging
import os
import sys
import traceback

import click

from jitflow import __version__
from jitflow.cli import access, dev, emulator, reconcile, slack, users, validate, worker


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="jitflow")
def main() -> None:
    """jitflow: just-in-time privileged access for Aptible, built on Temporal."""


main.add_command(validate.validate)
main.add_command(users.users)
main.add_command(emulator.emulator)
main.add_command(worker.worker)
main.add_command(dev.dev)
access.register(main)
main.add_command(reconcile.reconcile)
main.add_command(slack.slack)


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
