"""The Slack tests run against the workflow tests' stack (a dev server, the Aptible emulator,
moto) plus a Slack emulator on loopback."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflows"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from stack_fixtures import *  # noqa: F403
