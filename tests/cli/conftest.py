"""The CLI tests drive ``jitflow`` commands against the same kind of stack as the workflow
tests: a real dev server, the Aptible emulator and moto, and a worker that requires signed
decisions."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflows"))

from stack_fixtures import *  # noqa: F403
