"""The Temporal Web UI lists an access request when searched by requester (issue 8, acceptance).

A headless Chromium opens the dev server's Web UI at the workflow list with a ``JitRequester``
query, as a person would after ``make run``. Skipped, with the reason printed, when no Chromium
is installed; CI installs Debian's ``chromium`` package in ``.ci/run``, so it runs there.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment

from jitflow.devstack.binaries import temporal_cli
from jitflow.devstack.ports import free_port
from jitflow.search_attributes import dev_server_args
from jitflow.testing.webui import find_chromium, render_text
from workflows.search_keys import JIT_FLOW, JIT_REQUESTER, JIT_STATUS

pytestmark = pytest.mark.timeout(90)

REQUESTER = "alice@example.com"
OTHER_REQUESTER = "bob@example.com"


def _search_attributes(requester: str) -> TypedSearchAttributes:
    return TypedSearchAttributes(
        [
            SearchAttributePair(JIT_REQUESTER, requester),
            SearchAttributePair(JIT_STATUS, "pending"),
            SearchAttributePair(JIT_FLOW, "aptible_access"),
        ]
    )


async def _listed_ids(client: Client, query: str) -> set[str]:
    return {execution.id async for execution in client.list_workflows(query)}


async def _wait_until_listed(client: Client, query: str, ids: set[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        listed = await _listed_ids(client, query)
        if ids <= listed:
            return
        if time.monotonic() >= deadline:
            raise AssertionError(f"visibility did not list {sorted(ids)} for {query!r} in time")
        await asyncio.sleep(0.2)


async def test_workflow_list_finds_request_by_requester(tmp_path: Path) -> None:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip(
            "no Chromium binary (install Debian's `chromium` package, as .ci/run does, "
            "or set JITFLOW_CHROMIUM)"
        )

    ui_port = free_port()
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_cli()),
        dev_server_extra_args=dev_server_args(),
        ui=True,
        ui_port=ui_port,
    )
    suffix = uuid.uuid4().hex[:8]
    wanted_id = f"access-webui-test-{suffix}"
    other_id = f"access-webui-other-{suffix}"
    handles = []
    try:
        for workflow_id, requester in ((wanted_id, REQUESTER), (other_id, OTHER_REQUESTER)):
            handles.append(
                await env.client.start_workflow(
                    "AccessRequest",
                    id=workflow_id,
                    task_queue="jitflow",
                    search_attributes=_search_attributes(requester),
                )
            )
        query = f'JitRequester="{REQUESTER}"'
        await _wait_until_listed(env.client, query, {wanted_id}, timeout=10)
        await _wait_until_listed(
            env.client, f'JitRequester="{OTHER_REQUESTER}"', {other_id}, timeout=10
        )

        workflows_url = f"http://127.0.0.1:{ui_port}/namespaces/default/workflows"
        # Control: unfiltered, the list shows both requests, so the filtered list below hides
        # the other one because of the query, not because the page is incomplete.
        unfiltered = await asyncio.to_thread(
            render_text, workflows_url, other_id, 20.0, chromium=chromium
        )
        assert wanted_id in unfiltered

        url = f"{workflows_url}?query={quote(query, safe='')}"
        screenshot = tmp_path / "workflow-list.png"
        text = await asyncio.to_thread(
            render_text, url, wanted_id, 20.0, screenshot=screenshot, chromium=chromium
        )
        print(f"Web UI workflow list: {url}\nscreenshot: {screenshot}")

        assert "AccessRequest" in text
        assert REQUESTER in text, "the JitRequester filter is not shown on the page"
        assert other_id not in text, f"the {OTHER_REQUESTER} request is listed too:\n{text}"
        assert screenshot.read_bytes().startswith(b"\x89PNG")
    finally:
        for handle in handles:
            try:
                await handle.terminate("webui test finished")
            except Exception as err:  # the server may already be unreachable; shut it down anyway
                print(f"could not terminate {handle.id}: {err}")
        await env.shutdown()
