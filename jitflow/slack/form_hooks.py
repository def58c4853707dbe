"""Running a flow's prompt-time functions for the Slack front door: on threads, in time, safely.

The front door is not a workflow, so it calls the reducer runtime (``PromptCalls``) itself, each
call on a daemon thread of its own: user code that blocks never stalls the server's event loop,
and a function that never returns holds only its own thread, which does not keep the process
from exiting (a pool's worker threads are joined at exit, so a hung call in one kept SIGTERM
from stopping ``jitflow slack serve``). Slack wants every interaction answered within 3 seconds,
so each call gets the flow's ``hook_timeout`` capped by Slack's budget; a call past its time is
abandoned (its thread finishes on its own) and the person is told.

An abandoned call still runs, so the calls in flight are counted until their threads end, and
bounded: ``max_per_user`` per person (one person's hung calls cannot take everyone's share) and
``max_in_flight`` in all (threads are not free). Past either bound a new call is refused at once
with words saying so, rather than queued behind calls that may never end.

What a function raised is logged here scrubbed (its message and traceback, line by line, since
either may carry a token) and reaches Slack only as the function's name, file and line and a
scrubbed message, as a failed hook reaches a history.

Prefetched choices are cached per flow, field and person for a minute (Sym caches them too):
Slack asks again at every keystroke, and the submission checks the picked value against them.
A prefetch that takes longer than Slack's budget keeps running (up to the flow's hook timeout)
and serves the next keystroke.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from jitflow.reducer_runtime import ImplementationError, ReducerFailed, hook_options
from jitflow.reducer_runtime.event_builder import find_flow
from jitflow.reducer_runtime.prompt import PromptAnswer, PromptCalls
from jitflow.scrub import scrub, scrubbed_traceback
from jitflow.sdk.forms import FieldOption, SymPromptForm

log = logging.getLogger("jitflow.slack")

T = TypeVar("T")

#: ``on_prompt``'s share of Slack's 3 s: ``views.open`` must follow within the trigger's life.
PROMPT_BUDGET_SECONDS = 2.0
#: A prefetch or ``on_change`` call's share of Slack's 3 s.
INTERACTION_BUDGET_SECONDS = 2.5
#: How long ``after_prompt`` is waited for: its result is only logged, and a shutdown waits
#: for it (``settle``), so a flow's long ``hook_timeout`` does not apply.
AFTER_PROMPT_BUDGET_SECONDS = 5.0
PREFETCH_TTL_SECONDS = 60.0
#: A failed prefetch is retried after this long, not at every keystroke.
FAILED_PREFETCH_TTL_SECONDS = 5.0
#: User-code calls running at once, abandoned ones included: in all, and for one person.
MAX_IN_FLIGHT = 32
MAX_IN_FLIGHT_PER_USER = 2

#: What a person is told when their own earlier calls still hold their share.
USER_BUSY = "your earlier form actions are still running; try again shortly"
#: What a person is told when everyone's calls together hold all the front door's threads.
ALL_BUSY = "jitflow is running too many form actions at once; try again shortly"


@dataclass(frozen=True)
class HookFailure:
    """A prompt-time function that failed or was too slow, in words for the person."""

    text: str


@dataclass
class _Fetch:
    """One prefetch call, shared by every keystroke until it expires."""

    future: asyncio.Future[list[FieldOption]]
    expires: float


def failure_text(error: BaseException) -> str:
    """What the person is told about user code that failed: the function, its file (name
    only) and line, and the message scrubbed of anything like a credential."""
    if isinstance(error, ReducerFailed):
        return f"{error.function} ({_short(error.where)}) {scrub(error.message)}"
    if isinstance(error, ImplementationError):
        problem = error.problems[0]
        where = Path(problem.file).name + (f":{problem.line}" if problem.line else "")
        who = f"{problem.function}: " if problem.function else ""
        return scrub(f"the flow's code does not load ({where}: {who}{problem.message})")
    return scrub(str(error))


def _short(where: str) -> str:
    """``/srv/flows/impl.py:12`` -> ``impl.py:12``: the person needs the line, not our paths."""
    path, _, line = where.rpartition(":")
    return f"{Path(path).name}:{line}" if path and line.isdigit() else Path(where).name


class _InFlight:
    """The user-code calls whose threads are still running, in all and per person.

    Taken on the event loop, given back by the call's thread when the function returns (not when
    its caller stopped waiting), hence the lock.
    """

    def __init__(self, total: int, per_user: int) -> None:
        self._total = total
        self._per_user = per_user
        self._lock = threading.Lock()
        self._running: Counter[str] = Counter()

    def take(self, who: str) -> str | None:
        """A slot for ``who``'s call, or why there is none."""
        with self._lock:
            if self._running[who] >= self._per_user:
                return USER_BUSY
            if self._running.total() >= self._total:
                return ALL_BUSY
            self._running[who] += 1
            return None

    def give_back(self, who: str) -> None:
        with self._lock:
            self._running[who] -= 1
            if self._running[who] <= 0:
                del self._running[who]

    def count(self) -> int:
        with self._lock:
            return self._running.total()


class FormHooks:
    """The prompt-time functions of the flows ``calls`` knows, run for Slack."""

    def __init__(
        self,
        calls: PromptCalls,
        *,
        clock: Callable[[], float] = time.monotonic,
        prompt_budget: float = PROMPT_BUDGET_SECONDS,
        interaction_budget: float = INTERACTION_BUDGET_SECONDS,
        max_in_flight: int = MAX_IN_FLIGHT,
        max_per_user: int = MAX_IN_FLIGHT_PER_USER,
    ) -> None:
        self._calls = calls
        self._clock = clock
        self._prompt_budget = prompt_budget
        self._interaction_budget = interaction_budget
        self._in_flight = _InFlight(max_in_flight, max_per_user)
        self._fetches: dict[tuple[str, str, str], _Fetch] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def in_flight(self) -> int:
        """User-code calls whose threads still run, abandoned ones included."""
        return self._in_flight.count()

    async def open(self, flow: str, email: str, channel: str) -> PromptAnswer | HookFailure:
        """``on_prompt``: show the form or not; which fields have ``on_change`` handlers."""
        return await self._run(
            "on_prompt", flow, email, self._prompt_budget, self._calls.open, flow, email, channel
        )

    def after_prompt_soon(self, flow: str, email: str, channel: str) -> None:
        """Run ``after_prompt`` in the background (its result is only logged)."""
        task = asyncio.create_task(self._after_prompt(flow, email, channel))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _after_prompt(self, flow: str, email: str, channel: str) -> None:
        answer = await self._run(
            "after_prompt",
            flow,
            email,
            AFTER_PROMPT_BUDGET_SECONDS,
            self._calls.after_prompt,
            flow,
            email,
            channel,
        )
        if isinstance(answer, HookFailure):
            log.warning("after_prompt of flow %s for %s: %s", flow, email, answer.text)
        elif answer:
            log.info("after_prompt of flow %s for %s: %s", flow, email, scrub(answer))

    async def choices(
        self, flow: str, field: str, email: str, *, budget: float | None = None
    ) -> list[FieldOption] | HookFailure:
        """The choices of prefetched ``field`` for ``email``, from the cache or a fresh call;
        waited for up to ``budget`` seconds (Slack's interaction budget without it)."""
        key = (flow, field, email)
        now = self._clock()
        fetch = self._fetches.get(key)
        if fetch is None or fetch.expires <= now:
            started = self._start_prefetch(key, now)
            if isinstance(started, HookFailure):
                return started
            fetch = started
        limit = self._interaction_budget if budget is None else budget
        wait = max(0.0, min(limit, fetch.expires - now))
        try:
            return await asyncio.wait_for(asyncio.shield(fetch.future), wait)
        except TimeoutError:
            return HookFailure(
                f"the choices of {field} are still being fetched; try again in a moment"
            )
        except Exception as error:  # user code: whatever it raised, the server carries on
            return self._failed("prefetch", flow, error)

    def _start_prefetch(self, key: tuple[str, str, str], now: float) -> _Fetch | HookFailure:
        flow, field, email = key
        for old in [k for k, f in self._fetches.items() if f.expires <= now]:
            del self._fetches[old]  # expired: the cache holds only what can still answer
        future = self._start("prefetch", email, self._calls.prefetch, flow, field, email)
        if isinstance(future, HookFailure):
            return future  # not cached: the next keystroke asks again
        # A call that never returns is abandoned after the flow's hook timeout.
        fetch = _Fetch(future, now + (self._hook_timeout(flow) or INTERACTION_BUDGET_SECONDS))
        self._fetches[key] = fetch

        def done(finished: asyncio.Future[list[FieldOption]]) -> None:
            failed = finished.cancelled() or finished.exception() is not None
            ttl = FAILED_PREFETCH_TTL_SECONDS if failed else PREFETCH_TTL_SECONDS
            fetch.expires = self._clock() + ttl

        future.add_done_callback(done)
        return fetch

    async def change(
        self, flow: str, field: str, email: str, form: SymPromptForm
    ) -> SymPromptForm | HookFailure | None:
        """``on_change_<field>`` on ``form``; None when the field has no handler."""
        return await self._run(
            f"on_change_{field}",
            flow,
            email,
            self._interaction_budget,
            self._calls.on_change,
            flow,
            field,
            email,
            form,
        )

    async def settle(self) -> None:
        """Wait for background ``after_prompt`` calls (tests, and a clean shutdown); each is
        waited for at most ``AFTER_PROMPT_BUDGET_SECONDS``."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _hook_timeout(self, flow: str) -> int | None:
        try:
            return hook_options(find_flow(self._calls.runner.config, flow))[0]
        except ValueError:
            return None

    def _start(
        self, what: str, who: str, function: Callable[..., T], *args: Any
    ) -> asyncio.Future[T] | HookFailure:
        """``function(*args)`` on a daemon thread of its own, counted as ``who``'s until it
        returns; a future of its result, or why it was not started."""
        refusal = self._in_flight.take(who)
        if refusal is not None:
            log.warning("%s for %s not started: %s", what, who, refusal)
            return HookFailure(refusal)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()

        def deliver(result: Any, error: BaseException | None) -> None:
            if future.done():  # abandoned: nobody waits for it any more
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

        def work() -> None:
            result: Any = None
            error: BaseException | None = None
            try:
                result = function(*args)
            except Exception as raised:
                error = raised
            except BaseException as raised:  # SystemExit and the like: not the server's to obey
                error = RuntimeError(f"{what} ended with {type(raised).__name__}")
            finally:
                self._in_flight.give_back(who)
            # A closed loop: the server stopped while this call ran, nobody waits for it.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(deliver, result, error)

        thread = threading.Thread(target=work, name=f"jitflow-slack-{what}", daemon=True)
        try:
            thread.start()
        except RuntimeError as error:  # no thread to be had (the process's limit)
            self._in_flight.give_back(who)
            log.warning("%s for %s not started: %s", what, who, error)
            return HookFailure(ALL_BUSY)
        return future

    async def _run(
        self,
        what: str,
        flow: str,
        who: str,
        budget: float,
        function: Callable[..., T],
        *args: Any,
    ) -> T | HookFailure:
        timeout = min(budget, self._hook_timeout(flow) or budget)
        future = self._start(what, who, function, *args)
        if isinstance(future, HookFailure):
            return future
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            log.warning("%s of flow %s did not answer within %g s", what, flow, timeout)
            return HookFailure(f"{what} did not answer within {timeout:g} s")
        except Exception as error:  # user code: whatever it raised, the server carries on
            return self._failed(what, flow, error)

    @staticmethod
    def _failed(what: str, flow: str, error: Exception) -> HookFailure:
        # The user's exception and its traceback may hold a token or a webhook URL: both are
        # logged scrubbed, as the person is told.
        log.warning(
            "%s of flow %s failed: %s\n%s",
            what,
            flow,
            scrub(str(error)),
            scrubbed_traceback(error),
        )
        return HookFailure(failure_text(error))
