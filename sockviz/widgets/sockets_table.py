"""Every socket of the session, one row each, refreshed in place.

Rows are keyed by the session's socket id, never by fd (fds are reused as soon
as a socket closes). Only cells whose text changed are written, so a refresh
of many rows costs little.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Unpack

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual._types import SegmentLines
from textual.cache import LRUCache
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from sockviz.core import Call, SocketSnapshot, TrackedSocket
from sockviz.core.story.sentences import duration
from sockviz.widgets.options import WidgetOptions

COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "socket"),
    ("fd", "fd"),
    ("open", "open"),
    ("state", "tcp state"),
    ("queues", "queues"),
    ("now", "now"),
    ("laddr", "laddr"),
    ("raddr", "raddr"),
    ("role", "role"),
    ("family", "family"),
    ("type", "type"),
    ("proto", "proto"),
)


def activity(calls: Iterable[Call], blocked: set[int], now: float, closed: bool) -> str:
    """What the socket is doing: `blocked in accept() 3.2 s`, `in recv()`, `idle`."""
    parts = []
    for call in calls:
        if call.id in blocked:
            parts.append(f"blocked in {call.label} {duration(now - call.started)}")
        else:
            parts.append(f"in {call.label}")
    if parts:
        return ", ".join(parts)
    return "—" if closed else "idle"


def row_texts(tracked: TrackedSocket, snap: SocketSnapshot, doing: str) -> tuple[str, ...]:
    kernel = snap.kernel
    state = "" if kernel is None else kernel.state
    if snap.closed and tracked.after_close is not None:
        held = tracked.after_close
        state = f"{held.state} {held.expires:.0f} s left" if held.expires else held.state
    cells = {
        "name": tracked.name,
        "fd": str(snap.fd),
        "role": tracked.role.value,
        "open": "closed" if snap.closed else "open",
        "state": state,
        "now": tracked.lasting if doing == "idle" and tracked.lasting else doing,  # a listener that shutdown stopped
        "laddr": "" if snap.laddr is None else str(snap.laddr),
        "raddr": "" if snap.raddr is None else str(snap.raddr),
        "queues": "" if kernel is None else kernel.queues,
        "family": snap.family,
        "type": snap.type,
        "proto": str(snap.proto),
    }
    return tuple(cells[key] for key, _ in COLUMNS)


class SocketsTable(DataTable[Text]):
    """The live table of sockets."""

    def __init__(self, **kwargs: Unpack[WidgetOptions]) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._shown: dict[str, tuple[str, ...]] = {}
        self._kept_cells: LRUCache[tuple, SegmentLines] = LRUCache(4000)
        """Rendered cells, by everything their picture depends on (see `_render_cell`)."""

    def on_mount(self) -> None:
        for key, title in COLUMNS:
            self.add_column(title, key=key)

    def show(self, rows: Iterable[tuple[TrackedSocket, SocketSnapshot, str]]) -> None:
        """Bring the table up to date, writing only what changed."""
        for tracked, snap, doing in rows:
            key = str(tracked.id)
            texts = row_texts(tracked, snap, doing)
            before = self._shown.get(key)
            if before is None:
                self.add_row(
                    *(Text(t, style=self._style(c, t)) for (c, _), t in zip(COLUMNS, texts, strict=True)), key=key
                )
            elif before != texts:
                for (column, _), old, new in zip(COLUMNS, before, texts, strict=True):
                    if old != new:
                        # Only a text wider than its column widens it. Any narrower one would make Textual
                        # measure every cell of the column again, a cost that grows with the rows: it was most
                        # of the event loop's lag while hundreds of connections came and went.
                        wider = cell_len(new) > self.columns[ColumnKey(column)].content_width
                        self.update_cell(key, column, Text(new, style=self._style(column, new)), update_width=wider)
            self._shown[key] = texts

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> SegmentLines:
        """A cell as DataTable renders it, from a cache that outlives other cells' changes.

        DataTable forgets every rendered cell whenever any cell changes or a row is added, and renders
        each one again (about 0.1 ms a cell here): with connections coming and going, a table that
        changes ten times a second cost more than the whole frame. A cell's picture depends only on
        what is keyed here, so an unchanged cell is not rendered again.
        """
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        if row_key is None or column_key is None:  # the header, or a row on its way out
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        value = self._data[row_key][column_key]
        key = (row_index, column_key, value.plain, str(value.style), base_style, width, cursor, hover,
               self._show_hover_cursor, self.show_cursor, self._pseudo_class_state, self.app.theme)  # fmt: skip
        lines = self._kept_cells.get(key)
        if lines is None:
            lines = super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
            self._kept_cells[key] = lines
        return lines

    @staticmethod
    def _style(column: str, text: str) -> str:
        if column == "open" and text == "closed":
            return "dim"
        if column == "now" and text.startswith("blocked"):
            return "bold"
        return ""

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
