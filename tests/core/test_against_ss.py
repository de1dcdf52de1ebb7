"""The table's kernel figures against `ss` (iproute2), the kernel's own outside observer."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess

import pytest
from helpers import wait_for

from sockviz.core import Target

pytestmark = pytest.mark.skipif(shutil.which("ss") is None, reason="needs ss from iproute2")

_SS_NAMES = {"ESTAB": "ESTABLISHED", "UNCONN": "CLOSE", "FIN-WAIT-1": "FIN_WAIT1", "FIN-WAIT-2": "FIN_WAIT2"}


def ss_rows(port: int) -> list[dict]:
    """Every TCP socket on this port as ss sees it: state, queues, both ends, and the timer."""
    out = subprocess.run(
        ["ss", "-tanoH", "state", "all", f"( sport = :{port} or dport = :{port} )"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rows = []
    for line in out.splitlines():
        fields = line.split()
        state = _SS_NAMES.get(fields[0], fields[0].replace("-", "_"))
        timer = re.search(r"timer:\(timewait,(?:(\d+)min)?(\d+(?:\.\d+)?)(m?s)ec", line)
        left = None
        if timer:
            left = float(timer.group(2)) / (1000 if timer.group(3) == "ms" else 1) + 60 * int(timer.group(1) or 0)
        rows.append({
            "state": state, "recv_q": int(fields[1]), "send_q": int(fields[2]),
            "local": fields[3].rsplit(":", 1), "peer": fields[4].rsplit(":", 1), "left": left,
        })  # fmt: skip
    return rows


def ss_row_of(port: int, local_port: int, peer_port: int | str = "*") -> dict:
    for row in ss_rows(port):
        if row["local"][1] == str(local_port) and row["peer"][1] == str(peer_port):
            return row
    raise AssertionError(f"ss shows no socket {local_port} -> {peer_port}: {ss_rows(port)}")


def test_a_whole_lesson_matches_ss(loopback):
    port = loopback.endpoint.port
    loopback.run("server-socket")
    loopback.run("server-bind")
    loopback.run("server-listen", backlog=5)
    listener = loopback.session.current(Target.LISTENER)

    # Listening, then a connection waiting in the accept queue before accept().
    row = ss_row_of(port, port)
    assert (row["state"], row["recv_q"], row["send_q"]) == ("LISTEN", 0, 5)
    loopback.run("client-socket")
    loopback.run("client-connect")
    kernel = listener.snapshot().kernel
    row = ss_row_of(port, port)
    assert (row["recv_q"], row["send_q"]) == (kernel.accept_queue, kernel.backlog) == (1, 5)

    # Established, with bytes waiting in the server's receive queue.
    loopback.run("server-accept")
    client = loopback.session.current(Target.CLIENT)
    conn = loopback.session.current(Target.CONNECTION)
    client_port = client.snapshot().laddr[1]
    loopback.run("client-send", payload=b"x" * 1000)
    wait_for(lambda: conn.snapshot().kernel.recv_queue == 1000, what="the bytes to arrive")
    row = ss_row_of(port, port, client_port)
    assert (row["state"], row["recv_q"]) == (conn.snapshot().kernel.state, conn.snapshot().kernel.recv_queue)
    assert row["recv_q"] == 1000 == client.bytes_sent
    loopback.run("server-recv-all", expect=1000)
    assert ss_row_of(port, port, client_port)["recv_q"] == conn.snapshot().kernel.recv_queue == 0

    # Half-closed: the client shuts down its sending side.
    loopback.run("client-shutdown", how=socket.SHUT_WR)
    wait_for(lambda: client.snapshot().kernel.state == "FIN_WAIT2", what="FIN_WAIT2")
    assert ss_row_of(port, client_port, port)["state"] == client.snapshot().kernel.state == "FIN_WAIT2"
    assert ss_row_of(port, port, client_port)["state"] == conn.snapshot().kernel.state == "CLOSE_WAIT"

    # The server closes: the client's side, which closed first, lingers in TIME_WAIT.
    loopback.run("server-close-conn")
    wait_for(lambda: ss_row_of(port, client_port, port)["state"] == "TIME_WAIT", what="TIME_WAIT in ss")
    loopback.run("client-close")
    loopback.session.read_lingering()
    held = client.after_close
    row = ss_row_of(port, client_port, port)
    assert held is not None and held.state == row["state"] == "TIME_WAIT"
    assert abs(held.expires - row["left"]) < 2


def test_send_queue_matches_ss_when_the_peer_does_not_read(loopback):
    loopback.connected()
    loopback.run("client-send", payload=b"y" * 3_000_000)  # more than the peer's receive buffer holds
    client = loopback.session.current(Target.CLIENT)
    client_port = client.snapshot().laddr[1]

    def agree() -> bool:  # the queue settles as the peer's window fills: read both until they agree
        return ss_row_of(loopback.endpoint.port, client_port, loopback.endpoint.port)["send_q"] == queued()

    def queued() -> int:
        return client.snapshot().kernel.send_queue

    wait_for(agree, what="ss and the session to read the same send queue")
    assert queued() > 0
