"""Run ``pip`` with one progress line instead of a silent minute or a page of output.

``make install`` (which ``make run`` and ``make test`` run first on a fresh clone) installs about
a hundred packages. With ``--quiet`` the terminal shows nothing for a minute, which looks like a
hang; without it, pip's page of output buries what matters. This keeps pip's whole output in a
log and shows one line that follows it (on a terminal, rewritten in place; elsewhere, a line
every few packages), then how long it took, or the log's tail when pip failed.

The Makefile runs this file by path before jitflow is installed, so it uses the standard
library only: ``python jitflow/devstack/pip_progress.py LOG PIP-ARGS...``.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

#: pip's lines that mark progress: one per package it looks at, then the final install.
_STEPS = ("Collecting ", "Obtaining ", "Requirement already satisfied: ", "Installing collected")
#: Off a terminal, report every this many packages (CI logs stay short).
_EVERY = 25
_WIDTH = 78


def _step(line: str) -> str | None:
    """The package or action a pip output line reports, if it reports one."""
    for prefix in _STEPS:
        if line.startswith(prefix):
            rest = line[len(prefix) :].split()
            if prefix == "Installing collected":
                return "installing the collected packages"
            return rest[0] if rest else None
    return None


def run_pip(
    pip_args: Sequence[str],
    log_path: Path,
    out: TextIO = sys.stderr,
    *,
    command: Sequence[str] | None = None,
) -> int:
    """Run pip (or ``command``, for tests) with ``pip_args``; return its exit status."""
    argv = [*(command or (sys.executable, "-m", "pip")), *pip_args]
    interactive = out.isatty()
    started = time.monotonic()
    count = 0
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("a", encoding="utf-8") as log:
        log.write(f"$ {' '.join(argv)}\n")
        process = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
        )
        assert process.stdout is not None
        for line in process.stdout:
            log.write(line)
            step = _step(line)
            if step is None:
                continue
            count += 1
            note = f"  [{time.monotonic() - started:3.0f}s] {count:3d} packages: {step}"
            if interactive:
                out.write("\r" + note[:_WIDTH].ljust(_WIDTH))
                out.flush()
            elif count % _EVERY == 0:
                out.write(note + "\n")
        code = process.wait()
    if interactive:
        out.write("\r" + " " * _WIDTH + "\r")
    if code == 0:
        out.write(f"  done in {time.monotonic() - started:.0f}s (pip's output: {log_path})\n")
    else:
        tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-25:]
        out.write(f"  pip failed (exit {code}); the end of {log_path}:\n")
        out.write("".join(f"    {line}\n" for line in tail))
    out.flush()
    return code


def main(argv: Sequence[str]) -> int:
    if len(argv) < 2:
        sys.stderr.write("usage: pip_progress.py LOG PIP-ARGS...\n")
        return 2
    return run_pip(argv[1:], Path(argv[0]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
