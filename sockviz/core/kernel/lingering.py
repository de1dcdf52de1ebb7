"""Connections the kernel keeps after close(): TIME_WAIT, FIN_WAIT2, LAST_ACK and the like.

After close() there is no fd to ask, so the kernel's own table is asked with a
netlink sock_diag dump (pyroute2), about a millisecond, and matched on the
4-tuple. pyroute2 takes about 0.1 s to import, so it is imported only when
the first closed connection is looked up, never at start-up.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from sockviz.core.kernel.tcp_info import TCP_STATES

Ends = tuple[tuple[str, int], tuple[str, int]]
"""((local host, local port), (remote host, remote port))."""

_AFTER_CLOSE = ("FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT", "CLOSE_WAIT", "LAST_ACK", "CLOSING")
_STATE_NUMBERS = {name: number for number, name in TCP_STATES.items()}
_STATE_MASK = sum(1 << _STATE_NUMBERS[name] for name in _AFTER_CLOSE)


@dataclass(frozen=True)
class Lingering:
    """A closed socket's connection as the kernel still holds it."""

    state: str
    expires: float | None
    """Seconds until the kernel's timer for it fires (for TIME_WAIT: until it is dropped)."""


def _plain(host: str) -> str:
    """`::ffff:127.0.0.1` and `127.0.0.1` name the same peer; the table uses the plain form."""
    return host.removeprefix("::ffff:").split("%")[0]


class KernelTable:
    """The kernel's table of TCP connections, asked by 4-tuple."""

    def __init__(self) -> None:
        self._diag = None
        self._lock = threading.Lock()

    def lookup(self, wanted: Iterable[Ends]) -> dict[Ends, Lingering]:
        """For each 4-tuple the kernel still holds in a closing state, its state and timer."""
        wanted = {((_plain(lh), lp), (_plain(rh), rp)): (lh, lp, rh, rp) for (lh, lp), (rh, rp) in wanted}
        if not wanted:
            return {}
        found: dict[Ends, Lingering] = {}
        with self._lock:
            diag = self._open()
            for family in (socket.AF_INET, socket.AF_INET6):
                for entry in diag.get_sock_stats(family=family, states=_STATE_MASK):
                    key = (
                        (_plain(entry.get("idiag_src")), entry.get("idiag_sport")),
                        (_plain(entry.get("idiag_dst")), entry.get("idiag_dport")),
                    )
                    original = wanted.get(key)
                    if original is None:
                        continue
                    expires = entry.get("idiag_expires")
                    found[((original[0], original[1]), (original[2], original[3]))] = Lingering(
                        TCP_STATES.get(entry.get("idiag_state"), "?"),
                        expires / 1000 if expires else None,
                    )
        return found

    def _open(self):
        if self._diag is None:
            from pyroute2 import DiagSocket  # about 0.1 s: only once a closed connection is looked up

            self._diag = DiagSocket()
            self._diag.bind()
        return self._diag

    def close(self) -> None:
        with self._lock:
            if self._diag is not None:
                self._diag.close()
                self._diag = None
