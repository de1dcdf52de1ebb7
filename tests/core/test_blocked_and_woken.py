"""What counts as blocked, and what woke a blocked call, on real loopback sockets.

A call is told as blocked only when the kernel says it waits; a call that is only slow (its
thread held up on a busy machine) is not. Such slowness is made here by holding a step's
thread before or after its real call, until the session's watcher has looked at it.
"""

from __future__ import annotations

import socket
import threading

import pytest
from helpers import wait_for

from sockviz.core import Action, StepBlocked, StepCalled, StepFailed, StepReturned, Target
from sockviz.core.engine import calls, in_progress
from sockviz.core.engine import session as session_module
from sockviz.core.kernel.waiting import is_waiting
from sockviz.core.model.options import option_setting
from sockviz.core.story.sentences import tell


class Looks:
    """Every answer the kernel gave the session's watcher, by action: the real readings, recorded."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.answers: list[tuple[Action, bool | None]] = []
        self._seen = threading.Condition()

        def recorded(action, sock, **kwargs):
            answer = is_waiting(action, sock, **kwargs)
            with self._seen:
                self.answers.append((action, answer))
                self._seen.notify_all()
            return answer

        monkeypatch.setattr(in_progress, "is_waiting", recorded)  # where the watcher asks

    def wait_for_look(self, action: Action, count: int = 1) -> None:
        with self._seen:
            seen = self._seen.wait_for(lambda: sum(a is action for a, _ in self.answers) >= count, timeout=10)
        assert seen, f"the watcher never looked at {action}"


def slowed(monkeypatch: pytest.MonkeyPatch, action: Action, looks: Looks, *, before: bool) -> None:
    """Make a step's thread late, as a busy machine does: it waits for the watcher's look before
    (or after) making its real call."""
    real = calls.CALLS[action]

    def late(ctx):
        if before:
            looks.wait_for_look(action)
        outcome = real(ctx)
        if not before:
            looks.wait_for_look(action)
        return outcome

    monkeypatch.setitem(calls.CALLS, action, late)


def listening_with(loopback, backlog: int | None = None) -> None:
    loopback.run("server-socket")
    loopback.run("server-bind")
    loopback.run("server-listen", backlog=backlog)


# ----- what counts as blocked ------------------------------------------------


@pytest.mark.parametrize("before", [True, False], ids=["not begun yet", "returning"])
def test_a_slow_connect_to_a_listener_with_room_is_not_a_wait(loopback, monkeypatch, before):
    """The flaky timeline test's case: an instant loopback connect() past the grace on a busy machine."""
    looks = Looks(monkeypatch)
    slowed(monkeypatch, Action.CONNECT, looks, before=before)
    loopback.server_listening()
    loopback.run("client-socket")
    done = loopback.run("client-connect")
    assert isinstance(done, StepReturned) and not done.blocked
    assert (Action.CONNECT, False) in looks.answers
    assert not loopback.events.of(StepBlocked)
    assert "woken" not in tell(done) and "after" not in tell(done)


def test_a_slow_accept_with_a_connection_queued_is_not_a_wait(loopback, monkeypatch):
    looks = Looks(monkeypatch)
    slowed(monkeypatch, Action.ACCEPT, looks, before=True)
    loopback.server_listening()
    loopback.run("client-socket")
    loopback.run("client-connect")
    done = loopback.run("server-accept")
    assert isinstance(done, StepReturned) and not done.blocked and not loopback.events.of(StepBlocked)
    assert looks.answers[0] == (Action.ACCEPT, False)


def test_a_slow_recv_with_bytes_waiting_is_not_a_wait(loopback, monkeypatch):
    looks = Looks(monkeypatch)
    loopback.connected()
    loopback.run("client-send", payload=b"here already")
    conn = loopback.session.current(Target.CONNECTION)
    wait_for(lambda: conn.snapshot().kernel.recv_queue, what="the bytes to arrive")
    slowed(monkeypatch, Action.RECV, looks, before=True)
    done = loopback.run("server-recv")
    assert done.data == b"here already" and not done.blocked
    assert looks.answers[0] == (Action.RECV, False)


def test_a_connect_into_a_full_queue_is_a_wait_and_accept_ends_it(loopback):
    listening_with(loopback, backlog=0)
    loopback.run("client-socket")
    loopback.run("client-connect")  # listen(0) still lets one complete
    loopback.run("client-socket")
    loopback.start("client-connect")
    loopback.blocked("client-connect")
    assert loopback.session.current(Target.CLIENT).snapshot().kernel.state == "SYN_SENT"
    loopback.run("server-accept")
    loopback.finished("client-connect", count=2)
    waited = loopback.events.finished("client-connect")[1]
    assert isinstance(waited, StepReturned) and waited.blocked
    assert waited.woken_by == "server s.accept()" and "(woken by server s.accept())" in tell(waited)


def test_a_connect_whose_syn_was_dropped_waits_even_once_the_queue_has_room(loopback, monkeypatch):
    """The watcher's first look comes only after accept() made room: the client still waits for its SYN's retry."""
    accepted = threading.Event()
    real = session_module.Session._look_at

    def late_look(self, running):
        if running.call.step.action is Action.CONNECT:
            assert accepted.wait(10)
        real(self, running)

    monkeypatch.setattr(session_module.Session, "_look_at", late_look)
    listening_with(loopback, backlog=0)
    loopback.run("client-socket")
    loopback.run("client-connect")  # listen(0) lets one complete: the queue is full now
    loopback.run("client-socket")
    loopback.start("client-connect")  # its SYN is dropped
    client = loopback.session.current(Target.CLIENT)
    wait_for(lambda: client.snapshot().kernel.state == "SYN_SENT", what="the SYN to be sent")
    loopback.run("server-accept")  # room again, but the client waits for its SYN's retry (about 1 s)
    accepted.set()  # only now does the watcher look
    loopback.finished("client-connect", count=2)
    waited = loopback.events.finished("client-connect")[1]
    assert isinstance(waited, StepReturned) and waited.blocked
    assert "(woken by server s.accept())" in tell(waited)


def test_the_kernel_readings_behind_blocked():
    """is_waiting against the kernel itself: each call's reason to wait, present and absent."""
    with socket.socket() as listener, socket.socket() as client:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        address = listener.getsockname()
        assert is_waiting(Action.ACCEPT, listener) is True  # the accept queue is empty
        assert is_waiting(Action.RECV, listener) is False  # recv() on a listener fails at once
        assert is_waiting(Action.CONNECT, client, listener=listener) is False  # not begun: CLOSE
        client.connect(address)
        assert is_waiting(Action.ACCEPT, listener) is False  # one is queued
        assert is_waiting(Action.CONNECT, client, listener=listener) is False  # ESTABLISHED
        conn, _ = listener.accept()
        with conn:
            assert is_waiting(Action.RECV, conn) is True  # nothing to read
            client.sendall(b"x")
            wait_for(lambda: is_waiting(Action.RECV, conn) is False, what="the byte to be readable")
            assert is_waiting(Action.RECV_ALL, conn) is False
            assert is_waiting(Action.SEND, client) is False  # the send buffer has room
            client.setblocking(False)
            with pytest.raises(BlockingIOError):
                while True:
                    client.send(b"\0" * 65536)
            assert is_waiting(Action.SEND, client) is False  # non-blocking: it raises, never waits
            client.setblocking(True)
            assert is_waiting(Action.SEND, client) is True  # the send buffer is full
            client.shutdown(socket.SHUT_RDWR)
            assert is_waiting(Action.SEND, client) is False  # broken: it fails at once
            conn.recv(1)
            assert is_waiting(Action.RECV, conn) is False  # the rest of the bytes wait to be read
    assert is_waiting(Action.RECV, conn) is None  # closed: nothing to ask


def test_the_kernel_reading_of_a_connect_that_waits():
    with socket.socket() as listener, socket.socket() as first, socket.socket() as second:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        first.connect(listener.getsockname())  # fills the queue
        second.setblocking(False)
        with pytest.raises(BlockingIOError):
            second.connect(listener.getsockname())
        second.setblocking(True)  # as if it were blocking in connect() now
        assert is_waiting(Action.CONNECT, second, listener=listener) is True


# ----- what woke it ----------------------------------------------------------


def test_a_timeout_raises_timeout_error_after_the_wait_and_is_no_wake_up(loopback):
    loopback.connected()
    loopback.run("client-option", option=option_setting("settimeout", "0.2"))
    failed = loopback.run("client-recv")
    assert isinstance(failed, StepFailed) and failed.error.exception == "TimeoutError" and failed.blocked
    assert failed.timed_out and failed.waited > 0.15  # the 0.2 s ran out (how much later depends on the machine)
    assert "timeout ran out" in failed.error.reason
    assert failed.woken_by is None and failed.woken_by_call is None
    assert tell(failed).endswith("(nothing woke it: the socket's timeout ran out)")
    assert "woken" not in tell(failed)


def test_a_sendall_drained_by_a_recv_all_that_was_already_running(loopback, monkeypatch):
    """recv all began before sendall, so its call is older than the wait; it is still what ended it."""
    loopback.connected()
    loopback.run("client-option", option=option_setting("SO_SNDBUF", "16384"))
    loopback.run("server-option", option=option_setting("SO_RCVBUF", "16384"))
    go = threading.Event()
    real = calls.CALLS[Action.RECV_ALL]

    def held(ctx):  # running from the session's point of view, and reading only once the sendall waits
        assert go.wait(10)
        return real(ctx)

    monkeypatch.setitem(calls.CALLS, Action.RECV_ALL, held)
    size = 2_000_000
    loopback.start("server-recv-all", expect=size)
    wait_for(lambda: any(e.call.step.id == "server-recv-all" for e in loopback.events.of(StepCalled)), what="recv all")
    loopback.start("client-send", bulk=size)
    loopback.blocked("client-send")
    go.set()
    loopback.finished("client-send")
    sent = loopback.events.finished("client-send")[0]
    recv_all = next(e.call for e in loopback.events.of(StepCalled) if e.call.step.id == "server-recv-all")
    assert isinstance(sent, StepReturned) and sent.blocked
    assert sent.woken_by == "server conn.recv()" and sent.woken_by_call == recv_all.id
    loopback.finished("server-recv-all")


def test_a_peer_outside_the_session_is_said_to_be_outside(loopback):
    loopback.server_listening()
    loopback.start("server-accept")
    loopback.blocked("server-accept")
    with socket.create_connection(("127.0.0.1", loopback.endpoint.port)) as outsider:
        loopback.finished("server-accept")
        accepted = loopback.events.finished("server-accept")[0]
        assert accepted.blocked and accepted.woken_by == "a client outside this session"
        loopback.start("server-recv")
        loopback.blocked("server-recv")
        outsider.sendall(b"from outside")
        loopback.finished("server-recv")
    got = loopback.events.finished("server-recv")[0]
    assert got.data == b"from outside" and got.woken_by_call is None
    assert "(woken by the peer, a program outside this session)" in tell(got)


def test_a_wake_sockviz_did_not_see_is_not_guessed(loopback):
    """The peer is the session's own client, but what it did was not one of the session's calls."""
    loopback.connected()
    loopback.run("client-send", payload=b"seen")  # a call of the session, before the wait: not the waker
    loopback.run("server-recv")
    loopback.start("server-recv")
    loopback.blocked("server-recv")
    loopback.session.current(Target.CLIENT).sock.sendall(b"unseen")  # behind the session's back
    loopback.finished("server-recv", count=2)
    got = loopback.events.finished("server-recv")[1]
    assert got.blocked and got.woken_by is None and got.woken_by_call is None
    assert tell(got).endswith("(sockviz cannot tell what woke it)")
    assert "outside" not in tell(got)


def test_a_shutdown_of_the_own_socket_is_the_waker(loopback):
    loopback.connected()
    loopback.start("client-recv")
    loopback.blocked("client-recv")
    loopback.run("client-shutdown", how=socket.SHUT_RD)
    loopback.finished("client-recv")
    got = loopback.events.finished("client-recv")[0]
    assert got.blocked and got.woken_by == "client c.shutdown()"
