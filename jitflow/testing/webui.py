"""Drive a headless Chromium against the Temporal Web UI, for tests that check what a person would see.

The Web UI is a single-page app that fetches its data after the first paint, so dumping the DOM
once is not enough. :func:`render_text` opens the page through the Chrome DevTools protocol and
polls the page's visible text until an expected string appears.

The protocol runs over ``--remote-debugging-pipe`` (NUL-terminated JSON messages on the browser's
file descriptors 3 and 4), so no port, websocket library or browser download is needed: only a
Chromium binary, such as Debian's ``chromium`` package.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, BinaryIO, Final

#: Flags that keep Chromium headless and off the internet: no sync, updates, first-run or
#: background fetches, no proxy (only local pages are loaded). ``--no-sandbox`` because CI runs
#: as root.
CHROMIUM_FLAGS: Final[tuple[str, ...]] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--no-proxy-server",
    "--mute-audio",
    "--hide-scrollbars",
)

_CANDIDATES: Final[tuple[str, ...]] = (
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
)

#: How much of the page's text, and how many lines of Chromium's log, an error message quotes.
_QUOTE_CHARS: Final[int] = 2000
_LOG_LINES: Final[int] = 20
#: Seconds between looks at the page, and allowed past the deadline to read it one last time.
_POLL_INTERVAL: Final[float] = 0.25
_GRACE: Final[float] = 5.0

# The browser reads commands from fd 3 and writes replies to fd 4. subprocess can only place
# pipes on fds 0-2, so a shell moves them: stdin -> 3, stdout -> 4, then stdin from /dev/null
# and stdout to stderr (the browser's own log).
_PIPE_SHIM: Final[str] = 'exec "$0" "$@" 3<&0 4>&1 0</dev/null 1>&2'


class BrowserError(RuntimeError):
    """Chromium failed, or the page never showed what was expected; the message says what it showed."""


def find_chromium() -> Path | None:
    """A Chromium or Chrome binary: ``$JITFLOW_CHROMIUM``, else the first one on PATH, else None."""
    override = os.environ.get("JITFLOW_CHROMIUM")
    if override:
        return Path(override) if Path(override).is_file() else None
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def render_text(
    url: str,
    wait_for: str,
    timeout: float = 20.0,
    *,
    screenshot: Path | None = None,
    chromium: Path | None = None,
    window_size: tuple[int, int] = (1400, 900),
) -> str:
    """Open ``url`` in headless Chromium and return the page's visible text once it contains ``wait_for``.

    Blocking (call it with ``asyncio.to_thread`` from async code). With ``screenshot``, a PNG of
    the page at that moment is written there, also when the wait times out. Raises
    :class:`BrowserError` when no Chromium exists, it fails, or ``wait_for`` does not appear within
    ``timeout`` seconds; the message then quotes the text the page showed last.
    """
    binary = chromium or find_chromium()
    if binary is None:
        raise BrowserError(
            "no Chromium binary found: install Debian's `chromium` package or set JITFLOW_CHROMIUM"
        )
    deadline = time.monotonic() + timeout
    with tempfile.TemporaryDirectory(prefix="jitflow-chromium-") as tmp:
        profile = Path(tmp) / "profile"
        log_path = Path(tmp) / "chromium.log"
        args = [
            str(binary),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={window_size[0]},{window_size[1]}",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        with log_path.open("wb") as log, _Browser(args, log, log_path) as browser:
            session = browser.open_page(deadline)
            browser.call("Page.enable", {}, deadline, session)
            nav = browser.call("Page.navigate", {"url": url}, deadline, session)
            if nav.get("errorText"):
                raise BrowserError(f"Chromium could not load {url}: {nav['errorText']}")
            while True:
                # A grace period past the deadline, so that a timeout still reports the page.
                text = browser.visible_text(session, max(deadline, time.monotonic()) + _GRACE)
                if wait_for in text:
                    break
                if time.monotonic() >= deadline:
                    if screenshot is not None:
                        with contextlib.suppress(BrowserError):
                            browser.screenshot(session, screenshot, time.monotonic() + _GRACE)
                    raise BrowserError(
                        f"{wait_for!r} did not appear on {url} within {timeout:g}s; "
                        f"the page showed:\n{_quote(text)}"
                    )
                time.sleep(_POLL_INTERVAL)
            if screenshot is not None:
                browser.screenshot(session, screenshot, time.monotonic() + _GRACE)
            return text


def _quote(text: str) -> str:
    text = text.strip() or "(no visible text)"
    if len(text) > _QUOTE_CHARS:
        text = text[:_QUOTE_CHARS] + " [...]"
    return text


class _Browser:
    """One Chromium process and its DevTools pipe."""

    def __init__(self, args: list[str], log: BinaryIO, log_path: Path) -> None:
        self._log_path = log_path
        self._proc = subprocess.Popen(
            ["/bin/sh", "-c", _PIPE_SHIM, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            start_new_session=True,
        )
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._write_fd = self._proc.stdin.fileno()
        self._read_fd = self._proc.stdout.fileno()
        self._buffer = b""
        self._next_id = 0

    def __enter__(self) -> _Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._proc.poll() is None:
            with contextlib.suppress(BrowserError, OSError):
                self.call("Browser.close", {}, time.monotonic() + 3)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=5)
        # The browser leads its own process group: kill whatever of it is left (a hung browser,
        # or renderer and zygote children that outlive it).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(timeout=5)
        for stream in (self._proc.stdin, self._proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def open_page(self, deadline: float) -> str:
        """A new tab, attached; returns its session id."""
        target = self.call("Target.createTarget", {"url": "about:blank"}, deadline)
        attached = self.call(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}, deadline
        )
        session: str = attached["sessionId"]
        return session

    def visible_text(self, session: str, deadline: float) -> str:
        result = self.call(
            "Runtime.evaluate",
            {
                "expression": "document.body ? document.body.innerText : ''",
                "returnByValue": True,
            },
            deadline,
            session,
        )
        value = result.get("result", {}).get("value")
        return value if isinstance(value, str) else ""

    def screenshot(self, session: str, path: Path, deadline: float) -> None:
        shot = self.call("Page.captureScreenshot", {"format": "png"}, deadline, session)
        path.write_bytes(base64.b64decode(shot["data"]))

    def call(
        self, method: str, params: dict[str, Any], deadline: float, session: str | None = None
    ) -> dict[str, Any]:
        """Send one command and wait for its reply, skipping events."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        try:
            while data:
                data = data[os.write(self._write_fd, data) :]
        except OSError as err:
            raise self._failure(f"could not send {method}: {err}") from err
        while True:
            reply = self._receive(method, deadline)
            if reply.get("id") != self._next_id:
                continue  # an event, or a late reply to an earlier command
            if "error" in reply:
                raise BrowserError(f"{method} failed: {reply['error']}")
            result: dict[str, Any] = reply.get("result", {})
            return result

    def _receive(self, method: str, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._failure(f"no reply to {method} in time")
            ready, _, _ = select.select([self._read_fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(self._read_fd, 1 << 20)
            if not chunk:
                raise self._failure(f"Chromium exited while waiting for {method}")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        reply: dict[str, Any] = json.loads(raw)
        return reply

    def _failure(self, what: str) -> BrowserError:
        try:
            log = self._log_path.read_text(errors="replace").strip()
        except OSError:
            log = ""
        # Without a desktop session Chromium logs D-Bus errors by the dozen; they are never the cause.
        lines = [line for line in log.splitlines() if ":ERROR:dbus/" not in line]
        tail = "\n".join(lines[-_LOG_LINES:]) or "(nothing but D-Bus noise)"
        return BrowserError(f"{what}; Chromium's log ends with:\n{tail}")
