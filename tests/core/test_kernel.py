"""The kernel readings against what the sockets really hold."""

from __future__ import annotations

import socket
import time

from helpers import free_port

from sockviz.core import take_snapshot
from sockviz.core.kernel.tcp_info import read_kernel


def test_fresh_socket_is_close_state():
    with socket.socket() as fresh:
        assert read_kernel(fresh).state == "CLOSE"


def test_listener_queue_and_backlog():
    port = free_port()
    with socket.socket() as listener, socket.socket() as client:
        listener.bind(("127.0.0.1", port))
        listener.listen(5)
        assert (read_kernel(listener).accept_queue, read_kernel(listener).backlog) == (0, 5)
        client.connect(("127.0.0.1", port))
        reading = read_kernel(listener)
        assert (reading.state, reading.accept_queue, reading.queues) == ("LISTEN", 1, "1/5 queued")


def test_bytes_wait_in_the_receive_queue_until_recv():
    port = free_port()
    with socket.socket() as listener, socket.socket() as client:
        listener.bind(("127.0.0.1", port))
        listener.listen()
        client.connect(("127.0.0.1", port))
        conn, _ = listener.accept()
        with conn:
            client.sendall(b"x" * 100)
            deadline = time.monotonic() + 2
            while read_kernel(conn).recv_queue != 100 and time.monotonic() < deadline:
                time.sleep(0.001)
            assert read_kernel(conn).state == "ESTABLISHED"
            assert read_kernel(conn).recv_queue == 100
            conn.recv(100)
            assert read_kernel(conn).recv_queue == 0


def test_closed_socket_has_no_reading_and_repr_says_closed():
    sock = socket.socket()
    sock.close()
    snap = take_snapshot(sock)
    assert snap.closed and snap.fd == -1 and snap.kernel is None
    assert snap.repr == repr(sock)
