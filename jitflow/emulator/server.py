"""Serving the emulator with uvicorn, for the CLI and the test helper alike."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn

#: Any ASGI application: the Aptible emulator or one of the small service emulators.
AsgiApp = Callable[[Any, Any, Any], Awaitable[None]]


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening socket; port 0 picks a free one with no window for another process to take it."""
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on sockets that say they are TCP,
    # and without it every keep-alive answer waits ~40 ms for the client's delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


def build_server(app: AsgiApp, *, log_level: str = "warning") -> uvicorn.Server:
    """A uvicorn server for an emulator: h11 (dropped connections rely on it), no lifespan, no
    proxy-header rewriting, and a short graceful shutdown so tests stop quickly."""
    config = uvicorn.Config(
        app,
        http="h11",
        lifespan="off",
        proxy_headers=False,
        log_level=log_level,
        access_log=log_level in ("debug", "trace", "info"),
        timeout_graceful_shutdown=1,
    )
    return uvicorn.Server(config)


def serve_in_thread(
    app: AsgiApp, name: str, host: str = "127.0.0.1"
) -> tuple[str, uvicorn.Server, threading.Thread]:
    """Serve ``app`` on a free port from a daemon thread of this process, once it answers:
    the base URL, the server (``should_exit = True`` stops it) and the thread to join."""
    server = build_server(app)
    sock = bind_socket(host, 0)
    port = sock.getsockname()[1]

    def run() -> None:
        try:
            server.run(sockets=[sock])
        finally:
            sock.close()

    thread = threading.Thread(target=run, name=f"{name}-emulator-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the {name} emulator did not start on {host}:{port}")
        time.sleep(0.005)
    return f"http://{host}:{port}", server, thread
