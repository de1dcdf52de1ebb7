"""Every socket of the session, one row each, refreshed in place.

Rows are keyed by the session's socket id, never by fd (fds are reused as soon
as a socket closes). Only cells whose text changed are written, so a refresh
of many rows costs little.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar, Unpack

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from sockviz.core import Call, SocketSnapshot, TrackedSocket
from sockviz.core.story.sentences import duration
from sockviz.widgets.inks import ink
from sockviz.widgets.options import WidgetOptions

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
"""What the lesson points at comes first (name, fd, state, the addresses), so it fits in 130 columns;
the cells that grow long (`blocked in recv() 2.35 s`, `54 s left`) come after the addresses, so they
never push them off screen."""

ADDRESSES = ("laddr", "raddr")


def activity(
    calls: Iterable[Call], blocked: set[int], now: float, closed: bool, serving: dict[int, str] | None = None
) -> str:
    """What the socket is doing: `blocked in accept() 3.2 s`, `in recv()`, `idle`; for a serve mode, what it
    says of itself (`serving (threads): 4 threads, 3 of 5 clients served`)."""
    parts = []
    for call in calls:
        if serving and call.id in serving:
            parts.append(serving[call.id])
        elif call.id in blocked:
            parts.append(f"blocked in {call.label} {duration(now - call.started)}")
        else:
            parts.append(f"in {call.label}")
    if parts:
        return ", ".join(parts)
    return "—" if closed else "idle"


def _non_blocking(tracked: TrackedSocket) -> bool:
    """setblocking(False) (or settimeout(0)) on this socket: its waiting calls raise instead."""
    try:
        return tracked.sock.gettimeout() == 0.0
    except OSError:
        return False


def row_texts(tracked: TrackedSocket, snap: SocketSnapshot, doing: str) -> dict[str, str]:
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
        "laddr": str(snap.laddr) if snap.laddr is not None else str(ends[0]) if snap.closed and ends else "",
        "raddr": str(snap.raddr) if snap.raddr is not None else str(ends[1]) if snap.closed and ends else "",
        "queues": "" if kernel is None else kernel.queues,
        "family": snap.family,
        "type": snap.type,
        "proto": str(snap.proto),
    }


class SocketsTable(DataTable[Text]):
    """The live table of sockets; the name column stays in view when the table scrolls sideways."""

    COMPONENT_CLASSES: ClassVar[set[str]] = DataTable.COMPONENT_CLASSES | {
        "sockets-table--closed",
        "sockets-table--blocked",
    }
    """
    | Class | Description |
    | :- | :- |
    | `sockets-table--closed` | "closed", and the addresses a closed socket last had. |
    | `sockets-table--blocked` | A call that is blocked now: `blocked in accept() 3.2 s`. |
    """
    DEFAULT_CSS = """
    SocketsTable {
        height: 1fr;
        min-height: 6;
        border: round $secondary;
        scrollbar-size-horizontal: 1;
    }
    SocketsTable:focus {
        border: round $primary;
    }
    SocketsTable > .sockets-table--closed {
        color: $text-muted;
    }
    SocketsTable > .sockets-table--blocked {
        color: $text-warning;
        text-style: bold;
    }
    """

    def __init__(self, **kwargs: Unpack[WidgetOptions]) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, fixed_columns=1, **kwargs)
        self._shown: dict[str, dict[str, str]] = {}
        self._closed_rows: set[str] = set()

    def on_mount(self) -> None:
        for key, title in COLUMNS:
            self.add_column(title, key=key)
        self.app.theme_changed_signal.subscribe(self, self._restyle)  # sent once the new theme's styles apply

    def show(self, rows: Iterable[tuple[TrackedSocket, SocketSnapshot, str]]) -> None:
        """Bring the table up to date, writing only what changed."""
        for tracked, snap, doing in rows:
            key = str(tracked.id)
            texts = row_texts(tracked, snap, doing)
            before = self._shown.get(key)
            just_closed = snap.closed and key not in self._closed_rows  # its address cells change style
            if snap.closed:
                self._closed_rows.add(key)
                if before is not None:  # the addresses it had while open, as the kernel reported them
                    for column in ADDRESSES:
                        texts[column] = before[column] or texts[column]
            if before is None:
                self.add_row(*(self._cell(key, column, texts[column]) for column, _ in COLUMNS), key=key)
            elif before != texts or just_closed:
                for column, _ in COLUMNS:
                    if before[column] != texts[column] or (just_closed and column in ADDRESSES):
                        # Only a text wider than its column widens it. Any narrower one would make Textual
                        # measure every cell of the column again, a cost that grows with the rows: it was most
                        # of the event loop's lag while hundreds of connections came and went.
                        wider = cell_len(texts[column]) > self.columns[ColumnKey(column)].content_width
                        self.update_cell(key, column, self._cell(key, column, texts[column]), update_width=wider)
            self._shown[key] = texts

    def _cell(self, key: str, column: str, text: str) -> Text:
        closed = key in self._closed_rows
        if (column == "open" and closed) or (column in ADDRESSES and closed):
            return Text(text, style=ink(self, "sockets-table--closed"))
        if column == "now" and text.startswith("blocked"):
            return Text(text, style=ink(self, "sockets-table--blocked"))
        return Text(text)

    def _restyle(self, _theme: object = None) -> None:
        """A new theme (f2, high contrast) gets new colours in every styled cell, not only in new ones."""
        for key, texts in self._shown.items():
            for column in ("open", "now", *ADDRESSES):
                self.update_cell(key, column, self._cell(key, column, texts[column]))

    def rows_to_refresh(self, count: int) -> list[int]:
        """Which of `count` sockets (in table order) need reading now: new ones, and those on screen.

        Rows scrolled out of view keep their last values until they come back, so a
        table of two thousand sockets costs a refresh of the thirty that show.
        """
        first = int(self.scroll_y)
        visible = range(first, min(count, first + self.scrollable_content_region.height + 1))
        return sorted(set(visible).union(range(self.row_count, count)))

    def socket_id_at_cursor(self) -> int | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return None if key is None else int(key)
