"""Connecting to Temporal the way every jitflow entry point does.

``connect()`` reads Temporal's own environment configuration (``TEMPORAL_ADDRESS``,
``TEMPORAL_NAMESPACE``, ``TEMPORAL_API_KEY``, ``TEMPORAL_TLS*``, or a profile file) through
``temporalio.envconfig``, defaults to ``localhost:7233`` and the ``default`` namespace, and
always uses the pydantic data converter so that workflow inputs and results are our models.
``ensure_search_attributes()`` creates the ``Jit*`` search attributes that are missing, so a
bare ``temporal server start-dev`` works.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.envconfig import ClientConfig
from temporalio.runtime import Runtime
from temporalio.service import RPCError, RPCStatusCode

from jitflow.search_attributes import SEARCH_ATTRIBUTE_TYPES

DEFAULT_ADDRESS = "localhost:7233"
DEFAULT_NAMESPACE = "default"

_INDEXED_TYPES: dict[str, IndexedValueType.ValueType] = {
    "Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "Datetime": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
    "Text": IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
    "Int": IndexedValueType.INDEXED_VALUE_TYPE_INT,
    "Double": IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
    "Bool": IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
}


class TemporalConnectionError(RuntimeError):
    """Temporal could not be reached; the message names the address and namespace, not secrets.

    ``address`` and ``reason`` are kept apart so that each entry point can add the fix that
    fits it (the CLI names the local stack's ``make run``; a production worker does not).
    """

    def __init__(self, address: str, namespace: str, reason: str) -> None:
        super().__init__(f"cannot reach Temporal at {address} (namespace {namespace!r}): {reason}")
        self.address = address
        self.namespace = namespace
        self.reason = reason


def _readable(error: BaseException) -> str:
    """The cause of a failed connect in a few words: the Rust core's text nests the operating
    system's message (``Connection refused``) deep inside transport debug output."""
    text = str(error) or type(error).__name__
    nested = re.findall(r'(?:message|error): "([^"]+)"', text)
    if nested:
        return str(nested[-1])
    return text.splitlines()[0][:300] if text else type(error).__name__


def connect_options(
    address: str | None = None,
    namespace: str | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Keyword arguments for ``Client.connect``: Temporal's env config, then explicit overrides."""
    environ = dict(os.environ if env is None else env)
    options: dict[str, Any] = dict(
        ClientConfig.load_client_connect_config(override_env_vars=environ)
    )
    if address:
        options["target_host"] = address
    options.setdefault("target_host", DEFAULT_ADDRESS)
    if namespace:
        options["namespace"] = namespace
    options.setdefault("namespace", DEFAULT_NAMESPACE)
    options["data_converter"] = pydantic_data_converter
    return options


async def connect(
    address: str | None = None,
    namespace: str | None = None,
    env: Mapping[str, str] | None = None,
    runtime: Runtime | None = None,
) -> Client:
    """A client with jitflow's data converter, or ``TemporalConnectionError`` saying where.
    ``runtime`` is temporalio's (its telemetry: the worker's metrics); default its default."""
    options = connect_options(address, namespace, env)
    if runtime is not None:
        options["runtime"] = runtime
    try:
        return await Client.connect(**options)
    except Exception as error:
        raise TemporalConnectionError(
            str(options["target_host"]), str(options["namespace"]), _readable(error)
        ) from None


async def ensure_search_attributes(
    client: Client, wanted: Mapping[str, str] = SEARCH_ATTRIBUTE_TYPES
) -> list[str]:
    """Create the search attributes of ``wanted`` the namespace lacks; return their names.

    An attribute that exists with another type is an error naming both types: jitflow's
    queries would silently fail against it.
    """
    try:
        existing = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=client.namespace)
        )
    except RPCError as error:
        if error.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        # The time-skipping test server cannot list, but accepts additions.
        await _add(client, {name: _indexed(name, kind) for name, kind in wanted.items()})
        return sorted(wanted)
    present: dict[str, int] = {
        **dict(existing.custom_attributes),
        **dict(existing.system_attributes),
    }
    missing: dict[str, IndexedValueType.ValueType] = {}
    for name, kind in wanted.items():
        indexed = _indexed(name, kind)
        if name not in present:
            missing[name] = indexed
        elif present[name] != indexed:
            found = IndexedValueType.Name(present[name])  # type: ignore[arg-type]
            raise ValueError(
                f"search attribute {name!r} exists on namespace {client.namespace!r} as "
                f"{found}, jitflow needs {kind}"
            )
    if missing:
        await _add(client, missing)
    return sorted(missing)


def _indexed(name: str, kind: str) -> IndexedValueType.ValueType:
    indexed = _INDEXED_TYPES.get(kind)
    if indexed is None:
        raise ValueError(f"search attribute {name!r} has unknown type {kind!r}")
    return indexed


async def _add(client: Client, attributes: dict[str, IndexedValueType.ValueType]) -> None:
    try:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=client.namespace, search_attributes=attributes)
        )
    except RPCError as error:
        if error.status != RPCStatusCode.ALREADY_EXISTS:
            raise
