"""The worker's Prometheus endpoint: temporalio's own metrics (workflow task schedule-to-start,
execution and replay latency, sticky cache hits and misses, free task slots, pollers), which are
what says whether a worker keeps up when many grants end together.

Off unless ``$JITFLOW_METRICS_ADDRESS`` names ``IP:port``; the metrics carry no request data
(workflow types, task queues and namespaces only).
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

METRICS_ENV = "JITFLOW_METRICS_ADDRESS"
_IP_PORT = re.compile(r"^\[?(?P<ip>[0-9A-Fa-f.:]+?)\]?:(?P<port>\d{1,5})$")


def metrics_address(environ: Mapping[str, str] | None = None) -> str | None:
    """``$JITFLOW_METRICS_ADDRESS`` checked (an IP address and a port, as temporalio binds it:
    no host names), or None when unset."""
    given = (environ if environ is not None else os.environ).get(METRICS_ENV, "")
    value = given.strip()
    if not value:
        return None
    match = _IP_PORT.match(value)
    try:
        ip = ipaddress.ip_address(match["ip"]) if match else None
    except ValueError:
        ip = None
    if match is None or ip is None or not 0 < int(match["port"]) < 65536:
        raise ValueError(
            f"{METRICS_ENV}={given!r}: give an IP address and a port, such as 0.0.0.0:9464"
        )
    if ip.version == 6 and not value.startswith("["):
        raise ValueError(f"{METRICS_ENV}={given!r}: write an IPv6 address in brackets, [::1]:9464")
    return value


def metrics_runtime(address: str) -> Runtime:
    """A temporalio runtime serving Prometheus text at ``http://address/metrics``, durations in
    seconds (Prometheus's convention)."""
    prometheus = PrometheusConfig(bind_address=address, durations_as_seconds=True)
    return Runtime(telemetry=TelemetryConfig(metrics=prometheus))
