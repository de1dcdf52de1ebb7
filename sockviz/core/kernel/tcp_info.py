"""What the kernel knows about a socket and Python's repr() does not show.

Each reading is a getsockopt or an ioctl on the socket's own fd: a few
microseconds, cheap enough to refresh a table of a thousand sockets several
times a second (parsing /proc/net/tcp would cost about 10 ms a call).
"""

from __future__ import annotations

import array
import fcntl
import socket
import struct
import termios

from sockviz.core.model.lazy_dataclass import lazy_dataclass
from sockviz.core.model.record import FrozenRecord

TCP_STATES: dict[int, str] = {
    1: "ESTABLISHED",
    2: "SYN_SENT",
    3: "SYN_RECV",
    4: "FIN_WAIT1",
    5: "FIN_WAIT2",
    6: "TIME_WAIT",
    7: "CLOSE",
    8: "CLOSE_WAIT",
    9: "LAST_ACK",
    10: "LISTEN",
    11: "CLOSING",
}

_NO_QUEUES = {"CLOSE", "SYN_SENT"}
"""States with no connection to queue for: the ioctls answer with leftovers of the handshake."""

_TCP_INFO_SIZE = 104
_QUEUE_OFFSET = 24
"""tcpi_unacked and tcpi_sacked: for a listener, the accept queue and backlog."""


@lazy_dataclass(frozen=True, repr=False, eq=False)
class KernelReading(FrozenRecord):
    """The kernel's view of one open TCP socket."""

    state: str
    recv_queue: int | None = None
    """Bytes received by the kernel and not yet read by recv()."""
    send_queue: int | None = None
    """Bytes handed to the kernel by send() and not yet acknowledged by the peer."""
    accept_queue: int | None = None
    """For a listener: finished connections waiting for accept()."""
    backlog: int | None = None
    """For a listener: how many may wait before new clients are held back."""
    next_datagram: int | None = None
    """For UDP: the size of the datagram recvfrom() would return now; None when none is queued."""
    drops: int | None = None
    """For UDP: datagrams the kernel dropped because the receive buffer was full."""
    datagram: bool = False
    """A UDP socket's reading: `state` is UNCONN or ESTAB, and recv_queue is memory, as `ss -uan` shows it."""

    @property
    def queues(self) -> str:
        """The queue figures as one short text: `1/128` for a listener, `0 / 42` bytes otherwise."""
        if self.datagram:
            return self._datagram_queues()
        if self.accept_queue is not None:
            return f"{self.accept_queue}/{self.backlog} queued"
        if self.recv_queue is None:
            return ""
        return f"in {self.recv_queue} · out {self.send_queue}"

    def _datagram_queues(self) -> str:
        """`in 2496 · next 42B · 191 dropped`: Recv-Q as ss shows it (the kernel's memory, not payload)."""
        parts = [] if self.recv_queue is None else [f"in {self.recv_queue}"]
        if self.next_datagram is not None:
            parts.append(f"next {self.next_datagram}B")
        if self.drops:
            parts.append(f"{self.drops} dropped")
        return " · ".join(parts)


def _queue_bytes(fd: int, request: int) -> int:
    buffer = array.array("i", [0])
    fcntl.ioctl(fd, request, buffer, True)
    return buffer[0]


def read_kernel(sock: socket.socket) -> KernelReading | None:
    """Read the TCP state and queues of an open socket; None if it has no fd or is not TCP."""
    fd = sock.fileno()
    if fd < 0 or sock.type != socket.SOCK_STREAM:
        return None
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO_SIZE)
    except OSError:
        return None
    state = TCP_STATES.get(info[0], f"state {info[0]}")
    if state == "LISTEN":
        queued, backlog = struct.unpack_from("II", info, _QUEUE_OFFSET)
        return KernelReading(state, accept_queue=queued, backlog=backlog)
    if state in _NO_QUEUES:
        return KernelReading(state)
    try:
        return KernelReading(
            state,
            recv_queue=_queue_bytes(fd, termios.FIONREAD),
            send_queue=_queue_bytes(fd, termios.TIOCOUTQ),
        )
    except OSError:
        return KernelReading(state)
