"""Sockets that close under the reader's feet, and a session that leaves nothing behind when it closes."""

from __future__ import annotations

import socket
import threading

import pytest
from helpers import open_fds, wait_for

from sockviz.core import Action, Endpoint, Session, StepArgs, step
from sockviz.core.kernel import predict as predict_module
from sockviz.core.kernel.lingering import KernelTable
from sockviz.core.kernel.snapshot import take_snapshot
from sockviz.core.model.events import BurstStarted
from sockviz.core.model.prediction import Prediction
from sockviz.core.scenario import player as player_module
from sockviz.core.scenario.language import parse
from sockviz.core.scenario.player import Player


def connected_pair(listener: socket.socket) -> tuple[socket.socket, socket.socket]:
    client = socket.create_connection(listener.getsockname())
    conn, _ = listener.accept()
    return client, conn


class ClosingUnderFoot(socket.socket):
    """A socket that another thread closes just as the `n`th kernel reading of it begins."""

    def __init__(self, *args: object, n: int) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.readings_left = n

    def _reading(self) -> None:
        self.readings_left -= 1
        if self.readings_left == 0:
            self.close()

    def getsockopt(self, *args):  # type: ignore[override]
        self._reading()
        return super().getsockopt(*args)

    def fileno(self) -> int:
        self._reading()
        return super().fileno()

    def getsockname(self):  # type: ignore[override]
        self._reading()
        return super().getsockname()


ACTIONS = [Action.RECV, Action.RECV_ALL, Action.SEND, Action.ACCEPT, Action.CONNECT]


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("n", range(1, 9))
def test_a_prediction_never_raises_when_the_socket_closes_in_the_middle(action, n):
    """The 4 Hz hint refresh once died with `ValueError: file descriptor cannot be a negative integer (-1)`
    when a step's thread closed the socket between two readings of it. Here the socket closes at each
    reading in turn: the prediction is "closed" (or none), never an exception."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        address = listener.getsockname()
        if action is Action.CONNECT:
            sock = ClosingUnderFoot(n=n)
            other = sock
        elif action is Action.ACCEPT:
            sock = ClosingUnderFoot(n=n)
            sock.bind(("127.0.0.1", 0))
            sock.listen()
            other = sock
        else:
            sock = ClosingUnderFoot(n=n)
            sock.connect(address)
            other, _ = listener.accept()
        sock.readings_left = n  # count from here: connect() and bind() above read the fd too
        prediction = predict_module.predict(action, sock, payload_size=10, listeners=[listener], address=address)
        assert prediction is None or isinstance(prediction, Prediction)  # true of the moment it read, at worst
        sock.close()
        assert predict_module.predict(action, sock, address=address) == predict_module._CLOSED
        sock.close()
        other.close()


def test_a_prediction_of_connect_survives_a_listener_closing_in_the_middle():
    listener = ClosingUnderFoot(n=0)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    address = listener.getsockname()
    with socket.socket() as client:
        for n in range(1, 6):
            listener.readings_left = n
            predict_module.predict(Action.CONNECT, client, listeners=[listener], address=address)
    listener.close()


def test_a_socket_closed_between_its_fd_read_and_the_poll_is_not_ready(monkeypatch):
    """poll() on an fd closed meanwhile answers POLLNVAL: that is not "the peer has closed"."""
    reader, writer = socket.socketpair()
    fd = reader.fileno()
    reader.close()

    class Stale:
        def fileno(self) -> int:
            return fd

    assert not predict_module._ready(Stale(), predict_module.select.POLLIN)  # type: ignore[arg-type]
    writer.close()


def test_snapshots_and_the_listening_check_never_raise_while_sockets_close():
    session = Session()
    port = Endpoint(socket.AF_INET, "127.0.0.1", 0)
    args = StepArgs(endpoint=port)
    stop = threading.Event()
    problems: list[BaseException] = []

    def read_all_the_time() -> None:
        while not stop.is_set():
            try:
                for tracked in session.sockets:
                    take_snapshot(tracked.sock)
                session.listening_everywhere()
                session.predict(step("server-accept"))
                session.predict(step("client-connect"), args)
            except BaseException as error:  # noqa: BLE001 - the test reports whatever escapes
                problems.append(error)
                return

    reader = threading.Thread(target=read_all_the_time)
    reader.start()
    try:
        for _ in range(60):
            session.perform(step("server-socket"), args)
            session.perform(step("server-listen"))
            session.perform(step("client-socket"), args)
            session.perform(step("server-close"))
            session.perform(step("client-close"))
    finally:
        stop.set()
        reader.join()
        session.close()
    assert not problems, problems


def test_kernel_lookups_from_many_threads_leave_no_fd():
    """Each lookup opens and closes its own netlink socket, in its own thread."""
    table = KernelTable()
    ends = ((("127.0.0.1", 1), ("127.0.0.1", 2)),)
    table.lookup(ends)
    before = open_fds()
    threads = [threading.Thread(target=table.lookup, args=(ends,)) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    table.close()
    assert open_fds() == before


def test_lookups_find_a_time_wait_in_either_family():
    table = KernelTable()
    found = {}
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        with socket.socket(family) as listener:
            listener.bind((host, 0))
            listener.listen()
            client = socket.create_connection(listener.getsockname()[:2])
            conn, _ = listener.accept()
            ends = (client.getsockname()[:2], client.getpeername()[:2])
            client.close()  # the side that closes first holds TIME_WAIT
            wait_for(lambda conn=conn: conn.recv(1) == b"", what="the FIN")
            conn.close()
            wait_for(lambda ends=ends: table.lookup([ends]), what="the kernel to list the connection")
            found[family] = table.lookup([ends])[ends]
    assert {lingering.state for lingering in found.values()} <= {"TIME_WAIT", "FIN_WAIT2"}
    assert all(lingering.expires is None or 0 < lingering.expires <= 60 for lingering in found.values())


def test_closing_during_a_large_burst_leaves_no_socket_and_no_thread():
    """close() used to return True with up to 997 of a burst's 1,000 clients still open: the ones the
    burst adopted after close() had taken its list."""
    baseline_fds, baseline_threads = open_fds(), {t.ident for t in threading.enumerate()}
    session = Session()
    endpoint = Endpoint(socket.AF_INET, "127.0.0.1", 0)
    args = StepArgs(endpoint=endpoint)
    session.perform(step("server-socket"), args)
    session.perform(step("server-listen"), StepArgs(backlog=4))
    listener = session.sockets[0].sock
    endpoint = Endpoint(socket.AF_INET, "127.0.0.1", listener.getsockname()[1])
    burst_started = threading.Event()
    session.subscribe(lambda event: isinstance(event, BurstStarted) and burst_started.set())
    made = threading.Event()

    def hear(event) -> None:
        if len(session._sockets) > 50:  # the burst is making its clients: close now, in the middle
            made.set()

    session.subscribe(hear)
    burst = threading.Thread(target=session.perform, args=(step("client-burst"), StepArgs(endpoint=endpoint,
                                                                                         count=1000)))  # fmt: skip
    burst.start()
    wait_for(lambda: len(session.sockets) > 50, what="the burst to make its first clients")
    assert session.close()
    burst.join(5)
    assert not burst.is_alive()
    assert all(tracked.closed for tracked in session.sockets)
    wait_for(lambda: open_fds() <= baseline_fds, what="every fd to close")
    wait_for(lambda: {t.ident for t in threading.enumerate()} <= baseline_threads, what="every thread to end")


def test_close_with_64_blocked_calls_leaves_nothing():
    baseline_fds, baseline_threads = open_fds(), {t.ident for t in threading.enumerate()}
    session = Session()
    args = StepArgs(endpoint=Endpoint(socket.AF_INET, "127.0.0.1", 0))
    session.perform(step("server-socket"), args)
    session.perform(step("server-listen"), StepArgs(backlog=100))
    port = session.sockets[0].sock.getsockname()[1]
    endpoint = Endpoint(socket.AF_INET, "127.0.0.1", port)
    session.perform(step("client-burst"), StepArgs(endpoint=endpoint, count=64))
    wait_for(lambda: not session.running(), what="the burst's connects")
    for _ in range(64):
        session.perform(step("server-accept"))
    conns = [t for t in session.sockets if t.role.value == "connection"]
    threads = [threading.Thread(target=session.perform, args=(step("server-recv"),), kwargs={"target": conn})
               for conn in conns]  # fmt: skip
    for thread in threads:
        thread.start()
    wait_for(lambda: len(session.running()) == 64, what="64 blocked recv() calls")
    assert session.close()
    for thread in threads:
        thread.join(5)
    assert not any(thread.is_alive() for thread in threads)
    wait_for(lambda: open_fds() <= baseline_fds, what="every fd to close")
    wait_for(lambda: {t.ident for t in threading.enumerate()} <= baseline_threads, what="every thread to end")


@pytest.mark.parametrize(
    ("scenario", "settles"),
    [
        ("server socket\n", False),  # a line whose call never settles
        ("server socket\nexpect failed server socket\n", True),  # an expect that never holds
    ],
)
def test_stop_ends_a_play_that_waits_at_once(monkeypatch, scenario, settles):
    """A player once waited out its 10 s settle and 3 s expect timeouts after stop(); with the
    timeouts made an hour long, a stop that does not wake them would hang this test."""
    monkeypatch.setattr(player_module, "_SETTLE_SECONDS", 3600.0)
    monkeypatch.setattr(player_module, "_EXPECT_SECONDS", 3600.0)
    if not settles:
        monkeypatch.setattr(Session, "perform", lambda *args, **kwargs: None)
    session = Session()
    player = Player(session, Endpoint(socket.AF_INET, "127.0.0.1", 0), lambda line, text: None)
    verdicts = []
    playing = threading.Thread(target=lambda: verdicts.append(player.play(parse(scenario))))
    playing.start()
    wait_for(lambda: player._threads, what="the first line to start")
    player.stop()
    playing.join(30)
    assert not playing.is_alive()
    assert verdicts[0].passed, "a stopped play reports no failed expect"
    session.close()
