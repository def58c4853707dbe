"""When the grant path's activities heartbeat: not at their start, then every ``every``.

The server counts an activity's heartbeat timeout from its start, so a beat at the start only
cost the server one more write per add and removal; a dead worker is noticed just as soon.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import activity
from temporalio.testing import ActivityEnvironment

from activities.heartbeats import heartbeating

EVERY = timedelta(milliseconds=100)


def _counted() -> tuple[ActivityEnvironment, list[tuple[Any, ...]]]:
    beats: list[tuple[Any, ...]] = []
    env = ActivityEnvironment()
    env.on_heartbeat = lambda *details: beats.append(details)
    return env, beats


async def test_an_activity_done_before_its_first_beat_never_heartbeats() -> None:
    env, beats = _counted()

    @activity.defn
    async def quick() -> str:
        async with heartbeating(EVERY):
            return "done"

    assert await env.run(quick) == "done"
    await asyncio.sleep(EVERY.total_seconds() * 2)  # a beat left running would land here
    assert beats == []


async def test_a_long_activity_heartbeats_while_it_runs_and_stops_after() -> None:
    env, beats = _counted()

    @activity.defn
    async def slow() -> None:
        async with heartbeating(EVERY):
            while len(beats) < 2:
                await asyncio.sleep(0.01)

    await asyncio.wait_for(env.run(slow), 10)
    after = len(beats)
    await asyncio.sleep(EVERY.total_seconds() * 3)
    assert after == 2 and len(beats) == after  # no beat outlives the block
