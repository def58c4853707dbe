"""How hints name jitflow's own command: the way the user ran it, so that a hint can be pasted.

The console script normally lives in the project's virtualenv and is not on ``PATH``: someone
who typed ``.venv/bin/jitflow request ...`` and is told to run ``jitflow status ID`` gets
"command not found". Every hint the CLI prints (its own, and the fixes that refusals from the
worker spell as ``jitflow ...``) therefore names the command as ``sys.argv[0]`` shows it: as
typed when it was a relative path, the bare name when ``PATH`` finds that very file, a path
relative to the current folder when the file is below it, and ``python -m jitflow`` when run
as a module. Only the ``jitflow`` command is renamed; anything else keeps the plain name.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
from pathlib import Path

#: The name in jitflow's own messages, and the one used when ``argv[0]`` says nothing useful.
PLAIN_NAME = "jitflow"

#: ``jitflow <subcommand>`` as messages spell a command (backticked or not), but not prose
#: such as "jitflow needs ...", nor a command already named as run (``.venv/bin/jitflow``,
#: ``python -m jitflow``), so renaming twice changes nothing.
_COMMAND_IN_TEXT = re.compile(
    r"(?<![\w./-])(?<!-m )jitflow(?= (?:users|request|approve|deny|revoke|cancel|sign|status"
    r"|list|dev|worker|validate|emulator)\b)"
)


def shown_path(path: str, cwd: str | None = None, search_path: str | None = None) -> str:
    """``path`` as a person would type it from ``cwd``: the bare name when ``PATH`` finds this
    very file (not merely one with the same name), else relative when below ``cwd``."""
    cwd = os.getcwd() if cwd is None else cwd
    search_path = os.environ.get("PATH") if search_path is None else search_path
    if not os.path.isabs(path):
        return path
    name = os.path.basename(path)
    found = shutil.which(name, path=search_path)
    if found and os.path.normpath(os.path.abspath(found)) == os.path.normpath(path):
        return name
    relative = os.path.relpath(path, cwd)
    if not relative.startswith(".."):
        return relative if os.sep in relative else f".{os.sep}{relative}"
    return path


def command_name(
    argv0: str | None = None,
    *,
    executable: str | None = None,
    cwd: str | None = None,
    search_path: str | None = None,
) -> str:
    """How to spell the ``jitflow`` command in a hint, from how this process was started.

    The arguments default to this process's ``sys.argv[0]``, ``sys.executable``, current folder
    and ``PATH``; tests pass their own.
    """
    argv0 = sys.argv[0] if argv0 is None else argv0
    executable = sys.executable if executable is None else executable
    cwd = os.getcwd() if cwd is None else cwd
    search_path = os.environ.get("PATH") if search_path is None else search_path
    if not argv0:
        return PLAIN_NAME
    base = os.path.basename(argv0)
    if base == "__main__.py" and Path(argv0).parent.name == PLAIN_NAME:
        python = shown_path(executable, cwd, search_path) if executable else "python3"
        return f"{shlex.quote(python)} -m {PLAIN_NAME}"
    if not base.startswith(PLAIN_NAME):
        # Run from a test runner or embedded: nothing tells how a person would run it.
        return PLAIN_NAME
    return shlex.quote(shown_path(argv0, cwd, search_path))


def name_commands(text: str, name: str | None = None) -> str:
    """``text`` with every ``jitflow <subcommand>`` spelled as this process was run."""
    shown = command_name() if name is None else name
    if shown == PLAIN_NAME:
        return text
    return _COMMAND_IN_TEXT.sub(lambda _: shown, text)


#: Hosts whose Temporal is most likely the local stack that ``make run`` starts.
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0"})


def unreachable_hint(address: str) -> str:
    """What to do when Temporal does not answer at ``address``.

    On this machine the likely intent is jitflow's local stack, which ``make run`` starts from
    the jitflow folder: that is the fix to name, rather than a bare Temporal server that would
    lack the worker and the emulators.
    """
    host = address.rsplit(":", 1)[0] if ":" in address else address
    if host.strip("[]") in _LOCAL_HOSTS:
        return (
            "start the local stack with `make run` in the jitflow folder, or point --address "
            "or TEMPORAL_ADDRESS at your Temporal"
        )
    return "check --address or TEMPORAL_ADDRESS, and that Temporal is up there"
