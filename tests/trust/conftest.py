"""Fixtures of the trust tests, reused from the identity and secrets suites rather than copied.

The store tests here run on SQLite and on a real PostgreSQL exactly as ``tests/identity`` does,
and the worker-key tests talk to moto's server as ``tests/secrets`` does, so both conftests are
loaded under names of their own (pytest knows each folder's as ``conftest``) and their fixtures
re-exported. ``tests/secrets`` goes on ``sys.path`` for its ``secret_test_support`` helpers, as
pytest would put it there when collecting that folder.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

_TESTS = Path(__file__).resolve().parents[1]


def _load(folder: str) -> ModuleType:
    path = _TESTS / folder
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
    name = f"_{folder}_fixtures"
    spec = importlib.util.spec_from_file_location(name, path / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_identity = _load("identity")
_secrets = _load("secrets")

postgres_server = _identity.postgres_server
postgres_url = _identity.postgres_url
sqlite_url = _identity.sqlite_url
database_url = _identity.database_url
store = _identity.store

aws_environment = _secrets.aws_environment  # autouse: dummy keys, no endpoint, no AWS config
moto_url = _secrets.moto_url
secret_name = _secrets.secret_name
canned_aws = _secrets.canned_aws


@pytest.fixture(scope="session")
def ssh_keygen() -> str:
    """The real ``ssh-keygen``: the keys under test are the ones people actually have."""
    found = shutil.which("ssh-keygen")
    if found is None:
        pytest.fail("ssh-keygen is missing: apt-get install -y openssh-client")
    return found
