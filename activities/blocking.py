"""Where an activity's blocking calls run: a thread pool of their own.

``asyncio.to_thread`` shares one small default pool (a few threads on a small machine) among
everything in the process. A reducer or hook that never returns (an HTTP call without a
timeout) keeps its thread forever; a handful of them in a shared pool would stop every removal
waiting for the identity store or Secrets Manager. So the membership path (store, Secrets
Manager) runs its blocking calls here, on the worker's I/O pool, and user code runs on a pool
of its own, on its own task queue (see ``worker.py``).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import Executor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class Blocking:
    """Runs blocking calls on one executor (``None``: the loop's default, for tests)."""

    def __init__(self, executor: Executor | None = None) -> None:
        self.executor = executor

    async def __call__(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self.executor, functools.partial(function, *args, **kwargs)
        )
