"""A socket as the table showed it at one moment: everything a row and `print(s)` need, and no socket.

A live screen reads a `TrackedSocket` and its snapshot; a replay or a follower has only what was
recorded. `SocketState` carries the same attributes under the same names (id, name, role, ends,
lasting, after_close, the byte counts), so the table draws one as it draws the other.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from sockviz.core.engine.tracked import Role, TrackedSocket
from sockviz.core.kernel.lingering import Ends, Lingering
from sockviz.core.kernel.snapshot import Address, SocketSnapshot


@dataclass(frozen=True)
class SocketState:
    """One socket of the session at one moment, as recorded."""

    id: int
    """The session's id for the socket, which the table keys its row by (never the fd: fds are reused)."""
    name: str
    role: Role
    snapshot: SocketSnapshot
    """What Python and the kernel said of it at that moment, `repr()` included."""
    doing: str
    """The table's "now" column: `accept() blocked 3 s`, `idle`."""
    lasting: str | None = None
    ends: Ends | None = None
    after_close: Lingering | None = None
    bytes_sent: int = 0
    bytes_received: int = 0
    addresses_while_open: tuple[Address | None, Address | None] | None = None
    """(laddr, raddr) as last read while it was open: a closed socket has none of its own, and the table
    goes on showing the ones it had."""
    non_blocking: bool = False
    """setblocking(False) or settimeout(0) was in force: the table says `non-blocking`."""
    datagram: bool = False
    """A UDP socket: `print(s)` counts its datagrams."""
    datagrams_sent: int = 0
    datagrams_received: int = 0

    @property
    def closed(self) -> bool:
        return self.snapshot.closed

    @property
    def last_addresses(self) -> tuple[Address | None, Address | None] | None:
        """A closed socket's addresses while it was open, under the name the live table reads them by."""
        return self.addresses_while_open if self.closed else None

    def as_shown(self) -> SocketSnapshot:
        """The snapshot with a closed socket's last addresses put back, as the live table keeps them."""
        if not self.closed or self.addresses_while_open is None:
            return self.snapshot
        laddr, raddr = self.addresses_while_open
        return dataclasses.replace(self.snapshot, laddr=laddr, raddr=raddr)


def socket_state(
    tracked: TrackedSocket,
    snapshot: SocketSnapshot,
    doing: str,
    addresses_while_open: tuple[Address | None, Address | None] | None = None,
) -> SocketState:
    """What to record of a live socket, read from the session's own bookkeeping and a fresh snapshot."""
    return SocketState(
        id=tracked.id,
        name=tracked.name,
        role=tracked.role,
        snapshot=snapshot,
        doing=doing,
        lasting=tracked.lasting,
        ends=tracked.ends,
        after_close=tracked.after_close,
        bytes_sent=tracked.bytes_sent,
        bytes_received=tracked.bytes_received,
        addresses_while_open=tracked.last_addresses
        if snapshot.closed and tracked.last_addresses
        else addresses_while_open,
        non_blocking=_non_blocking(tracked),
        datagram=tracked.datagram,
        datagrams_sent=tracked.datagrams_sent,
        datagrams_received=tracked.datagrams_received,
    )


def _non_blocking(tracked: TrackedSocket) -> bool:
    try:
        return tracked.sock.gettimeout() == 0.0
    except OSError:
        return False
