"""The Slack Web API clients every jitflow piece uses: ``slack_sdk``'s clients, bounded.

Delivery and the front door use the async client (``web_client``); reducers' ``slack`` SDK
calls, which run on activity threads, use the sync one (``sync_web_client``) with the same
timeout and retries.

The base URL comes from ``JITFLOW_SLACK_API_URL`` (an emulator's ``http://127.0.0.1:8785/api/``
in tests and ``jitflow dev``), else Slack's own. Retries are few and short (a rate limit honours
``Retry-After``, a 5xx or a dropped connection is tried twice more), so a delivery that cannot get
through says so within seconds instead of holding an activity slot; what failed is described
with Slack's error code only, never the token.

The async client (and aiohttp under it, 11 MB) is imported when the first one is made: a worker
keeps every module it imports, and one without Slack notifications never needs it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from jitflow.contracts.names import SLACK_API_URL_ENV
from jitflow.scrub import scrub

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

SLACK_API_URL = "https://slack.com/api/"
#: Each HTTP call's timeout, seconds.
CALL_TIMEOUT_SECONDS = 10
#: Extra attempts after a 429, a 5xx or a connection error.
RETRIES = 2


def slack_api_url(environ: Mapping[str, str] | None = None) -> str:
    """``$JITFLOW_SLACK_API_URL`` (with a trailing slash, as slack_sdk needs), else Slack's."""
    value = (environ if environ is not None else os.environ).get(SLACK_API_URL_ENV, "").strip()
    if not value:
        return SLACK_API_URL
    return value if value.endswith("/") else value + "/"


def web_client(token: str, base_url: str | None = None) -> AsyncWebClient:
    """An async Web API client for ``token`` with jitflow's timeouts and bounded retries."""
    from slack_sdk.http_retry.builtin_async_handlers import (
        AsyncConnectionErrorRetryHandler,
        AsyncRateLimitErrorRetryHandler,
        AsyncServerErrorRetryHandler,
    )
    from slack_sdk.web.async_client import AsyncWebClient

    return AsyncWebClient(
        token=token,
        base_url=base_url or slack_api_url(),
        timeout=CALL_TIMEOUT_SECONDS,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=RETRIES),
            AsyncRateLimitErrorRetryHandler(max_retry_count=RETRIES),
            AsyncServerErrorRetryHandler(max_retry_count=RETRIES),
        ],
    )


def sync_web_client(token: str, base_url: str | None = None) -> WebClient:
    """A blocking Web API client for ``token``, bounded as ``web_client`` is: for code that runs
    on a worker thread (reducers), where an event loop is not at hand."""
    return WebClient(
        token=token,
        base_url=base_url or slack_api_url(),
        timeout=CALL_TIMEOUT_SECONDS,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=RETRIES),
            RateLimitErrorRetryHandler(max_retry_count=RETRIES),
            ServerErrorRetryHandler(max_retry_count=RETRIES),
        ],
    )


def describe_failure(error: BaseException) -> str:
    """A short, scrubbed reason: Slack's error code and HTTP status, or the connection problem."""
    if isinstance(error, SlackApiError):
        response = error.response
        code = response.get("error") if isinstance(response.data, dict) else None
        status = response.status_code
        if code and status == 200:
            return scrub(f"Slack refused: {code}")
        return scrub(f"Slack answered HTTP {status}" + (f" ({code})" if code else ""))
    if isinstance(error, TimeoutError | OSError) or _is_aiohttp_error(error):
        return scrub(f"Slack unreachable: {type(error).__name__}")
    return scrub(f"{type(error).__name__}: {error}")


def _is_aiohttp_error(error: BaseException) -> bool:
    """Whether ``error`` is aiohttp's; it can only be once aiohttp is imported."""
    aiohttp = sys.modules.get("aiohttp")
    return aiohttp is not None and isinstance(error, aiohttp.ClientError)
