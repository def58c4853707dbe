"""The ``jitflow`` group imports a command's module only when that command runs."""

from __future__ import annotations

import json
import subprocess
import sys

import click
from click.testing import CliRunner

from jitflow.cli.main import COMMANDS, main


def test_every_listed_command_resolves_to_the_command_of_that_name() -> None:
    context = click.Context(main)
    assert main.list_commands(context) == sorted(COMMANDS)
    for name in COMMANDS:
        command = main.get_command(context, name)
        assert isinstance(command, click.Command)
        assert command.name == name


def test_an_unknown_command_is_refused_by_name() -> None:
    result = CliRunner().invoke(main, ["revok"])
    assert result.exit_code == 2
    assert "No such command 'revok'" in result.output


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    listed = result.output.split("Commands:", 1)[1]
    for name in COMMANDS:
        assert f"\n  {name} " in listed


def test_revoke_leaves_the_other_command_groups_unimported() -> None:
    """What ``jitflow revoke --all`` spends before its first removal: not the emulators', the
    dev stack's or Slack's imports."""
    probe = (
        "import json, sys\n"
        "from jitflow.cli.main import main\n"
        "try:\n"
        "    main(['revoke', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('jitflow.cli'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert "jitflow.cli.access" in loaded
    for other in (
        "jitflow.cli.dev",
        "jitflow.cli.emulator",
        "jitflow.cli.slack",
        "jitflow.cli.worker",
    ):
        assert other not in loaded
