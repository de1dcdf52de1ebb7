"""Who sent a captured segment, in the session's names: `c → conn`, not two addresses.

A reader of the session's sockets, not a part of the session: the session owns sockets and
calls, and naming what the capture saw is a telling of them, as the sentences are.
"""

from __future__ import annotations

from collections.abc import Sequence

from sockviz.core.engine.tracked import Role, TrackedSocket
from sockviz.core.model.addresses import same_ends

Address = tuple[str, int]


def owner_of(sockets: Sequence[TrackedSocket], src: Address, dst: Address) -> str:
    """The name of the socket (of `sockets`, oldest first) that sent a segment from `src` to `dst`, or the address."""
    for tracked in sockets:
        if tracked.ends is not None and same_ends(tracked.ends, (src, dst)):
            return tracked.name
    for tracked in reversed(sockets):  # before accept() the listener answers the handshake
        if tracked.role is Role.SERVER and tracked.bound_port == src[1]:
            return tracked.name
    for tracked in reversed(sockets):  # an unconnected UDP socket has no ends: its port names it
        if tracked.datagram and tracked.bound_port == src[1]:
            return tracked.name
    return f"{src[0]}:{src[1]}"
