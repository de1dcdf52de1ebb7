"""What each cell of a socket's row says: its columns in the order a lesson points at them, and their texts.

The table (sockets_table.py) draws these texts; a replay's and a follower's tables and the tests read the
same texts, so a row means the same wherever it is shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sockviz.core.model.addresses import address_text

if TYPE_CHECKING:
    from sockviz.core import SocketSnapshot
    from sockviz.core.engine.view import SocketView
    from sockviz.core.story.recording.sockets import SocketState

COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "socket"),
    ("fd", "fd"),
    ("state", "state"),
    ("laddr", "laddr"),
    ("raddr", "raddr"),
    ("now", "now"),
    ("queues", "queues"),
    ("open", "open"),
    ("role", "role"),
    ("family", "family"),
    ("type", "type"),
    ("proto", "proto"),
)
"""What the lesson points at comes first (name, fd, state, the addresses, what it does now), so it fits in
130 columns; the cells that grow long (`sendall() blocked 12 s`, `serving (threads): ...`) come after the
addresses, so they never push them off screen. At 200 columns every column fits."""

ADDRESSES = ("laddr", "raddr")

BLOCKED = " blocked "
"""How `now` says a call waits (`accept() blocked 3 s`): such a cell is drawn in the blocked style."""


def _non_blocking(tracked: SocketView | SocketState) -> bool:
    """setblocking(False) (or settimeout(0)) on this socket: its waiting calls raise instead (a replay's socket
    as recorded, a follower's as the lecturer's session said)."""
    return tracked.non_blocking


def row_texts(tracked: SocketView | SocketState, snap: SocketSnapshot, doing: str) -> dict[str, str]:
    """Each column's text. A closed socket has no addresses of its own: the caller keeps the last ones."""
    kernel = snap.kernel
    state = "" if kernel is None else kernel.state
    now = tracked.lasting if doing == "idle" and tracked.lasting else doing  # a listener that shutdown stopped
    if not snap.closed and _non_blocking(tracked):
        now = f"{now}, non-blocking"
    if snap.closed and tracked.after_close is not None:
        held = tracked.after_close
        state = held.state
        if held.expires:
            now = f"{held.expires:.0f} s left"
    ends = tracked.ends
    return {
        "name": tracked.name,
        "fd": str(snap.fd),
        "role": tracked.role.value,
        "open": "closed" if snap.closed else "open",
        "state": state,
        "now": now,
        "laddr": _address_cell(snap.laddr, ends[0] if snap.closed and ends else None),
        "raddr": _address_cell(snap.raddr, ends[1] if snap.closed and ends else None),
        "queues": "" if kernel is None else kernel.queues,
        "family": snap.family,
        "type": snap.type,
        "proto": str(snap.proto),
    }


def _address_cell(address: object, last: object) -> str:
    """The socket's address now, or for a closed socket the one it last had."""
    if address is not None:
        return address_text(address)
    return "" if last is None else address_text(last)


def keep_last_addresses(
    texts: dict[str, str], tracked: SocketView | SocketState, shown: dict[str, str] | None = None
) -> None:
    """A closed socket's address cells: the addresses it had while open, as the session kept them when it last
    connected, was accepted or closed, or else as the table last showed them (`shown`), so a TIME_WAIT row
    still says which port is held."""
    for column, address in zip(ADDRESSES, tracked.last_addresses or (None, None), strict=True):
        if address is not None:
            texts[column] = address_text(address)
        elif shown is not None:
            texts[column] = shown[column] or texts[column]
