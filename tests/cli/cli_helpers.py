"""Running ``jitflow`` commands in-process against the test stack, as a person would type them."""

from __future__ import annotations

import asyncio
from pathlib import Path

from access_stack import Stack, key_file
from click.testing import CliRunner, Result

from jitflow.cli.main import main


def address(stack: Stack) -> str:
    return stack.raw_client.service_client.config.target_host


async def jitflow(stack: Stack, *args: str) -> Result:
    """Run a ``jitflow`` command in a thread (it runs its own event loop; the worker shares
    this one)."""
    env = {"TEMPORAL_ADDRESS": address(stack), "JITFLOW_TASK_QUEUE": stack.task_queue}
    return await asyncio.to_thread(CliRunner().invoke, main, list(args), env=env)


def key(directory: Path, email: str) -> str:
    """``email``'s registered test key, as a ``--key`` file."""
    return str(key_file(directory, email))


def no_traceback(result: Result) -> None:
    """The command ended on purpose (an exit status), never on an uncaught exception."""
    assert isinstance(result.exception, SystemExit | None), result.exception
    assert "Traceback" not in result.output, result.output


def request_args(requester: str, *extra: str, reason: str = "investigate incident 42") -> list[str]:
    """``request`` for the example flow (its hooks: a reason of 10+ characters, carol on call)."""
    args = ["request", "--target", "admin_ro", "--requester", requester, "--duration", "1h"]
    if reason:
        args += ["--reason", reason]
    return [*args, *extra]
