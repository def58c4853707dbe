"""The moto server helper: starts on loopback, stops with no process left, fails clearly."""

from __future__ import annotations

import socket
import urllib.request

import pytest

from jitflow.testing.moto_server import MotoServer, MotoServerError, create_secret, moto_server


def test_context_manager_yields_a_loopback_url_and_stops_the_process() -> None:
    server = MotoServer()
    with server:
        assert server.url.startswith("http://127.0.0.1:")
        assert server.running and "running" in repr(server)
        with urllib.request.urlopen(f"{server.url}/moto-api/data.json", timeout=5) as response:
            assert response.status == 200
    assert not server.running
    server.stop()  # a second stop is harmless


def test_create_secret_overwrites_an_existing_secret() -> None:
    with moto_server() as url:
        first = create_secret(url, "sym/x", {"a": "1"})
        assert create_secret(url, "sym/x", "now plain") == first


def test_a_taken_port_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = MotoServer(port=port)
        with pytest.raises(MotoServerError, match=str(port)):
            server.start()
        assert not server.running
