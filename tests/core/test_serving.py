"""select(), non-blocking sockets and the three serve modes, on real loopback sockets.

What select() answers is checked against what the next accept() or recv() then does; what a serve
mode echoed is checked against what each client sent, in the session's counts and the kernel's.
"""

from __future__ import annotations

import os
import select
import socket
import threading

import pytest
from helpers import wait_for

from sockviz.core import Role, Side, StepFailed, StepReturned, step
from sockviz.core.kernel.readiness import Readiness
from sockviz.core.kernel.tcp_info import read_kernel
from sockviz.core.model.options import option_setting
from sockviz.core.story.sentences import Storyteller, tell


def _returned(loopback, step_id: str) -> list[StepReturned]:
    return [e for e in loopback.events.finished(step_id) if isinstance(e, StepReturned)]


def test_select_names_the_ready_sockets_and_the_next_calls_do_not_wait(loopback):
    loopback.server_listening()
    loopback.run("client-socket")
    loopback.run("client-connect")
    first = loopback.run("server-select", timeout=0)
    assert first.readable == ("s",) and "s: 1 connection waiting" in first.result
    accepted = loopback.run("server-accept")
    assert isinstance(accepted, StepReturned) and not accepted.blocked

    nothing = loopback.run("server-select", timeout=0)
    assert nothing.readable == () and "([], [], [])" in nothing.result
    loopback.run("client-send", payload=b"Hello")
    ready = loopback.run("server-select", timeout=0)
    assert ready.readable == ("conn",) and "conn: 5 bytes" in ready.result
    assert "select.select([s, conn], [], [], 0)" in ready.call.code
    received = loopback.run("server-recv")
    assert isinstance(received, StepReturned) and received.data == b"Hello" and not received.blocked

    loopback.run("client-shutdown", how=1)  # SHUT_WR: the server's next recv() is b''
    at_end = loopback.run("server-select", timeout=0)
    assert at_end.readable == ("conn",) and "conn: EOF" in at_end.result
    assert loopback.run("server-recv").data == b""


def test_the_select_hint_watches_a_connection_accepted_after_the_last_hint(loopback):
    """The hint's sockets are registered once for many hints: a connection accepted since is watched too."""
    loopback.connected()
    hint = loopback.session.predict(step("server-select"))
    assert hint is not None and hint.blocks
    loopback.run("client-socket")
    loopback.run("client-connect")
    loopback.run("server-accept")
    loopback.run("client-send", payload=b"ping")  # the newest client, to the newest connection
    hint = loopback.session.predict(step("server-select"))
    assert hint is not None and not hint.blocks and "conn2 (4 bytes)" in hint.why, hint


def test_readiness_leaves_out_a_socket_closed_since_even_when_its_fd_is_another_files_now():
    """Registered once and asked again later: a socket closed meanwhile is not ready, also when its fd's number
    has been given to a file that is (here /dev/null, always readable)."""
    first, first_peer = socket.socketpair()
    second, second_peer = socket.socketpair()
    readiness = Readiness([first, second])
    first_peer.send(b"x")
    second_peer.send(b"y")
    assert readiness.ready(select.POLLIN) == [0, 1]
    fd = second.fileno()
    second.close()
    null = os.open(os.devnull, os.O_RDONLY)  # the lowest free fd: most likely the socket's, else moved there
    if null != fd:
        os.dup2(null, fd)
        os.close(null)
    try:
        assert readiness.ready(select.POLLIN) == [0]
    finally:
        os.close(fd)
        for sock in (first, first_peer, second_peer):
            sock.close()


def test_a_waiting_select_is_woken_by_the_clients_send_and_says_so(loopback):
    loopback.connected()
    hint = loopback.session.predict(step("server-select"))
    assert hint is not None and hint.blocks and hint.short == "waits"
    loopback.start("server-select")
    loopback.blocked("server-select")
    loopback.run("client-send", payload=b"ping")
    loopback.finished("server-select")
    woke = loopback.events.finished("server-select")[-1]
    assert isinstance(woke, StepReturned) and woke.blocked and woke.readable == ("conn",)
    assert woke.woken_by == "client c.sendall()" and woke.woken_by_call is not None
    assert "(woken by client c.sendall())" in tell(woke)
    hint = loopback.session.predict(step("server-select"))
    assert hint is not None and not hint.blocks and hint.short == "1 ready" and "conn (4 bytes)" in hint.why


def test_setblocking_false_makes_accept_and_recv_raise_at_once(loopback):
    loopback.server_listening()
    option = loopback.run("server-option", option=option_setting("setblocking", "0"))
    assert option.call.code == "s.setblocking(False)" and "setblocking is now False" in option.result
    hint = loopback.session.predict(step("server-accept"))
    assert hint is not None and hint.short == "raises"
    failed = loopback.run("server-accept")
    assert isinstance(failed, StepFailed) and not failed.blocked
    assert failed.error.exception == "BlockingIOError" and failed.error.errno_name == "EAGAIN"
    loopback.run("client-socket")
    loopback.run("client-connect")
    accepted = loopback.run("server-accept")
    assert isinstance(accepted, StepReturned)
    conn = loopback.session.sockets[-1]
    assert conn.role is Role.CONNECTION and conn.sock.getblocking()  # not inherited from s
    loopback.run("client-option", option=option_setting("setblocking", "0"))
    nothing = loopback.run("client-recv")
    assert isinstance(nothing, StepFailed) and nothing.error.exception == "BlockingIOError"


@pytest.mark.parametrize("mode", ["blocking", "threads", "select"])
def test_each_serve_mode_echoes_what_every_client_sent_and_stops_when_cancelled(loopback, mode):
    teller = Storyteller()
    told: list[str] = []
    loopback.session.subscribe(lambda event: told.extend(line.text for line in teller.lines(event)))
    loopback.server_listening()
    serving = loopback.start(f"server-serve-{mode}")
    message = b"twelve bytes"
    loopback.run("client-burst", count=6, payload=message, hold=0)
    wait_for(lambda: any(text.startswith("burst done") for text in told), what="the burst's summary")
    summary = next(text for text in told if text.startswith("burst done"))
    assert "6 of 6 connected; 6 of 6 served (their 12 bytes came back)" in summary
    assert "latency per client from sendall() to the whole echo: min " in summary

    done = [f"serving ({mode}): 1 thread, 6 of 6 clients served"]  # each sendall() counted, each b'' seen
    wait_for(lambda: list(loopback.session.serve_status().values()) == done, what="every client served")
    clients = [t for t in loopback.session.sockets if t.role is Role.CLIENT]
    conns = [t for t in loopback.session.sockets if t.role is Role.CONNECTION]
    assert len(clients) == len(conns) == 6
    for client in clients:
        conn = loopback.session.peer_of(client)
        assert conn is not None and conn.bytes_received == client.bytes_sent == len(message)
        assert conn.bytes_sent == client.bytes_received == len(message)

    made = [e for e in loopback.events.of(StepReturned) if e.call.serve_of is not None]  # each call is the session's
    assert {e.call.step.id for e in made} >= {"server-accept", "server-recv", "server-send", "server-close-conn"}
    loopback.run("server-cancel")
    serving.join(5)
    assert not serving.is_alive()
    ended = loopback.events.finished(f"server-serve-{mode}")[-1]
    assert isinstance(ended, StepReturned) and ended.cancelled
    assert f"served 6 clients on s and echoed {6 * len(message)} bytes" in ended.result
    assert loopback.session.serve_status() == {}


def test_a_blocking_server_serves_one_client_while_the_next_ones_bytes_wait_in_the_kernel(loopback):
    loopback.server_listening()
    loopback.start("server-serve-blocking")
    loopback.run("client-socket")
    loopback.run("client-connect")
    loopback.run("client-send", payload=b"one")
    loopback.run("client-socket")
    loopback.run("client-connect")
    loopback.run("client-send", payload=b"two")
    loopback.blocked("server-recv")  # the serve loop waits in conn.recv(): c has not closed
    listener = loopback.session.sockets[0]
    reading = read_kernel(listener.sock)
    assert reading is not None and reading.accept_queue == 1  # c2's connection, with its 3 bytes, is not accepted
    assert [t.name for t in loopback.session.sockets if t.role is Role.CONNECTION] == ["conn"]

    c = next(t for t in loopback.session.sockets if t.name == "c")
    loopback.session.perform(step("client-close"), loopback.args(), target=c)
    wait_for(lambda: any(e.data == b"two" for e in _returned(loopback, "server-recv")), what="conn2 served")
    conn2 = next(t for t in loopback.session.sockets if t.name == "conn2")
    threads = {e.call.thread for e in loopback.events.finished("server-recv")}
    assert threads == {"loop"} and conn2.bytes_received == 3
    loopback.blocked("server-recv")  # conn2.recv() again: c2 has not closed
    loopback.run("server-cancel")  # the mode's shutdown of conn2 has no line of its own: its result says it
    loopback.finished("server-serve-blocking")
    ended = loopback.events.finished("server-serve-blocking")[-1].result
    assert "served 1 client on s" in ended
    assert "to stop, it shut down (SHUT_RDWR) and closed 1 connection still open: conn2" in ended


def test_threads_serve_every_client_at_once_and_quitting_wakes_them_all(loopback):
    loopback.server_listening()
    serving = loopback.start("server-serve-threads")
    for _ in range(3):
        loopback.run("client-socket")
        loopback.run("client-connect")
    wait_for(lambda: len([e for e in loopback.events.of(StepReturned) if e.call.step.id == "server-accept"]) == 3,
             what="three accepts")  # fmt: skip
    wait_for(lambda: len({c.thread for c in loopback.session.running() if c.step.id == "server-recv"}) == 3,
             what="a recv() waiting in each connection's thread")  # fmt: skip
    assert "4 threads, 0 of 3 clients served" in next(iter(loopback.session.serve_status().values()))
    before = threading.active_count()
    assert loopback.session.close()
    serving.join(3)
    assert not serving.is_alive() and threading.active_count() < before


def test_the_exported_scripts_write_the_serve_mode_and_the_working_burst_out(loopback):
    from sockviz.core.story.transcript import Transcript

    transcript = Transcript(loopback.session)
    loopback.server_listening()
    serving = loopback.start("server-serve-select")
    loopback.run("client-burst", count=2, payload=b"hi", hold=0)
    loopback.run("server-cancel")
    serving.join(5)
    server, client = (transcript.script(side, loopback.endpoint) for side in (Side.SERVER, Side.CLIENT))
    assert "def serve_select(s):" in server and "\nserve_select(s)\n" in server and "import select" in server
    assert "conn.recv(1024)" not in server  # the calls the mode made are its loop, not lines of their own
    assert "def echo_client(c, message, hold):" in client and "target=echo_client, args=(c, b'hi', 0)" in client
    for script in (server, client):
        compile(script, "exported", "exec")


def test_select_watching_for_writing_returns_a_connection_with_room_at_once(loopback):
    loopback.connected()
    hint = loopback.session.predict(step("server-select"), loopback.args(select_write=True))
    assert hint is not None and not hint.blocks and "conn (room to send)" in hint.why
    both = loopback.run("server-select", select_write=True)
    assert isinstance(both, StepReturned) and not both.blocked
    assert both.readable == () and both.writable == ("conn",)
    assert "select.select([s, conn], [conn], [], None)" in both.call.code and "writable [conn]" in both.result
    sent = loopback.run("server-send", payload=b"fits")
    assert isinstance(sent, StepReturned) and not sent.blocked  # what select() said: it did not wait
