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
import threading
from collections.abc import Callable, Iterable

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


class Readiness:
    """Zero-timeout polls of one list of sockets, each registered once: asked again and again (the select()
    step's hint, four times a second), a question costs one poll() in the kernel and a look at the ready
    sockets, not a registration of every socket in Python.

    Why: with a thousand connections, registering each of them for every hint (and reading each one's fd
    twice) was 0.9 ms of the event loop's CPU per refresh, the most of what a refresh grew by (README, "The
    loop with 1,000 connections"). A socket closed after the registration is not ready (its fd answers
    POLLNVAL, or, given to another file meanwhile, is not the socket's own any more); sockets opened after it
    are not in it: whoever holds a Readiness makes a new one when the list changes.
    """

    def __init__(self, socks: Iterable[socket.socket]) -> None:
        self.socks = list(socks)
        self._polls: dict[tuple[int, int], tuple[select.poll, dict[int, int]]] = {}
        self._lock = threading.Lock()
        """One question at a time: a poll object refuses a second poll() while one runs (a step's thread asks
        as the call begins, the screen for its hint)."""

    def ready(self, events: int, start: int = 0) -> list[int]:
        """The indexes, from `start` on and in order, of the sockets ready for `events` now."""
        with self._lock:
            return self._ready(events, start)

    def _ready(self, events: int, start: int) -> list[int]:
        if (events, start) not in self._polls:
            poller, where = select.poll(), {}
            for index in range(start, len(self.socks)):
                fd = self.socks[index].fileno()
                if fd >= 0:
                    poller.register(fd, events)
                    where[fd] = index
            self._polls[events, start] = poller, where
        poller, where = self._polls[events, start]
        if not where:
            return []
        socks, wanted = self.socks, events | select.POLLERR | select.POLLHUP
        return sorted(
            where[fd]
            for fd, revents in poller.poll(0)
            if revents & wanted and fd in where and socks[where[fd]].fileno() == fd
        )


def ready_in(readiness: Readiness, name_of: Callable[[int], str]) -> list[Ready]:
    """The readable sockets of `readiness` with their reasons, as select() would say now, each named by its index."""
    return [Ready(name_of(i), why_readable(readiness.socks[i])) for i in readiness.ready(select.POLLIN)]
