"""Which TCP and UDP ports the session still has something on: what a capture's kernel filter keeps.

A port is held by whatever of the session uses it: an open socket (its own port and,
once connected, its peer's), a call that is sending to one (a connect()'s SYN leaves
before the call returns), and a closed connection the kernel still holds (TIME_WAIT,
FIN_WAIT2 ...: its last frames are still the session's). A port goes once nothing holds
it, so a capture stops keeping frames of a port that the session has left, whoever
uses it next. The book counts holders per port, so the answer is a cached set, cheap
enough for every call's listener; the session keeps it under its lock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable


class PortBook:
    """Holders (a socket, a call) and the ports each holds."""

    def __init__(self) -> None:
        self._held: dict[Hashable, frozenset[int]] = {}
        self._holders = Counter[int]()
        """How many holders hold each port: a port goes when its count does."""
        self._now: frozenset[int] | None = frozenset()
        """The ports held, as last asked; None when a hold changed since."""

    def hold(self, holder: Hashable, ports: Iterable[int]) -> None:
        """`holder` holds these ports too, besides those it held already."""
        before = self._held.get(holder, frozenset())
        more = frozenset(port for port in ports if port) - before
        if more:
            self._held[holder] = before | more
            self._holders.update(more)
            self._now = None

    def release(self, holder: Hashable) -> None:
        """`holder` holds nothing any more (a socket closed and the kernel dropped its connection, a call ended)."""
        ports = self._held.pop(holder, frozenset())
        if ports:
            self._holders.subtract(ports)
            for port in ports:
                if self._holders[port] <= 0:
                    del self._holders[port]
            self._now = None

    def ports(self) -> frozenset[int]:
        """Every port something holds now."""
        if self._now is None:
            self._now = frozenset(self._holders)
        return self._now
