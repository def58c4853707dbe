"""Free ports for the servers tests and the dev stack start (a CI run once lost one to a client)."""

from __future__ import annotations

import socket
from pathlib import Path

from jitflow.devstack.ports import free_port


def _ephemeral_start() -> int:
    return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])


def test_free_ports_lie_below_the_range_outgoing_connections_take_theirs_from() -> None:
    ports = [free_port() for _ in range(50)]
    assert all(1024 <= port < _ephemeral_start() for port in ports), ports


def test_one_process_never_gets_the_same_port_twice() -> None:
    ports = [free_port() for _ in range(200)]
    assert len(set(ports)) == len(ports)


def test_every_port_handed_out_can_be_bound_while_earlier_ones_are_held() -> None:
    held: list[socket.socket] = []
    try:
        for _ in range(100):
            sock = socket.socket()
            held.append(sock)
            sock.bind(("127.0.0.1", free_port()))
            sock.listen()
    finally:
        for sock in held:
            sock.close()
