"""`jitflow validate` reports a flow whose module has a misnamed hook or a syntax error (issue 6)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from jitflow.cli.main import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "aptible"


def _config_with_impl(tmp_path: Path, source: str) -> Path:
    folder = tmp_path / "config"
    shutil.copytree(EXAMPLE, folder)
    flow_tf = folder / "flow.tf"
    flow_tf.write_text(
        flow_tf.read_text().replace(
            'implementation = "reducers.aptible_access"', 'implementation = file("impl.py")'
        )
    )
    (folder / "impl.py").write_text(source)
    return folder


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "from reducers import hook\n\n@hook\ndef on_requst(event):\n    return None\n",
            ["impl.py:4", "on_requst", "did you mean on_request?"],
        ),
        ("def get_permissions(event:\n", ["impl.py:1", "syntax error"]),
    ],
    ids=["misnamed-hook", "syntax-error"],
)
def test_validate_exits_1_naming_the_broken_handler(
    tmp_path: Path, source: str, expected: list[str]
) -> None:
    folder = _config_with_impl(tmp_path, source)
    result = CliRunner().invoke(main, ["validate", str(folder)])
    assert result.exit_code == 1, result.output
    for text in expected:
        assert text in result.output


def test_validate_accepts_the_example_module() -> None:
    result = CliRunner().invoke(main, ["validate", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "reducers.aptible_access" in result.output
