"""Would this call block? Asked of the kernel before the user clicks.

A prediction reads what the kernel holds right now (the accept queue, bytes
waiting, room in the send buffer) and a zero-timeout poll(). The session
compares it with what the call then did, so a wrong hint never goes unnoticed.
"""

from __future__ import annotations

import select
import socket
from collections.abc import Callable, Iterable

from sockviz.core.kernel.readiness import Readiness, ready_in
from sockviz.core.kernel.tcp_info import read_kernel
from sockviz.core.kernel.udp_info import next_datagram
from sockviz.core.model.addresses import is_wildcard
from sockviz.core.model.prediction import Prediction
from sockviz.core.model.steps import Action

_PEER_SENT_FIN = ("CLOSE_WAIT", "LAST_ACK", "CLOSING", "TIME_WAIT")
"""TCP states in which the peer's FIN has come: b'' from recv() means the peer closed."""
_SENT_FIN = ("FIN_WAIT1", "FIN_WAIT2", "CLOSING", "LAST_ACK", "TIME_WAIT")
"""TCP states in which this side has sent its FIN (shutdown SHUT_WR): it can send nothing more."""


def _mode(sock: socket.socket) -> Prediction | None:
    timeout = sock.gettimeout()
    if timeout == 0.0:
        return Prediction(False, "raises", "the socket is non-blocking: instead of waiting it raises BlockingIOError")
    return None


def _waits(short: str, why: str, sock: socket.socket) -> Prediction:
    timeout = sock.gettimeout()
    if timeout:
        why = f"{why} (for at most {timeout:g} s, then TimeoutError)"
    return Prediction(True, short, why)


def _ready(sock: socket.socket, events: int) -> bool:
    """A zero-timeout poll(): select() would refuse fds above 1023, and a burst goes past that.

    The fd is read once: a step's thread may close the socket at any moment, and then
    `fileno()` is -1. An fd closed after that read answers POLLNVAL, which is not readiness.
    """
    fd = sock.fileno()
    if fd < 0:
        raise _ClosedMeanwhile
    poller = select.poll()
    poller.register(fd, events)
    return any(revents & events for _, revents in poller.poll(0))


class _ClosedMeanwhile(Exception):
    """The socket closed (in another thread) while it was being read."""


def _readable(sock: socket.socket) -> bool:
    return _ready(sock, select.POLLIN)


def _writable(sock: socket.socket) -> bool:
    return _ready(sock, select.POLLOUT)


def predict(
    action: Action,
    sock: socket.socket,
    *,
    payload_size: int | None = None,
    listeners: Iterable[socket.socket] = (),
    address: tuple | None = None,
) -> Prediction | None:
    """Predict a call on `sock`; None when the call never waits or the kernel cannot tell.

    Safe from any thread while other threads close sockets: a socket that closes while it is
    read is predicted as closed, never an exception.
    """
    try:
        return _predict(action, sock, payload_size, listeners, address)
    except (OSError, ValueError, _ClosedMeanwhile):
        if sock.fileno() < 0:
            return _CLOSED
        return None  # a listener closed meanwhile, say: the next refresh asks again


_CLOSED = Prediction(False, "fails", "the socket is closed: the call fails at once (EBADF)")


def _predict(
    action: Action,
    sock: socket.socket,
    payload_size: int | None,
    listeners: Iterable[socket.socket],
    address: tuple | None,
) -> Prediction | None:
    if action not in (Action.ACCEPT, Action.RECV, Action.SEND, Action.CONNECT, Action.RECV_ALL):
        return None
    if sock.fileno() < 0:
        return _CLOSED
    if sock.type == socket.SOCK_DGRAM:
        return _predict_datagram(action, sock)
    reading = read_kernel(sock)
    state = reading.state if reading else "CLOSE"
    if action is Action.ACCEPT:
        if state != "LISTEN":
            return Prediction(False, "fails", "the socket is not listening: accept() fails at once")
        queued = reading.accept_queue if reading else 0
        if queued:
            waiting = "1 connection waits" if queued == 1 else f"{queued} connections wait"
            return Prediction(False, f"{queued} ready", f"{waiting} in the queue: returns at once")
        return _mode(sock) or _waits("waits", "no connection is waiting: accept() will block", sock)
    if action is Action.CONNECT:
        return _predict_connect(sock, state, listeners, address)
    if state in ("CLOSE", "LISTEN", "SYN_SENT"):
        return Prediction(False, "fails", "the socket is not connected: the call fails at once")
    if action in (Action.RECV, Action.RECV_ALL):
        waiting = reading.recv_queue if reading else 0
        if waiting:
            return Prediction(False, f"{_size(waiting)} in", f"{waiting} bytes are waiting: recv() returns at once")
        if _readable(sock) and state in _PEER_SENT_FIN:
            return Prediction(False, "EOF", "the peer has closed its side: recv() returns b'' at once")
        if _readable(sock):  # no FIN came, yet recv() would not wait: this side shut down reading
            return Prediction(False, "EOF", "this socket was shut down for reading: recv() returns b'' at once")
        return _mode(sock) or _waits("waits", "0 bytes are waiting: recv() will block", sock)
    # SEND
    if state in _SENT_FIN:  # poll() calls such a socket writable, yet sendall() raises at once
        return Prediction(False, "fails", "this side has shut down writing: sendall() raises BrokenPipeError at once")
    if not _writable(sock):
        return _mode(sock) or _waits("full", "the send buffer is full: sendall() will block", sock)
    room = sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) - (reading.send_queue or 0 if reading else 0)
    if payload_size is not None and payload_size > room:
        return _mode(sock) or _waits(
            "may wait",
            f"{payload_size} bytes is more than the {max(room, 0)} free in the send buffer: sendall() waits "
            "whenever the peer is not reading",
            sock,
        )
    return Prediction(False, "room", "the send buffer has room: sendall() returns at once")


def _predict_connect(sock: socket.socket, state: str, listeners: Iterable[socket.socket], address) -> Prediction:
    if state != "CLOSE":
        return Prediction(False, "fails", "the socket is already connected or listening: connect() fails at once")
    if address is None:
        return Prediction(False, "?", "no address to connect to")
    for listener in listeners:
        reading = read_kernel(listener)
        if reading is None or reading.state != "LISTEN":
            continue
        host, port = listener.getsockname()[:2]
        if port != address[1] or (host != address[0] and not is_wildcard(host)):
            continue
        if (reading.accept_queue or 0) > (reading.backlog or 0):
            return _mode(sock) or _waits("full", "the listener's queue is full: connect() will wait (SYN_SENT)", sock)
        return Prediction(False, "ready", "a listener has room in its queue: connect() returns at once")
    return Prediction(False, "refused?", "no socket of this session listens there: refused at once, unless "
                      "another program does")  # fmt: skip


def _predict_datagram(action: Action, sock: socket.socket) -> Prediction | None:
    """On UDP: listen() and accept() fail, connect() never waits, recvfrom() waits for a datagram."""
    if action is Action.ACCEPT:
        return Prediction(False, "fails", "a UDP socket has no connections: accept() fails at once (EOPNOTSUPP)")
    if action is Action.CONNECT:
        return Prediction(False, "at once", "UDP has no handshake: connect() only records the peer, and returns")
    if action in (Action.RECV, Action.RECV_ALL):
        size = next_datagram(sock.fileno())
        if size is not None:
            # "ready", not the size: `r  9 recvfrom() 42B next` is wider than a pane at 80 columns, and how much
            # of it a call gets depends on its size field (the rest of a longer datagram is cut).
            return Prediction(False, "ready", f"a {size}-byte datagram is queued next: it returns at once")
        if action is Action.RECV_ALL:
            return Prediction(False, "none", "no datagram is queued: recv all returns at once, with none")
        if sock.getsockname()[1] == 0:
            return _mode(sock) or _waits(
                "waits", "the socket has no port yet, so no datagram can reach it: recvfrom() will block", sock
            )
        return _mode(sock) or _waits("waits", "no datagram is queued: recvfrom() will block", sock)
    if action is Action.SEND:
        if _writable(sock):
            return Prediction(False, "room", "the send buffer has room: the datagram leaves at once")
        return _mode(sock) or _waits("full", "the send buffer is full: sendto() will block", sock)
    return None


def _size(count: int) -> str:
    for unit, scale in (("M", 1024**2), ("k", 1024)):
        if count >= scale:
            return f"{count // scale}{unit}"
    return f"{count}B"


def predict_select(
    watched: Readiness, name_of: Callable[[int], str], *, timeout: float | None, write: bool = False
) -> Prediction | None:
    """Which sockets select() would return now, and why; it waits when none is ready (up to its timeout).
    `watched` is the select()'s own socket and then the connections, each named by `name_of` its index. With
    `write`, the connections (all but the first) are watched for room to send as well."""
    try:
        readable = ready_in(watched, name_of)
        writable = [name_of(i) for i in watched.ready(select.POLLOUT, start=1)] if write else []
    except (OSError, ValueError):
        return None  # a socket closed meanwhile: the next refresh asks again
    if readable or writable:
        ready = [str(r) for r in readable] + [f"{name} (room to send)" for name in writable]
        count = len({r.name for r in readable} | set(writable))  # a socket in both lists is one ready socket
        return Prediction(False, f"{count} ready", "select() returns at once: " + ", ".join(ready))
    if timeout == 0:
        return Prediction(False, "none", "no socket is ready: with a timeout of 0 select() returns three empty lists")
    limit = "" if timeout is None else f" (for at most {timeout:g} s, then it returns empty lists)"
    return Prediction(True, "waits", f"no socket is ready: select() waits until one is{limit}")
