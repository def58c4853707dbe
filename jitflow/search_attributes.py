"""The custom search attributes that make every request findable in the Web UI and `temporal workflow list`.

One list, used wherever the project starts or prepares a Temporal server (the dev stack, the
tests, the worker's start-up check, docker-compose) so that they never drift apart.
"""

from __future__ import annotations

from typing import Final

#: name -> Temporal search attribute type, as `temporal operator search-attribute create --type` spells it.
SEARCH_ATTRIBUTE_TYPES: Final[dict[str, str]] = {
    "JitFlow": "Keyword",
    "JitTarget": "Keyword",
    "JitRequester": "Keyword",
    "JitApprover": "Keyword",
    "JitStatus": "Keyword",
    "JitExpiresAt": "Datetime",
}


def dev_server_args() -> list[str]:
    """``--search-attribute`` flags for ``temporal server start-dev``."""
    args: list[str] = []
    for name, kind in SEARCH_ATTRIBUTE_TYPES.items():
        args += ["--search-attribute", f"{name}={kind}"]
    return args
