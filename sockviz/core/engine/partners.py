"""Who is at the other end: the session's socket that a connection, a datagram or a blocked call answers to.

"Woken by" needs the other end of a call that waited (the client whose send() ended a recv(), the
sender of a datagram, the listener a connect() reached), and a UDP socket's row says who sent it what.
These are questions about the session's sockets and what the kernel says of their addresses, asked
outside the session's lock where they may ask the kernel about every socket of a burst; the session
hands this class its own lists (which it only ever appends to) and its lock.
"""

from __future__ import annotations

import threading

from sockviz.core.engine.in_progress import Running
from sockviz.core.engine.tracked import Role, TrackedSocket
from sockviz.core.engine.waker import OUTSIDE
from sockviz.core.kernel.listening import listens_at
from sockviz.core.model.addresses import is_wildcard, same_ends, same_host
from sockviz.core.model.steps import Action


class Partners:
    """The other ends of the session's sockets and calls."""

    def __init__(self, lock: threading.RLock, sockets: list[TrackedSocket], servers: list[TrackedSocket]) -> None:
        self._lock = lock
        self._sockets = sockets
        self._servers = servers

    def of_blocked(self, running: Running, added: TrackedSocket | None, sender: tuple | None) -> str | object | None:
        """The session's socket at the other end of a blocked call, by name; OUTSIDE if that end is not
        the session's; None if sockviz cannot tell. A datagram's other end is its sender."""
        action, tracked = running.call.step.action, running.tracked
        if action is Action.SELECT:
            return self._of_select(running)
        if running.call.datagram:
            if sender is None:
                return None
            found = self.bound_at(sender)
            return OUTSIDE if found is None else found.name
        if action is Action.CONNECT:
            listener = running.listener
            if listener is None and running.address is not None:  # one may have been made while it waited
                with self._lock:
                    listener = self.listener_at(running.address)
            return listener.name if listener is not None else OUTSIDE
        end = added if action is Action.ACCEPT else tracked
        if end is None or (end.ends or end.current_ends()) is None:
            return None  # not connected: no other end to ask about
        peer = self.peer_of(end)
        return OUTSIDE if peer is None else peer.name

    def _of_select(self, running: Running) -> str | object | None:
        """For a select() that waited: the peer of the first connection it returned, whose send or close is
        what made it readable (OUTSIDE if that peer is not the session's); None when only the listener was
        ready, since which client is queued is not known before accept()."""
        for ready in running.ready:
            if ready.role is Role.CONNECTION:
                peer = self.peer_of(ready)
                return peer.name if peer is not None else OUTSIDE
        return None

    def peer_of(self, tracked: TrackedSocket) -> TrackedSocket | None:
        """The session's socket at the other end of this connection, if the session has it."""
        ends = tracked.ends or tracked.current_ends()
        if ends is None:
            return None
        mirrored = (ends[1], ends[0])
        with self._lock:
            candidates = [t for t in self._sockets if t is not tracked]
        for other in candidates:
            found = other.ends or other.current_ends()
            if found is not None and same_ends(found, mirrored):  # a v4 client of a :: listener is ::ffff:...
                return other
        return None

    def listener_at(self, address: tuple) -> TrackedSocket | None:
        """This session's socket listening where `address` points, if any (the caller holds the lock)."""
        return next((tracked for tracked in self._servers if listens_at(tracked.sock, address)), None)

    def bound_at(self, address: tuple) -> TrackedSocket | None:
        """The session's open UDP socket whose address is `address` (a datagram's sender), if it has one."""
        with self._lock:
            candidates = [t for t in self._sockets if t.datagram and not t.closed]
        for tracked in candidates:
            try:
                host, port = tracked.sock.getsockname()[:2]
            except OSError:
                continue
            if port == address[1] and (same_host(host, address[0]) or is_wildcard(host)):
                return tracked
        return None

    def sent_here(self, tracked: TrackedSocket) -> dict[str, int]:
        """For each of the session's sockets that sent datagrams to this socket's address: its name and how many."""
        try:
            host, port = tracked.sock.getsockname()[:2]
        except OSError:
            return {}
        with self._lock:
            senders = [t for t in self._sockets if t.sent_to and t is not tracked]
        found = {}
        for sender in senders:
            count = sum(n for (to_host, to_port), n in sender.sent_to.items()
                        if to_port == port and (same_host(host, to_host) or is_wildcard(host)))  # fmt: skip
            if count:
                found[sender.name] = count
        return found
