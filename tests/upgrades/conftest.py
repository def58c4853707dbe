"""The upgrade tests run two builds of the worker against the workflow tests' kind of stack: a
real dev server, the Aptible emulator and moto."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflows"))

from stack_fixtures import *  # noqa: F403
