"""A socket the session made, with the identity and history that the fd cannot give.

fds are reused as soon as a socket closes, so nothing is keyed by fd: each
socket keeps a session-unique id and the Python name it has in the session's code.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import field
from enum import StrEnum

from sockviz.core.kernel.lingering import Ends, Lingering
from sockviz.core.kernel.snapshot import Address, SocketSnapshot, take_snapshot
from sockviz.core.model.events import Call
from sockviz.core.model.lazy_dataclass import lazy_dataclass
from sockviz.core.model.record import Shown


class Role(StrEnum):
    """What a socket is for: listening, one accepted connection, or a client."""

    SERVER = "server"
    """Made by the server's socket(): binds, listens, accepts."""
    CONNECTION = "connection"
    """Returned by accept(): the server's end of one client's connection."""
    CLIENT = "client"
    """Made by the client's socket(): connects."""


@lazy_dataclass(eq=False, repr=False)
class TrackedSocket(Shown):
    """One socket of the session, open or closed."""

    id: int
    name: str
    role: Role
    sock: socket.socket
    in_flight: list[Call] = field(default_factory=list)
    """Calls running on this socket now; several may run at once (recv and sendall, say)."""
    last_received: bytes | None = None
    """What the last recv() returned, for the server's echo."""
    bytes_sent: int = 0
    bytes_received: int = 0
    generated_sent: int = 0
    """Bytes of the generated pattern a bulk sendall() sent: the receiver checks the pattern only if some were."""
    ends: Ends | None = None
    """(local, remote) host and port, kept at close so the kernel can be asked about the connection later."""
    after_close: Lingering | None = None
    """What the kernel still holds of the connection after close (TIME_WAIT, say)."""
    gone: bool = False
    """True once the kernel has dropped the closed connection."""
    shut_reading: bool = False
    """shutdown(SHUT_RD or SHUT_RDWR) ran here: a recv() that returns b'' says so, not that the peer closed."""
    shut_writing: bool = False
    """shutdown(SHUT_WR or SHUT_RDWR) ran here: a send that fails with EPIPE says so, not that the peer closed."""
    lasting: str | None = None
    """What an earlier call left this socket unable to do, in a few words, for the table: a listener that
    shutdown() stopped listening says so until listen() runs again."""
    last_sender: tuple | None = None
    """UDP: the address the last datagram came from, where the server's sendto() replies."""
    datagrams_sent: int = 0
    datagrams_received: int = 0
    sent_to: dict[tuple, int] = field(default_factory=dict)
    """UDP: datagrams sent, by (host, port) they were sent to: the receiver compares its count with them."""

    def sent_datagram(self, to: tuple) -> None:
        self.datagrams_sent += 1
        key = (to[0], to[1])
        self.sent_to[key] = self.sent_to.get(key, 0) + 1

    def received_datagram(self, data: bytes, sender: tuple | None) -> None:
        self.datagrams_received += 1
        self.last_received = data
        if sender is not None:
            self.last_sender = sender

    @property
    def datagram(self) -> bool:
        """Whether this is a UDP socket (its type stays known after close)."""
        return self.sock.type == socket.SOCK_DGRAM

    last_addresses: tuple[Address | None, Address | None] | None = None
    """(laddr, raddr) as Python gave them when the socket last connected, was accepted or was closed: a closed
    socket's row goes on showing them (a refresh of the table may have missed it while it was connected)."""

    def snapshot(self, *, with_repr: bool = True) -> SocketSnapshot:
        return take_snapshot(self.sock, with_repr=with_repr)

    @property
    def closed(self) -> bool:
        return self.sock.fileno() < 0

    @property
    def non_blocking(self) -> bool:
        """setblocking(False) (or settimeout(0)) on this socket: its waiting calls raise instead."""
        try:
            return self.sock.gettimeout() == 0.0
        except OSError:
            return False

    def current_ends(self) -> Ends | None:
        """(local, remote) as (host, port) pairs while connected; None otherwise."""
        try:
            local, remote = self.sock.getsockname(), self.sock.getpeername()
        except OSError:
            return None
        return (local[0], local[1]), (remote[0], remote[1])

    @property
    def bound_port(self) -> int | None:
        """The local port, while the socket is open and bound."""
        try:
            port = self.sock.getsockname()[1]
        except OSError:
            return None
        return port or None

    def ports(self) -> set[int]:
        """The ports this socket uses: its local port and, once connected, the peer's."""
        found = {port for port in (self.bound_port,) if port}
        ends = self.ends or self.current_ends()
        if ends is not None:
            found |= {ends[0][1], ends[1][1]}
        return found

    def remember_ends(self) -> None:
        """Keep the connection's addresses: once it closes (or even half-closes) the socket forgets them."""
        if self.ends is None:
            self.ends = self.current_ends()
        before = self.last_addresses or (None, None)
        local, remote = _address(self.sock.getsockname), _address(self.sock.getpeername)
        if local is not None or remote is not None:
            self.last_addresses = (local or before[0], remote or before[1])


def _address(read: Callable[[], Address]) -> Address | None:
    try:
        return read()
    except OSError:
        return None
