"""The reliability tests run on the workflow tests' kind of stack (see ``stack_fixtures``)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflows"))

from stack_fixtures import *  # noqa: F403
