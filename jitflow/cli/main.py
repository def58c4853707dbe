"""Entry point of the ``jitflow`` console script."""

from __future__ import annotations

import click

from jitflow import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="jitflow")
def main() -> None:
    """jitflow: just-in-time privileged access for Aptible, built on Temporal."""


# Command groups register themselves below, one line each.
main.add_command(__import__("jitflow.cli.validate", fromlist=["validate"]).validate)
main.add_command(__import__("jitflow.cli.users", fromlist=["users"]).users)
