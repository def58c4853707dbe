"""Real OpenSSH tools for the trust tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def keygen(
    folder: Path,
    name: str,
    *,
    key_type: str = "ed25519",
    passphrase: str = "",
    comment: str = "alice@example.com",
    extra: tuple[str, ...] = (),
) -> Path:
    """Run ``ssh-keygen`` as a person would; return the private key's path (``.pub`` beside it)."""
    path = folder / name
    subprocess.run(
        [
            "ssh-keygen",
            "-q",
            "-t",
            key_type,
            "-N",
            passphrase,
            "-C",
            comment,
            "-f",
            str(path),
            *extra,
        ],
        check=True,
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )
    return path


def keygen_fingerprint(path: Path) -> str:
    """The fingerprint ``ssh-keygen -lf`` prints for a key file."""
    output = subprocess.run(
        ["ssh-keygen", "-lf", str(path)], check=True, capture_output=True, text=True
    ).stdout
    return output.split()[1]


def keygen_public_of(private_path: Path) -> str:
    """``ssh-keygen -y``: the public key OpenSSH derives from a private key file."""
    return subprocess.run(
        ["ssh-keygen", "-y", "-f", str(private_path)],
        check=True,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    ).stdout.strip()


@contextmanager
def ssh_agent(folder: Path) -> Iterator[str]:
    """A real ``ssh-agent`` in the foreground on a socket in ``folder``; yields the socket path."""
    agent = shutil.which("ssh-agent")
    assert agent is not None
    socket_path = folder / "agent.sock"
    process = subprocess.Popen(
        [agent, "-D", "-a", str(socket_path)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not socket_path.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"ssh-agent did not start (exit code {process.poll()})")
            time.sleep(0.02)
        yield str(socket_path)
    finally:
        process.terminate()
        process.wait(timeout=10)


def ssh_add(socket_path: str, private_path: Path) -> None:
    """Load an unencrypted key into the agent, as ``ssh-add`` does."""
    subprocess.run(
        ["ssh-add", str(private_path)],
        check=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "SSH_AUTH_SOCK": socket_path},
    )
