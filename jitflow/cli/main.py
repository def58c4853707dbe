"""Entry point of the ``jitflow`` console script: one module per command group, wired here."""

from __future__ import annotations

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
