"""The session on real loopback sockets: each step, each wrong order, each wake-up."""

from __future__ import annotations

import errno
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time

import pytest
from helpers import open_fds, wait_for

from sockviz.core import (
    Endpoint,
    ListenerFailed,
    Role,
    Session,
    SocketAdded,
    StepBlocked,
    StepCalled,
    StepFailed,
    StepRefused,
    StepReturned,
    Target,
    step,
)
from sockviz.core.story.sentences import tell

HELLO = b"Hello, Wireshark. You are an amazing tool!"


def test_socket_is_made_and_named(loopback):
    done = loopback.run("server-socket")
    assert isinstance(done, StepReturned)
    server = loopback.session.current(Target.LISTENER)
    assert server is not None and server.name == "s" and server.role is Role.SERVER
    assert done.call.code == "s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)"
    assert repr(server.sock) in done.result
    assert loopback.events.of(SocketAdded)[0].name == "s"


def test_bind_sets_laddr(loopback):
    loopback.run("server-socket")
    done = loopback.run("server-bind")
    assert done.call.code == f"s.bind(('127.0.0.1', {loopback.endpoint.port}))"
    assert loopback.session.current(Target.LISTENER).snapshot().laddr == ("127.0.0.1", loopback.endpoint.port)


def test_whole_echo_cycle_moves_the_bytes(loopback):
    loopback.connected()
    loopback.run("client-send", payload=HELLO)
    got = loopback.run("server-recv")
    assert got.data == HELLO and got.call.code == "data = conn.recv(1024)"
    echo = loopback.run("server-send", payload=None)
    assert echo.call.code == "conn.sendall(data)" and echo.data == HELLO
    back = loopback.run("client-recv")
    assert back.data == HELLO
    conn = loopback.session.current(Target.CONNECTION)
    assert (conn.bytes_received, conn.bytes_sent) == (len(HELLO), len(HELLO))


def test_accept_blocks_until_a_client_connects_and_says_how_long(loopback):
    loopback.server_listening()
    loopback.start("server-accept")
    wait_for(lambda: loopback.events.of(StepBlocked), what="accept to block")
    time.sleep(0.2)
    loopback.run("client-socket")
    loopback.run("client-connect")
    wait_for(lambda: loopback.events.finished("server-accept"), what="accept to return")
    accepted = loopback.events.finished("server-accept")[0]
    assert isinstance(accepted, StepReturned) and accepted.blocked
    assert accepted.waited >= 0.2
    assert accepted.woken_by == "client c.connect()"
    client_port = loopback.session.current(Target.CLIENT).snapshot().laddr[1]
    assert f"connection from ('127.0.0.1', {client_port})" in accepted.result
    assert tell(accepted).startswith("accept() returned after ")


def test_connect_completes_before_accept(loopback):
    """The kernel finishes the handshake on its own: connect() returns with no accept() yet."""
    loopback.server_listening()
    loopback.run("client-socket")
    done = loopback.run("client-connect")
    assert isinstance(done, StepReturned) and not done.blocked  # at once: no accept() was needed
    kernel = loopback.session.current(Target.LISTENER).snapshot().kernel
    assert kernel.state == "LISTEN" and kernel.accept_queue == 1


def test_blocking_order_lesson(loopback):
    """Server recv first: it blocks until the client sends; then the client's recv blocks until the server sends."""
    loopback.connected()
    loopback.start("server-recv")
    wait_for(lambda: loopback.events.of(StepBlocked), what="server recv to block")
    loopback.run("client-send", payload=b"ping")
    wait_for(lambda: loopback.events.finished("server-recv"), what="server recv to return")
    loopback.start("client-recv")
    wait_for(lambda: len(loopback.events.of(StepBlocked)) == 2, what="client recv to block")
    loopback.run("server-send", payload=b"pong")
    wait_for(lambda: loopback.events.finished("client-recv"), what="client recv to return")
    story = [
        (type(e).__name__, e.call.step.id)
        for e in loopback.events.events
        if isinstance(e, StepBlocked | StepReturned) and e.call.step.id in {"server-recv", "client-recv"}
    ]
    assert story == [
        ("StepBlocked", "server-recv"),
        ("StepReturned", "server-recv"),
        ("StepBlocked", "client-recv"),
        ("StepReturned", "client-recv"),
    ]
    assert loopback.events.finished("server-recv")[0].woken_by == "client c.sendall()"
    assert loopback.events.finished("client-recv")[0].data == b"pong"


def test_events_are_in_order_and_numbered(loopback):
    loopback.connected()
    seqs = [e.seq for e in loopback.events.events]
    assert seqs == sorted(seqs) == list(range(1, len(seqs) + 1))
    ats = [e.at for e in loopback.events.events]
    assert ats == sorted(ats)


def test_second_accept_on_the_same_listener(loopback):
    loopback.connected()
    loopback.run("server-close-conn")
    loopback.run("client-close")
    loopback.run("client-socket")
    loopback.run("client-connect")
    again = loopback.run("server-accept")
    assert again.call.code == "conn2, addr = s.accept()"
    assert loopback.session.current(Target.CONNECTION).name == "conn2"
    assert loopback.session.current(Target.CLIENT).name == "c2"


def test_connect_refused_after_the_listener_closes(loopback):
    loopback.server_listening()
    loopback.run("server-close")
    loopback.run("client-socket")
    failed = loopback.run("client-connect")
    assert isinstance(failed, StepFailed)
    assert failed.error.exception == "ConnectionRefusedError"
    assert (failed.error.errno, failed.error.errno_name) == (errno.ECONNREFUSED, "ECONNREFUSED")
    assert "Nothing is listening" in failed.error.reason


@pytest.mark.parametrize(
    ("steps", "failing", "exception", "name"),
    [
        (["client-socket", "client-recv"], "client-recv", "OSError", "ENOTCONN"),
        (["client-socket", "client-send"], "client-send", "BrokenPipeError", "EPIPE"),
        (["server-socket", "server-bind", "server-bind"], "server-bind", "OSError", "EINVAL"),
        (["server-socket", "server-accept"], "server-accept", "OSError", "EINVAL"),
        (["server-socket", "server-bind", "server-listen", "server-recv"], "server-recv", "OSError", "ENOTCONN"),
        (["client-socket", "client-shutdown"], "client-shutdown", "OSError", "ENOTCONN"),
        (["client-socket", "client-close", "client-connect"], "client-connect", "OSError", "EBADF"),
        (["server-socket", "server-close", "server-bind"], "server-bind", "OSError", "EBADF"),
    ],
)
def test_wrong_orders_give_the_real_error(loopback, steps, failing, exception, name):
    for step_id in steps[:-1]:
        loopback.run(step_id, payload=b"x")
    failed = loopback.run(steps[-1], payload=b"x")
    assert isinstance(failed, StepFailed) and failed.call.step.id == failing
    assert (failed.error.exception, failed.error.errno_name) == (exception, name)
    assert failed.error.message.startswith(f"[Errno {failed.error.errno}]")
    assert failed.error.reason


def test_recv_on_the_listener_explains_that_listeners_carry_no_data(loopback):
    loopback.server_listening()
    failed = loopback.run("server-recv")
    assert failed.call.code == "data = s.recv(1024)"
    assert "listening socket never carries data" in failed.error.reason


def test_connect_twice_is_eisconn(loopback):
    loopback.connected()
    failed = loopback.run("client-connect")
    assert failed.error.errno_name == "EISCONN"


def test_bind_a_port_in_use(loopback):
    loopback.server_listening()
    loopback.run("server-socket")
    failed = loopback.run("server-bind")
    assert failed.call.code.startswith("s2.bind(")
    assert (failed.error.errno_name, failed.error.errno) == ("EADDRINUSE", 98)


def test_listen_without_bind_gets_an_ephemeral_port_on_every_interface(loopback):
    """The one test that listens on the wildcard address: it is what this wrong order does."""
    loopback.run("server-socket")
    done = loopback.run("server-listen")
    port = loopback.session.current(Target.LISTENER).snapshot().laddr[1]
    assert port != 0
    assert "ephemeral" in done.result and str(port) in done.result
    assert "every interface: other machines can connect to it" in done.result
    assert loopback.session.listening_everywhere() == ["s"]
    loopback.run("server-close")
    assert loopback.session.listening_everywhere() == []


def test_a_loopback_listener_is_not_reachable_from_elsewhere(loopback):
    loopback.server_listening()
    assert "every interface" not in loopback.events.finished("server-listen")[0].result
    assert loopback.session.listening_everywhere() == []


def test_steps_with_no_socket_are_refused_not_run(loopback):
    assert loopback.session.perform(step("server-bind"), loopback.args()) is None
    refused = loopback.events.last(StepRefused)
    assert "no server socket yet" in refused.reason
    assert not loopback.events.of(StepCalled)


def test_echo_with_nothing_received_is_refused(loopback):
    loopback.connected()
    assert loopback.session.perform(step("server-send"), loopback.args(payload=None)) is None
    assert "nothing to echo" in loopback.events.last(StepRefused).reason


@pytest.mark.parametrize("blocked_step", ["server-accept", "server-recv", "client-recv"])
def test_closing_a_socket_wakes_its_blocked_call(loopback, blocked_step):
    if blocked_step == "server-accept":
        loopback.server_listening()
        close = "server-close"
    else:
        loopback.connected()
        close = "server-close-conn" if blocked_step.startswith("server") else "client-close"
    loopback.start(blocked_step)
    wait_for(lambda: loopback.events.of(StepBlocked), what=f"{blocked_step} to block")
    closed = loopback.run(close)
    assert "shut down first" in closed.result
    assert ".shutdown(socket.SHUT_RDWR); " in closed.call.code
    wait_for(lambda: loopback.events.finished(blocked_step), what=f"{blocked_step} to wake")
    woken = loopback.events.finished(blocked_step)[0]
    assert woken.cancelled and woken.blocked
    assert woken.woken_by.startswith("closing ")


def test_peer_close_ends_a_blocked_recv_with_empty_bytes(loopback):
    loopback.connected()
    loopback.start("client-recv")
    wait_for(lambda: loopback.events.of(StepBlocked), what="client recv to block")
    loopback.run("server-close-conn")
    wait_for(lambda: loopback.events.finished("client-recv"), what="client recv to return")
    got = loopback.events.finished("client-recv")[0]
    assert got.data == b"" and not got.cancelled
    assert "peer closed" in got.result and got.woken_by == "server conn.close()"


def test_shutdown_wr_is_a_half_close(loopback):
    loopback.connected()
    done = loopback.run("client-shutdown", how=socket.SHUT_WR)
    assert done.call.code == "c.shutdown(socket.SHUT_WR)"
    assert loopback.run("server-recv").data == b""
    loopback.run("server-send", payload=b"still open")
    assert loopback.run("client-recv").data == b"still open"


def test_session_close_unblocks_everything_and_frees_every_fd(loopback):
    before = len(open_fds())
    loopback.connected()
    for step_id in ("server-recv", "client-recv", "server-accept"):
        loopback.start(step_id)
    wait_for(lambda: len(loopback.events.of(StepBlocked)) == 3, what="three blocked calls")
    assert loopback.session.close()  # True: every call ended within its timeout of 1 s
    assert not loopback.background.join(1.0)
    assert len(open_fds()) <= before
    assert all(t.closed for t in loopback.session.sockets)


def test_session_close_closes_no_socket_while_a_call_is_still_on_it(loopback, monkeypatch):
    """close() used to close each fd right after its shutdown(). A call still entering the kernel then missed
    the wake-up (shutdown() does not reset a connect() not yet in SYN_SENT, which then waits for a SYN-ACK that
    a full queue never sends), and the closed socket could not be shut down again: close() waited its whole
    timeout ("a call was still running after close()" in test_random_step_orders under load). Now the fd of a
    socket with a call on it is closed only once the call has left it."""
    loopback.connected()
    for step_id in ("server-recv", "client-recv"):
        loopback.start(step_id)
    wait_for(lambda: len(loopback.events.of(StepBlocked)) == 2, what="two blocked calls")
    closed_under_a_call: list[str] = []
    real_close = socket.socket.close

    def close(sock: socket.socket) -> None:
        closed_under_a_call.extend(t.name for t in loopback.session.sockets if t.sock is sock and t.in_flight)
        real_close(sock)

    monkeypatch.setattr(socket.socket, "close", close)
    assert loopback.session.close()
    assert all(t.closed for t in loopback.session.sockets)
    assert not closed_under_a_call


def test_a_close_step_closes_its_socket_only_once_the_calls_it_woke_have_left(loopback, monkeypatch):
    """The same for close() as a step: it shuts the socket down to wake its calls, and closes the fd after."""
    loopback.connected()
    loopback.start("client-recv")
    wait_for(lambda: loopback.events.of(StepBlocked), what="client recv to block")
    busy_at_close: list[int] = []
    real_close = socket.socket.close

    def close(sock: socket.socket) -> None:
        busy_at_close.extend(len(t.in_flight) for t in loopback.session.sockets if t.sock is sock)
        real_close(sock)

    monkeypatch.setattr(socket.socket, "close", close)
    closed = loopback.run("client-close")
    assert "shut down first to wake recv()" in closed.result
    assert busy_at_close == [1]  # only the close() itself was on it: the recv() had returned
    assert loopback.events.finished("client-recv")[0].cancelled


def test_sixty_four_blocked_steps_stay_live(loopback):
    loopback.server_listening()
    for _ in range(64):
        loopback.start("server-accept")
    wait_for(lambda: len(loopback.events.of(StepBlocked)) == 64, what="64 blocked accepts")
    assert len(loopback.session.running()) == 64
    loopback.run("client-socket")
    loopback.run("client-connect")
    wait_for(lambda: len(loopback.events.finished("server-accept")) == 1, what="one accept to return")
    assert len(loopback.session.running()) == 63


def test_after_close_the_session_refuses_steps(loopback):
    loopback.session.close()
    assert loopback.session.perform(step("server-socket")) is None
    assert loopback.events.last(StepRefused).reason == "the session has ended"


def test_fds_are_reused_but_rows_are_not(loopback):
    loopback.run("client-socket")
    first = loopback.session.current(Target.CLIENT)
    fd = first.sock.fileno()
    loopback.run("client-close")
    loopback.run("client-socket")
    second = loopback.session.current(Target.CLIENT)
    assert second.sock.fileno() == fd
    assert second.id != first.id and second.name == "c2"
    assert first.snapshot().repr.startswith("<socket.socket [closed] fd=-1")


def test_ipv6_lesson_uses_four_tuples(loopback6):
    loopback6.connected()
    conn = loopback6.session.current(Target.CONNECTION).snapshot()
    assert conn.family == "AF_INET6"
    assert conn.laddr == ("::1", loopback6.endpoint.port, 0, 0)
    assert len(conn.raddr) == 4
    assert loopback6.events.of(StepCalled)[0].call.code == "s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)"


def test_ipv4_address_on_an_ipv6_socket_is_gaierror(loopback6):
    loopback6.run("server-socket")
    loopback6.endpoint = Endpoint(socket.AF_INET, "127.0.0.1", loopback6.endpoint.port)
    failed = loopback6.run("server-bind")
    assert failed.error.exception == "gaierror"
    assert failed.error.errno_name == "EAI_ADDRFAMILY"
    assert "family" in failed.error.reason


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root and setpriv")
def test_bind_below_1024_without_the_privilege_is_permission_denied():
    """Root may bind port 80, so the lesson's error is checked with that one capability dropped."""
    script = textwrap.dedent(
        """
        import socket
        from sockviz.core import Endpoint, Session, StepArgs, StepFailed, step
        session = Session()
        failed = []
        session.subscribe(lambda e: failed.append(e) if isinstance(e, StepFailed) else None)
        session.perform(step("server-socket"))
        session.perform(step("server-bind"), StepArgs(endpoint=Endpoint(socket.AF_INET, "127.0.0.1", 80)))
        session.close()
        print(failed[0].error.exception, failed[0].error.errno_name, failed[0].error.reason)
        """
    )
    drop = ["setpriv", "--bounding-set", "-net_bind_service", "--inh-caps", "-net_bind_service"]
    out = subprocess.run([*drop, sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=True)
    assert out.stdout.startswith("PermissionError EACCES Ports below 1024")


def test_a_listener_that_raises_is_dropped_and_the_others_hear_why(caplog):
    session = Session()
    heard = []
    calls = []

    def broken(event):
        calls.append(event)
        raise ValueError("a bug in a front end")

    session.subscribe(broken)
    session.subscribe(heard.append)
    try:
        session.perform(step("server-socket"))
        session.perform(step("client-socket"))
    finally:
        session.close()
    assert len(calls) == 1, "the failing listener is told nothing more"
    failures = [e for e in heard if isinstance(e, ListenerFailed)]
    assert len(failures) == 1 and failures[0].listener.endswith("broken")
    assert "a bug in a front end" in failures[0].error
    assert "raised ValueError('a bug in a front end') and hears the session no more" in tell(failures[0])
    assert [e for e in heard if isinstance(e, StepReturned)], "the lesson goes on"
    assert any(record.exc_info and record.exc_info[0] is ValueError for record in caplog.records)
