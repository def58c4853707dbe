"""Entry point of the ``jitflow`` console script: one module per command group, wired here."""

from __future__ import annotations

import logging
import os
import sys

import click

from jitflow import __version__
from jitflow.cli import access, dev, emulator, users, validate, worker


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
