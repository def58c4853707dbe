"""Signing through a real ``ssh-agent``: keys that never leave the agent sign decisions too."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from ssh_tools import keygen, ssh_add, ssh_agent

from jitflow.trust.keys import parse_public_key, sign_with_agent

pytestmark = [
    pytest.mark.usefixtures("ssh_keygen"),
    pytest.mark.skipif(
        shutil.which("ssh-agent") is None or shutil.which("ssh-add") is None,
        reason="no ssh-agent/ssh-add on this machine (apt-get install -y openssh-client)",
    ),
]


@pytest.fixture
def short_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a short path: a unix socket path is limited to about 100 bytes."""
    return tmp_path_factory.mktemp("agent", numbered=True)


def test_a_key_held_by_the_agent_signs(short_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    held = keygen(short_tmp, "held")
    public = parse_public_key(held.with_suffix(".pub").read_text())
    with ssh_agent(short_tmp) as socket_path:
        ssh_add(socket_path, held)
        monkeypatch.setenv("SSH_AUTH_SOCK", socket_path)
        signature = sign_with_agent(public, b"approve access/abc")
        assert signature is not None
        assert public.verify(b"approve access/abc", signature)
        assert not public.verify(b"approve access/xyz", signature)
        # The explicit socket path works without the variable.
        monkeypatch.delenv("SSH_AUTH_SOCK")
        assert sign_with_agent(public, b"x", socket_path=socket_path) is not None


def test_a_key_the_agent_does_not_hold_gives_none(short_tmp: Path) -> None:
    held = keygen(short_tmp, "held")
    stranger = parse_public_key(keygen(short_tmp, "stranger").with_suffix(".pub").read_text())
    with ssh_agent(short_tmp) as socket_path:
        ssh_add(socket_path, held)
        assert sign_with_agent(stranger, b"data", socket_path=socket_path) is None


def test_no_agent_gives_none(short_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    public = parse_public_key(keygen(short_tmp, "key").with_suffix(".pub").read_text())
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    assert sign_with_agent(public, b"data") is None
    assert sign_with_agent(public, b"data", socket_path=str(short_tmp / "gone.sock")) is None
    (short_tmp / "plain-file").write_text("not a socket")
    assert sign_with_agent(public, b"data", socket_path=str(short_tmp / "plain-file")) is None
