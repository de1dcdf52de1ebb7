"""A socket's attributes at one moment, as Python reports them, plus the kernel's view."""

from __future__ import annotations

import socket

from sockviz.core.kernel.tcp_info import KernelReading, read_kernel
from sockviz.core.kernel.udp_info import read_datagram
from sockviz.core.model.lazy_dataclass import lazy_dataclass
from sockviz.core.model.record import FrozenRecord

Address = tuple  # ('127.0.0.1', 12354) or ('::1', 12354, 0, 0), exactly as Python gives it


@lazy_dataclass(frozen=True, repr=False, eq=False)
class SocketSnapshot(FrozenRecord):
    """What `print(s)` shows, field by field, and what the kernel adds to it."""

    fd: int
    family: str
    type: str
    proto: int
    laddr: Address | None
    raddr: Address | None
    closed: bool
    repr: str | None
    """`repr(sock)`, when asked for: it reads both addresses again, so a table refresh leaves it out."""
    kernel: KernelReading | None


def _address(read) -> Address | None:
    try:
        return read()
    except OSError:
        return None


def take_snapshot(sock: socket.socket, *, with_repr: bool = True) -> SocketSnapshot:
    """Read a socket without changing it; safe on a closed socket and from any thread."""
    fd = sock.fileno()
    closed = fd < 0
    return SocketSnapshot(
        fd=fd,
        family=sock.family.name,
        type=sock.type.name,
        proto=sock.proto,
        laddr=None if closed else _address(sock.getsockname),
        raddr=None if closed else _address(sock.getpeername),
        closed=closed,
        repr=repr(sock) if with_repr else None,
        kernel=None if closed else read_datagram(sock) if sock.type == socket.SOCK_DGRAM else read_kernel(sock),
    )
