"""The removal's news to requests is best effort: no failure to deliver it fails the removal."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from activities import lease_news
from activities.lease_news import (
    NEWS_ATTEMPTS,
    NEWS_RPC_TIMEOUT,
    PATIENT_NEWS_TIMEOUTS,
    NewsCourier,
    tell_lease_ended,
)
from jitflow.contracts.membership import LeaseEnded, LeaseHolderRun

RUNS = (LeaseHolderRun(holder="req-1", run_id="run-1"), LeaseHolderRun(holder="req-2", run_id="r2"))


class Handle:
    def __init__(self, client: FakeClient, workflow_id: str, run_id: str | None) -> None:
        self._client, self._id, self._run_id = client, workflow_id, run_id

    async def start_update(self, name: str, news: LeaseEnded, **options: Any) -> None:
        self._client.sent.append((self._id, self._run_id, name, news))
        self._client.waits.append(options["rpc_timeout"])
        raise self._client.failure


class FakeClient:
    def __init__(self, failure: BaseException) -> None:
        self.failure = failure
        self.sent: list[tuple[str, str | None, str, LeaseEnded]] = []
        self.waits: list[timedelta] = []

    def get_workflow_handle(self, workflow_id: str, *, run_id: str | None = None) -> Handle:
        return Handle(self, workflow_id, run_id)


async def vouch(news: LeaseEnded) -> LeaseEnded:
    return news.model_copy(update={"key_id": "k", "signature": "s"})


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("failure", "attempts", "logged"),
    [
        # Not accepted in time (usual when many grants end together): asked again, then left
        # to the server, which keeps an admitted update; noted at INFO, not as a failure.
        (WorkflowUpdateRPCTimeoutOrCancelledError(), NEWS_ATTEMPTS, None),
        (RPCError("unavailable", RPCStatusCode.UNAVAILABLE, b""), NEWS_ATTEMPTS, "UNAVAILABLE"),
        (RPCError("denied", RPCStatusCode.PERMISSION_DENIED, b""), 1, "PERMISSION_DENIED"),
        (RPCError("gone", RPCStatusCode.NOT_FOUND, b""), 1, None),
    ],
)
async def test_undelivered_news_is_logged_and_never_raised(
    failure: BaseException, attempts: int, logged: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    client = FakeClient(failure)
    with caplog.at_level(logging.WARNING):
        await tell_lease_ended(
            client,  # type: ignore[arg-type]
            RUNS,
            membership_workflow_id="membership/o/r/u",
            vouch=vouch,
        )
    # Each run of each request gets its own signed news, addressed to that run; a timeout or an
    # unavailable server is asked again (the same update id), anything else is not.
    sent = [(wid, rid) for wid, rid, _, _ in client.sent]
    assert sorted(sent) == sorted([("req-1", "run-1"), ("req-2", "r2")] * attempts)
    assert all(news.signature == "s" and news.holder == wid for wid, _, _, news in client.sent)
    if logged is None:
        assert "could not tell" not in caplog.text  # a closed request needs no news
    else:
        assert caplog.text.count("could not tell request") == 2 and logged in caplog.text


@pytest.mark.asyncio
async def test_the_courier_sends_after_the_removal_and_waits_for_it_when_the_worker_stops() -> None:
    courier = NewsCourier()
    sent: list[str] = []
    release = asyncio.Event()

    async def telling(name: str) -> None:
        await release.wait()
        sent.append(name)

    courier.send(telling("first"))
    courier.send(telling("second"))
    assert courier.in_flight == 2 and not sent  # handed over: the removal returns at once
    release.set()
    await courier.aclose(timedelta(seconds=5))
    assert sorted(sent) == ["first", "second"] and courier.in_flight == 0


@pytest.mark.asyncio
async def test_news_still_stuck_when_the_worker_stops_is_dropped_and_said(
    caplog: pytest.LogCaptureFixture,
) -> None:
    courier = NewsCourier()
    stuck = asyncio.Event()

    async def never() -> None:
        await stuck.wait()

    async def broken() -> None:
        raise RuntimeError("boom")

    courier.send(never())
    courier.send(broken())
    with caplog.at_level(logging.INFO):
        await asyncio.sleep(0)
        await courier.aclose(timedelta(milliseconds=50))
    assert courier.in_flight == 0
    assert "lease news could not be sent: RuntimeError" in caplog.text
    assert "1 lease news not sent before the worker stopped" in caplog.text


@pytest.mark.asyncio
async def test_the_courier_sends_a_bounded_number_at_once() -> None:
    courier = NewsCourier(at_once=2)
    running = 0
    most = 0

    async def telling() -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)
        running -= 1

    for _ in range(6):
        courier.send(telling())
    await courier.aclose(timedelta(seconds=5))
    assert most == 2 and courier.in_flight == 0


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("patient", "waits"),
    [(False, (NEWS_RPC_TIMEOUT,) * NEWS_ATTEMPTS), (True, PATIENT_NEWS_TIMEOUTS)],
)
async def test_the_courier_s_news_waits_longer_than_a_removal_activity_s(
    patient: bool, waits: tuple[timedelta, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sent in the background, news holds nothing, so it asks for about a minute; awaited in a
    regular removal activity, a few seconds."""
    monkeypatch.setattr(lease_news, "NEWS_RETRY_PAUSE", 0.0)
    client = FakeClient(WorkflowUpdateRPCTimeoutOrCancelledError())
    await tell_lease_ended(
        client,  # type: ignore[arg-type]
        RUNS[:1],
        membership_workflow_id="membership/o/r/u",
        vouch=vouch,
        patient=patient,
    )
    assert tuple(client.waits) == waits
    assert sum(wait.total_seconds() for wait in PATIENT_NEWS_TIMEOUTS) >= 55


@pytest.mark.asyncio
async def test_the_courier_holds_news_during_a_burst_of_removals_but_not_past_its_limit() -> None:
    """In a burst (``burst`` news handed over within ``quiet``) news waits, since each is a
    request's workflow task competing with the removals still due; never longer than
    ``hold_limit`` after its removal, and not at all below that rate."""
    quiet, hold = timedelta(milliseconds=200), timedelta(milliseconds=500)
    courier = NewsCourier(quiet=quiet, hold_limit=hold, burst=3)
    loop = asyncio.get_running_loop()
    sent: dict[str, float] = {}

    async def telling(name: str) -> None:
        sent[name] = loop.time()

    handed: dict[str, float] = {}
    # A removal every 50 ms for 1.2 s: four within any 200 ms, a burst from the third on.
    for index in range(24):
        handed[f"news-{index}"] = loop.time()
        courier.send(telling(f"news-{index}"))
        await asyncio.sleep(0.05)
    burst_end = loop.time()
    assert all(sent[f"news-{i}"] - handed[f"news-{i}"] < 0.1 for i in range(2))  # no burst yet
    # Let go by the limit while the burst went on.
    assert hold.total_seconds() <= sent["news-3"] - handed["news-3"] < 1.0
    assert "news-23" not in sent  # handed over 50 ms ago, in the burst
    await asyncio.sleep(0.6)
    # Once the burst was over, the rest went without the worker stopping.
    assert len(sent) == 24 and courier.in_flight == 0
    assert sent["news-23"] >= burst_end
    await courier.aclose(timedelta(seconds=1))


@pytest.mark.asyncio
async def test_news_below_the_burst_rate_goes_at_once() -> None:
    courier = NewsCourier(quiet=timedelta(seconds=2), hold_limit=timedelta(seconds=20), burst=3)
    loop = asyncio.get_running_loop()
    sent: list[float] = []

    async def telling() -> None:
        sent.append(loop.time())

    for _ in range(2):  # two within the quiet window: fewer than the burst
        handed = loop.time()
        courier.send(telling())
        while len(sent) < _ + 1:
            await asyncio.sleep(0.01)
        assert sent[-1] - handed < 1.0
    await courier.aclose(timedelta(seconds=1))
