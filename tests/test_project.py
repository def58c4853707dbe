"""The project's own plumbing: console script, Temporal binaries from the registries."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from jitflow.cli.main import main
from jitflow.devstack.binaries import temporal_cli, temporal_test_server


def test_cli_help_lists_the_program() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0, result.output
    assert "jitflow" in result.output


def test_temporal_binaries_come_from_the_installed_wheels() -> None:
    venv_bin = Path(sys.executable).parent
    for binary in (temporal_cli(), temporal_test_server()):
        assert binary.parent == venv_bin, binary
    version = subprocess.run(
        [str(temporal_cli()), "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.startswith("temporal version"), version.stdout
