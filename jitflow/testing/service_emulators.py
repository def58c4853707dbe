"""Start the PagerDuty, Okta, KnowBe4 or Lambda emulator on a free loopback port, and stop it.

    with pagerduty_emulator(state) as pagerduty:     # state: a PagerDutyState, changed in place
        services = IntegrationServices(endpoints={"pagerduty": pagerduty.base_url}, ...)
        pagerduty.app.outage = 503                   # the service is down from here on
        assert pagerduty.app.count("GET /oncalls") == 1

As with the Aptible emulator, the server is uvicorn in a background thread of the calling
process: starting one costs milliseconds, and stopping it (leaving the ``with`` block) leaves
nothing running, which also makes the service unreachable for a test that wants it so.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn

from jitflow.emulator.knowbe4 import DEFAULT_TOKEN as KNOWBE4_TOKEN
from jitflow.emulator.knowbe4 import KnowBe4State, create_knowbe4_app
from jitflow.emulator.lambda_api import LambdaState, create_lambda_app
from jitflow.emulator.okta import DEFAULT_TOKEN as OKTA_TOKEN
from jitflow.emulator.okta import OktaState, create_okta_app
from jitflow.emulator.pagerduty import DEFAULT_TOKEN as PAGERDUTY_TOKEN
from jitflow.emulator.pagerduty import PagerDutyState, create_pagerduty_app
from jitflow.emulator.server import serve_in_thread
from jitflow.emulator.service import ServiceApp

__all__ = [
    "KNOWBE4_TOKEN",
    "OKTA_TOKEN",
    "PAGERDUTY_TOKEN",
    "RunningService",
    "knowbe4_emulator",
    "lambda_emulator",
    "okta_emulator",
    "pagerduty_emulator",
    "serve",
    "start",
    "stop_all",
]


@dataclass
class RunningService:
    """A started emulator: where it listens, its app (counters, outage switch), and its stop."""

    base_url: str
    app: ServiceApp
    _server: uvicorn.Server
    _thread: threading.Thread

    def stop(self) -> None:
        stop_all([self])


def stop_all(running: Iterable[RunningService]) -> None:
    """Stop several emulators at once: each takes a few tenths of a second to wind down, and
    they can do it together."""
    services = list(running)
    for service in services:
        service._server.should_exit = True
    for service in services:
        service._thread.join(timeout=10)
        if service._thread.is_alive():
            raise RuntimeError(
                f"the {service.app.name} emulator at {service.base_url} did not stop"
            )


def start(app: ServiceApp, host: str = "127.0.0.1") -> RunningService:
    """Serve ``app`` on a free port; the caller must ``stop()`` it (prefer :func:`serve`)."""
    base_url, server, thread = serve_in_thread(app, app.name, host)
    return RunningService(base_url, app, server, thread)


@contextmanager
def serve(app: ServiceApp, host: str = "127.0.0.1") -> Iterator[RunningService]:
    running = start(app, host)
    try:
        yield running
    finally:
        running.stop()


@contextmanager
def pagerduty_emulator(
    state: PagerDutyState | None = None, token: str = PAGERDUTY_TOKEN
) -> Iterator[RunningService]:
    with serve(create_pagerduty_app(state or PagerDutyState(), token)) as running:
        yield running


@contextmanager
def okta_emulator(
    state: OktaState | None = None, token: str = OKTA_TOKEN
) -> Iterator[RunningService]:
    with serve(create_okta_app(state or OktaState(), token)) as running:
        yield running


@contextmanager
def knowbe4_emulator(
    state: KnowBe4State | None = None, token: str = KNOWBE4_TOKEN
) -> Iterator[RunningService]:
    with serve(create_knowbe4_app(state or KnowBe4State(), token)) as running:
        yield running


@contextmanager
def lambda_emulator(state: LambdaState | None = None) -> Iterator[RunningService]:
    with serve(create_lambda_app(state or LambdaState())) as running:
        yield running
