"""Making text from user code safe to record: no secrets, no URLs' paths, bounded length.

A hook's exception may carry a webhook URL with its token, an API key, a password. What reaches
a workflow's history, ``jitflow status`` and the Web UI is the exception's type, function, file
and line, and its message cut short with anything that looks like a credential masked; the full
text goes to the worker's log only.
"""

from __future__ import annotations

import re
import traceback

#: The longest message kept from user code.
MAX_MESSAGE = 300

_URL = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*://)([^/\s?#@]*@)?([^/\s?#]+)[^\s]*")
_ASSIGNED = re.compile(
    r"(?i)\b(token|secret|password|passwd|pwd|api[_-]?key|key|auth|authorization|bearer|"
    r"signature|credentials?|session)\b(\s*[:=]\s*|\s+)(['\"]?)[^\s'\",;]+"
)
_KNOWN = re.compile(
    r"\b(xox[abposr]-[A-Za-z0-9-]+|AKIA[0-9A-Z]{16}|ASIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{20,}|"
    r"sk-[A-Za-z0-9]{16,}|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)"
)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_LONG_OPAQUE = re.compile(r"\b[A-Za-z0-9+_=-]{32,}\b")


def scrub(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` with URLs cut to scheme and host, credentials masked, on one line, bounded."""
    cleaned = _URL.sub(lambda m: f"{m.group(1)}{m.group(3)}/…", text)
    cleaned = _ASSIGNED.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3)}***", cleaned)
    cleaned = _KNOWN.sub("***", cleaned)
    cleaned = _LONG_OPAQUE.sub(
        lambda m: m.group(0) if _UUID.fullmatch(m.group(0)) else "***", cleaned
    )
    cleaned = " ".join(cleaned.split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def scrubbed_traceback(error: BaseException) -> str:
    """``error``'s traceback (its causes too) for a log, each line scrubbed as ``scrub`` does.

    User code's tracebacks carry its exceptions' messages and its source lines, either of which
    may hold a token; a log is no place for them. Each line keeps its indentation (so the
    frames still read as a traceback) and its own length bound.
    """
    lines = []
    for chunk in traceback.format_exception(error):
        for line in chunk.splitlines():
            if not line.strip():
                continue
            indent = line[: len(line) - len(line.lstrip())]
            lines.append(indent + scrub(line))
    return "\n".join(lines)
