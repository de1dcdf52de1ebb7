"""Connections the kernel keeps after close(): TIME_WAIT, FIN_WAIT2, LAST_ACK and the like.

After close() there is no fd to ask, so the kernel's own table is asked with a
netlink sock_diag dump (the request `ss` makes), matched on the 4-tuple.

The request is made on a netlink socket opened and closed within each lookup,
by hand with `struct`: a lookup runs in whichever worker thread is free, and a
socket kept open across threads (pyroute2's DiagSocket keeps an event loop per
thread) leaked three fds each time. Opening one costs a few microseconds; the dump
itself about 2 ms here, as the kernel walks its table: it runs off the UI thread.
"""

from __future__ import annotations

import errno
import socket
import struct
from collections.abc import Iterable, Iterator

from sockviz.core.kernel.tcp_info import TCP_STATES
from sockviz.core.model.addresses import plain_host
from sockviz.core.model.lazy_dataclass import lazy_dataclass
from sockviz.core.model.record import FrozenRecord

Ends = tuple[tuple[str, int], tuple[str, int]]
"""((local host, local port), (remote host, remote port))."""

_AFTER_CLOSE = ("FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT", "CLOSE_WAIT", "LAST_ACK", "CLOSING")
_STATE_NUMBERS = {name: number for number, name in TCP_STATES.items()}
_STATE_MASK = sum(1 << _STATE_NUMBERS[name] for name in _AFTER_CLOSE)

_NETLINK_SOCK_DIAG = 4
_SOCK_DIAG_BY_FAMILY = 20
_NLM_F_REQUEST, _NLM_F_DUMP = 0x1, 0x300
_NLMSG_ERROR, _NLMSG_DONE = 2, 3
_HEADER = struct.Struct("=IHHII")
"""struct nlmsghdr: length, type, flags, sequence number, port id."""
_REQUEST = struct.Struct("=BBBxI48x")
"""struct inet_diag_req_v2: family, protocol, extensions, states; an empty inet_diag_sockid (a dump)."""
_MESSAGE = struct.Struct("=BBBB2s2s16s16sI8xI")
"""struct inet_diag_msg up to idiag_expires: family, state, timer, retransmits, the sockid, expires (ms)."""


@lazy_dataclass(frozen=True, repr=False, eq=False)
class Lingering(FrozenRecord):
    """A closed socket's connection as the kernel still holds it."""

    state: str
    expires: float | None
    """Seconds until the kernel's timer for it fires (for TIME_WAIT: until it is dropped)."""


def _host(family: int, raw: bytes) -> str:
    return socket.inet_ntop(family, raw[:4] if family == socket.AF_INET else raw)


def _dump(family: int, states: int = _STATE_MASK) -> Iterator[tuple[Ends, str, int]]:
    """Every TCP connection of `family` in a closing state (or in `states`): (ends, state, timer in ms)."""
    request = _REQUEST.pack(family, socket.IPPROTO_TCP, 0, states)
    header = _HEADER.pack(_HEADER.size + len(request), _SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST | _NLM_F_DUMP, 1, 0)
    with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC, _NETLINK_SOCK_DIAG) as diag:
        diag.settimeout(2.0)  # the kernel answers at once; never let a lookup hang a worker
        diag.sendall(header + request)
        while True:
            data = diag.recv(65536)
            offset = 0
            while offset + _HEADER.size <= len(data):
                length, kind, _flags, _seq, _pid = _HEADER.unpack_from(data, offset)
                if kind == _NLMSG_DONE:
                    return
                if kind == _NLMSG_ERROR:
                    (code,) = struct.unpack_from("=i", data, offset + _HEADER.size)
                    raise OSError(-code, f"sock_diag: {errno.errorcode.get(-code, code)}")
                if kind == _SOCK_DIAG_BY_FAMILY:
                    fam, state, _timer, _retrans, sport, dport, src, dst, _if, expires = _MESSAGE.unpack_from(
                        data, offset + _HEADER.size
                    )
                    ends = (
                        (_host(fam, src), int.from_bytes(sport, "big")),
                        (_host(fam, dst), int.from_bytes(dport, "big")),
                    )
                    yield ends, TCP_STATES.get(state, "?"), expires
                if length < _HEADER.size:
                    return  # a malformed answer: stop rather than loop
                offset += (length + 3) & ~3
            if not data:
                return


class KernelTable:
    """The kernel's table of TCP connections, asked by 4-tuple. Holds no fd between lookups."""

    def lookup(self, wanted: Iterable[Ends]) -> dict[Ends, Lingering]:
        """For each 4-tuple the kernel still holds in a closing state, its state and timer."""
        by_plain = {((plain_host(lh), lp), (plain_host(rh), rp)): ((lh, lp), (rh, rp)) for (lh, lp), (rh, rp) in wanted}
        if not by_plain:
            return {}
        found: dict[Ends, Lingering] = {}
        for family in (socket.AF_INET, socket.AF_INET6):
            for (local, remote), state, expires in _dump(family):
                original = by_plain.get(((plain_host(local[0]), local[1]), (plain_host(remote[0]), remote[1])))
                if original is not None:
                    found[original] = Lingering(state, expires / 1000 if expires else None)
        return found

    def close(self) -> None:
        """Nothing to close: each lookup closes its own netlink socket."""


def held_on_port(port: int) -> list[tuple[Ends, Lingering]]:
    """Every closed connection the kernel still holds with this local port (a TIME_WAIT that keeps a
    listener's port from bind(), say), whichever process or session left it, soonest to go first."""
    held = [
        (ends, Lingering(state, expires / 1000 if expires else None))
        for family in (socket.AF_INET, socket.AF_INET6)
        for ends, state, expires in _dump(family)
        if ends[0][1] == port
    ]
    return sorted(held, key=lambda found: found[1].expires or 0.0)


def listened_on(port: int) -> bool:
    """Whether any socket of this machine's network namespace listens on this TCP port, in either family."""
    listen = 1 << _STATE_NUMBERS["LISTEN"]
    return any(
        ends[0][1] == port for family in (socket.AF_INET, socket.AF_INET6) for ends, _, _ in _dump(family, listen)
    )
