"""JSON over HTTP to one service, every failure raised as that service's ``SymException``.

The clients of PagerDuty, Okta and KnowBe4 share this: a base URL, the headers that carry the
token, a timeout on every call, and one mapping from what went wrong (unreachable, timed out,
an HTTP error status, a body that is not JSON) to an error name, so that a hook sees
``PagerDutyError("UNAUTHORIZED", ...)`` rather than an ``httpx`` exception its
``except SymException`` would not catch. Messages name the service, the method, the path and
the service's own explanation; never the headers, which hold the token.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from jitflow.sdk.exceptions import SymException

#: Builds the integration's error from a name and a message (``PagerDutyError`` and the like).
ErrorFactory = Callable[[str, str], SymException]
#: The service's explanation of an error response, read from its body.
Describer = Callable[[httpx.Response], str]

#: Error names by HTTP status; any other 4xx is ``API_ERROR``.
STATUS_NAMES: dict[int, str] = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    429: "RATE_LIMITED",
}
_MAX_DETAIL = 300
#: Most pages a list call follows: a bound on what one hook call may cost.
MAX_PAGES = 50

Params = Mapping[str, str | int | list[str] | list[int]]


class ServiceApi:
    """The HTTP side of one integration: where it is, how to authenticate, how it fails."""

    def __init__(
        self,
        *,
        service: str,
        http: httpx.Client,
        base_url: str,
        headers: Mapping[str, str],
        error: ErrorFactory,
        describe: Describer,
    ) -> None:
        self.service = service
        self.base_url = base_url.rstrip("/")
        self._http = http
        self._headers = dict(headers)
        self.error = error
        self._describe = describe

    def __repr__(self) -> str:  # never the headers: they hold the token
        return f"ServiceApi({self.service!r}, {self.base_url!r})"

    def get(self, path: str, params: Params | None = None) -> httpx.Response:
        """``GET base_url + path``; raises the integration's error on any failure."""
        return self._send("GET", self._url(path), params)

    def get_json(self, path: str, params: Params | None = None) -> Any:
        return self.json_of(self.get(path, params))

    def get_url(self, url: str) -> httpx.Response:
        """``GET`` an absolute URL the service handed back (a ``Link: rel=next``), only when it
        is on the service's own origin: the token must never go anywhere else."""
        if _origin(url) != _origin(self.base_url):
            raise self.error(
                "INVALID_RESPONSE",
                f"{self.service} sent a next-page link to another host ({_origin(url)}); "
                "not followed",
            )
        return self._send("GET", url, None)

    def pages_by_link(self, path: str, params: Params | None = None) -> Iterator[Any]:
        """Each page's JSON of a list that continues through ``Link: <...>; rel="next"``."""
        response = self.get(path, params)
        for _ in range(MAX_PAGES):
            yield self.json_of(response)
            following = response.links.get("next", {}).get("url")
            if not following:
                return
            response = self.get_url(following)

    def json_of(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise self.error(
                "INVALID_RESPONSE",
                f"{self.service} answered {response.request.method} {response.request.url.path} "
                f"with HTTP {response.status_code} and a body that is not JSON",
            ) from None

    def _url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def _send(self, method: str, url: str, params: Params | None) -> httpx.Response:
        shown = f"{method} {urlsplit(url).path}"
        try:
            response = self._http.request(method, url, params=_query(params), headers=self._headers)
        except httpx.TimeoutException as error:
            raise self.error(
                "TIMEOUT", f"{self.service} did not answer {shown} in time ({type(error).__name__})"
            ) from None
        except httpx.HTTPError as error:
            raise self.error(
                "UNREACHABLE",
                f"could not reach {self.service} at {_origin(url)} for {shown} "
                f"({type(error).__name__})",
            ) from None
        if response.is_success:
            return response
        status = response.status_code
        name = STATUS_NAMES.get(status) or ("SERVER_ERROR" if status >= 500 else "API_ERROR")
        detail = self._describe(response).strip()
        if len(detail) > _MAX_DETAIL:
            detail = detail[:_MAX_DETAIL] + "..."
        raise self.error(
            name,
            f"{self.service} refused {shown}: HTTP {status}" + (f": {detail}" if detail else ""),
        )


def _query(params: Params | None) -> list[tuple[str, str | int | float | bool | None]] | None:
    """Query pairs; a list value repeats its key (``statuses[]=a&statuses[]=b``)."""
    if params is None:
        return None
    pairs: list[tuple[str, str | int | float | bool | None]] = []
    for key, value in params.items():
        if isinstance(value, list):
            pairs.extend((key, item) for item in value)
        else:
            pairs.append((key, value))
    return pairs


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def body_text(response: httpx.Response, *keys: str) -> str:
    """The first text found under ``keys`` (``"error.message"`` paths) of a JSON error body, or
    the start of the body when it is not JSON."""
    try:
        body: Any = response.json()
    except ValueError:
        return response.text[:_MAX_DETAIL]
    for key in keys:
        value: Any = body
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, str) and value.strip():
            return value
    return ""
