"""The access-workflow tests' servers (see ``stack_fixtures``)."""

from stack_fixtures import *  # noqa: F403
