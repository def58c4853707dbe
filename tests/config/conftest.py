"""Helpers for configuration tests: write .tf text into a temporary folder and load it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jitflow.config.issues import ConfigErrors, ConfigIssue
from jitflow.config.loader import load_config
from jitflow.config.models import JitflowConfig

FIXTURES = Path(__file__).parent / "fixtures"

#: A minimal valid configuration; tests append to it or replace parts of it.
BASE = """
resource "sym_secrets" "this" {
  type = "aws_secrets_manager"
  name = "main-sm"
}

resource "sym_secret" "username" {
  source_id = sym_secrets.this.id
  path      = "sym/main/bot"
  settings  = { json_key = "username" }
}

resource "sym_secret" "password" {
  source_id = sym_secrets.this.id
  path      = "sym/main/bot"
  settings  = { json_key = "password" }
}

resource "sym_integration" "aptible" {
  type        = "aptible"
  name        = "main-aptible"
  external_id = "94a49e57-d046-4d9d-9dbf-f7711e337368"
  settings = {
    username_secret = sym_secret.username.id
    password_secret = sym_secret.password.id
  }
}

resource "sym_target" "admin_prod" {
  type     = "aptible_role"
  name     = "admin-prod"
  label    = "Admin Prod"
  settings = { role_id = "24463EF7-1D6E-402E-A365-69CB6DB80C6E" }
}

resource "sym_strategy" "this" {
  type           = "aptible"
  name           = "main-aptible-strategy"
  integration_id = sym_integration.aptible.id
  targets        = [sym_target.admin_prod.id]
}
"""

FLOW = """
resource "sym_flow" "this" {
  name           = "aptible_access"
  implementation = "reducers.aptible_access"
  params {
    strategy_id = sym_strategy.this.id
  }
}
"""

WriteConfig = Callable[..., Path]


@pytest.fixture
def write_config(tmp_path: Path) -> WriteConfig:
    """Write ``files`` (name -> text) into a fresh folder and return it."""
    counter = iter(range(1000))

    def write(text: str | None = None, **files: str) -> Path:
        folder = tmp_path / f"config{next(counter)}"
        folder.mkdir()
        if text is not None:
            files = {"main.tf": text, **files}
        for name, content in files.items():
            (folder / name.replace("__", ".")).write_text(content)
        return folder

    return write


@pytest.fixture
def base() -> str:
    """A valid configuration without a flow."""
    return BASE


@pytest.fixture
def flow() -> str:
    """A flow using ``base``'s strategy."""
    return FLOW


Loader = Callable[..., JitflowConfig]
ErrorLoader = Callable[..., list[ConfigIssue]]


@pytest.fixture
def load_ok() -> Loader:
    """Load a configuration that must be valid (no environment variables apply)."""

    def load(path: Path, **kwargs: Any) -> JitflowConfig:
        return load_config(path, environ=kwargs.pop("environ", {}), **kwargs)

    return load


@pytest.fixture
def load_errors() -> ErrorLoader:
    """Load a configuration that must fail, returning its errors."""

    def load(path: Path, **kwargs: Any) -> list[ConfigIssue]:
        with pytest.raises(ConfigErrors) as failure:
            load_config(path, environ=kwargs.pop("environ", {}), **kwargs)
        return failure.value.errors

    return load
