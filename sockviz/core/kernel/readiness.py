"""Which of a server's sockets select() would return now, and why each is ready, asked of the kernel.

The same question serves three readers: the hint on the select() step (before the click), the
session's check that a running select() is really waiting, and the select() call's own answer,
which says for each ready socket what made it ready ("s: 1 connection waiting", "conn2: 42 bytes").
A zero-timeout poll() answers whether a socket is ready; TCP_INFO and SIOCINQ say why.
"""

from __future__ import annotations

import array
import fcntl
import select
import socket
import termios
from collections.abc import Iterable

from sockviz.core.kernel.tcp_info import read_kernel
from sockviz.core.model.lazy_dataclass import lazy_dataclass
from sockviz.core.model.record import FrozenRecord


@lazy_dataclass(frozen=True, repr=False, eq=False)
class Ready(FrozenRecord):
    """One socket that select() returns, with the kernel's reason in a few words."""

    name: str
    why: str

    def __str__(self) -> str:
        return f"{self.name} ({self.why})"


def poll_now(socks: Iterable[socket.socket], events: int) -> set[int]:
    """The fds among `socks` that are ready for `events` now (a zero-timeout poll: any number of fds).

    Each fd is read once; a socket closed meanwhile (fd -1) is left out, and one closed after
    that read answers POLLNVAL, which is not readiness.
    """
    poller = select.poll()
    fds = set()
    for sock in socks:
        fd = sock.fileno()
        if fd >= 0:
            poller.register(fd, events)
            fds.add(fd)
    if not fds:
        return set()
    return {fd for fd, revents in poller.poll(0) if revents & (events | select.POLLERR | select.POLLHUP)}


def why_readable(sock: socket.socket) -> str:
    """Why a readable socket is readable, read from the kernel: a queued client, bytes, or an end of file;
    for UDP, a datagram (FIONREAD gives the size of the next one, not the total)."""
    if sock.type == socket.SOCK_DGRAM:
        try:
            size = _next_datagram(sock)
        except OSError:
            return "an error waits: the next call raises it"
        return f"a datagram of {size} bytes waiting"
    try:
        reading = read_kernel(sock)
    except OSError:
        reading = None
    if reading is None:
        return "closed"
    if reading.state == "LISTEN":
        queued = reading.accept_queue or 0
        return f"{queued} connection{'s' if queued != 1 else ''} waiting" if queued else "ready"
    if reading.state == "CLOSE":
        return "neither connected nor listening: the next call fails at once"
    waiting = reading.recv_queue or 0
    if waiting:
        return f"{waiting} bytes"
    if reading.state in ("CLOSE_WAIT", "LAST_ACK", "CLOSING", "TIME_WAIT"):
        return "EOF"
    return "EOF: shut down for reading here" if reading.state == "ESTABLISHED" else reading.state


def _next_datagram(sock: socket.socket) -> int:
    buffer = array.array("i", [0])
    fcntl.ioctl(sock.fileno(), termios.FIONREAD, buffer, True)
    return buffer[0]


def ready_now(named: Iterable[tuple[str, socket.socket]], *, write: bool = False) -> tuple[list[Ready], list[str]]:
    """(readable with their reasons, writable names) among the named sockets, as select() would say now."""
    named = list(named)
    readable_fds = poll_now((sock for _, sock in named), select.POLLIN)
    writable_fds = poll_now((sock for _, sock in named), select.POLLOUT) if write else set()
    readable = [Ready(name, why_readable(sock)) for name, sock in named if sock.fileno() in readable_fds]
    writable = [name for name, sock in named if sock.fileno() in writable_fds]
    return readable, writable
