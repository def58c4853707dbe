"""The worker's deployment version: the build id follows the workflow code by itself."""

from __future__ import annotations

from pathlib import Path

from jitflow import __version__
from jitflow.deployment import (
    DEFAULT_DEPLOYMENT_NAME,
    DeploymentSettings,
    default_build_id,
    workflow_code_hash,
)


def test_a_changed_workflow_is_a_new_build(tmp_path: Path) -> None:
    code = tmp_path / "workflows"
    code.mkdir()
    (code / "access_request.py").write_text("x = 1\n")
    before = workflow_code_hash((code,))
    assert workflow_code_hash((code,)) == before, "the same code is the same build"
    (code / "access_request.py").write_text("x = 2\n")
    assert workflow_code_hash((code,)) != before
    (code / "access_request.py").write_text("x = 1\n")
    (code / "new_step.py").write_text("")
    assert workflow_code_hash((code,)) != before, "a new module is a new build"


def test_default_build_id_is_the_version_and_the_code_hash() -> None:
    assert default_build_id() == f"{__version__}-{workflow_code_hash()}"


def test_settings_from_options_then_environment() -> None:
    settings = DeploymentSettings.from_env({})
    assert settings == DeploymentSettings(DEFAULT_DEPLOYMENT_NAME, default_build_id())
    env = {"JITFLOW_DEPLOYMENT_NAME": "access", "JITFLOW_BUILD_ID": "2026-11-29"}
    assert DeploymentSettings.from_env(env) == DeploymentSettings("access", "2026-11-29")
    assert DeploymentSettings.from_env(env, build_id="b7") == DeploymentSettings("access", "b7")
    assert str(DeploymentSettings("access", "b7")) == "access:b7"
