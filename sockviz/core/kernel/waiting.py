"""Is a running call waiting in the kernel right now, or merely slow?

A call that has not returned after the session's grace period may be waiting
(nothing to accept, nothing to read, no room to write) or only late: on a busy
machine an instant connect() to a listener with room can take longer than the
grace before its thread runs again. Only the kernel can tell them apart, so
the session asks it here, with the same readings the hints use (the accept
queue, a zero-timeout poll, the TCP state), before it says that a call blocks.
"""

from __future__ import annotations

import select
import socket
import struct

from sockviz.core.kernel.tcp_info import read_kernel
from sockviz.core.model.steps import Action

_TOTAL_RETRANS_OFFSET = 100
"""tcpi_total_retrans in struct tcp_info: for a connecting socket, how many times its SYN went again."""
_TCP_INFO_SIZE = 104


def _ready(sock: socket.socket, events: int) -> bool | None:
    """A zero-timeout poll(): any event (including an error or a hang-up) means the call will not wait.

    None when the socket has closed under our feet: then there is nothing to ask.
    """
    poller = select.poll()
    try:
        poller.register(sock, events)
        return bool(poller.poll(0))
    except (OSError, ValueError):  # ValueError: the fd is -1, closed by another thread meanwhile
        return None


def _syn_retried(sock: socket.socket) -> bool:
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO_SIZE)
    except OSError:
        return False
    return struct.unpack_from("I", info, _TOTAL_RETRANS_OFFSET)[0] > 0


def connecting(sock: socket.socket) -> bool:
    """Whether the socket is in SYN_SENT: its SYN sent and no answer yet."""
    try:
        reading = read_kernel(sock)
    except OSError:
        return False
    return reading is not None and reading.state == "SYN_SENT"


def queue_full(listener: socket.socket) -> bool:
    """Whether a listener's accept queue is full, so that new clients' SYNs are dropped and they wait."""
    reading = read_kernel(listener)
    if reading is None or reading.state != "LISTEN":
        return False
    return (reading.accept_queue or 0) > (reading.backlog or 0)


def is_waiting(
    action: Action, sock: socket.socket, *, listener: socket.socket | None = None, remote: bool = False
) -> bool | None:
    """Whether a call of `action`, running now on `sock`, is waiting for something to happen.

    False means the call can finish without anything else happening (it is only slow, or about to
    fail); None that the kernel cannot be asked (the socket closed meanwhile). For connect(),
    `listener` is this session's socket listening at the address (None if none is), and `remote`
    says the address is not on this machine.
    """
    try:
        if sock.fileno() < 0:
            return None
        if sock.gettimeout() == 0.0:
            return False  # non-blocking: the call raises BlockingIOError instead of waiting
        reading = read_kernel(sock)
    except OSError:
        return None
    state = reading.state if reading is not None else None
    if action is Action.ACCEPT:
        return state == "LISTEN" and reading is not None and not reading.accept_queue
    if action is Action.CONNECT:
        if state != "SYN_SENT":
            return False  # not begun yet (CLOSE), or the handshake is done and the call is returning
        if listener is not None:
            return queue_full(listener) or _syn_retried(sock)
        # Nobody here answers: on this machine a SYN is answered (or refused) at once unless it is
        # dropped, which a retried SYN shows; across a network the wait for the answer is real.
        return remote or _syn_retried(sock)
    if action in (Action.RECV, Action.RECV_ALL):
        if state == "LISTEN":
            return False  # recv() on a listener fails at once
        ready = _ready(sock, select.POLLIN)
        return None if ready is None else not ready
    if action is Action.SEND:
        ready = _ready(sock, select.POLLOUT)
        return None if ready is None else not ready
    return None
