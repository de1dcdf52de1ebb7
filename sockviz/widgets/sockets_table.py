"""Every socket of the session, one row each, refreshed in place.

Rows are keyed by the session's socket id, never by fd (fds are reused as soon
as a socket closes). The table is Textual's DataTable for everything but the
drawing: its rows, cursor, keys, mouse and messages are DataTable's own. Its
drawing is this module's, because DataTable forgets every rendered cell
whenever any cell changes or a row is added, and repaints itself whole: with
hundreds of connections coming and going, that was a frame of 25 to 150 ms.
Here only a row whose texts changed is drawn again, and only its line is
repainted; cells hold plain strings, so two thousand rows leave the garbage
collector nothing to walk but their keys. What each cell says is socket_rows.py's; this module draws.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, Unpack

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.reactive import Reactive
from textual.strip import Strip
from textual.widget import PseudoClasses
from textual.widgets import DataTable
from textual.widgets.data_table import Column, ColumnKey, RowKey

from sockviz.core import SocketSnapshot
from sockviz.core.engine.view import SocketView
from sockviz.core.story.activity import activity as activity  # the screen reads it from here
from sockviz.widgets.inks import ink
from sockviz.widgets.options import WidgetOptions
from sockviz.widgets.scrollbars import KeepsScrollBarLines, follow_scrollable_size
from sockviz.widgets.socket_rows import ADDRESSES, BLOCKED, COLUMNS, keep_last_addresses, row_texts

if TYPE_CHECKING:
    from sockviz.core.story.recording.sockets import SocketState

NEW_ROWS_PER_REFRESH = 200
"""New sockets added to the table per refresh at most: a burst's thousand rows come over a second or so."""

GAP = 1
"""Spaces after each column: one between two columns, as `ss` prints them (the border is the first's margin).
DataTable's padding of one a side made two, and at 130 columns the `now` of a TIME_WAIT or a blocked row was
cut."""


@dataclass
class SpacedColumn(Column):
    """A column as this table draws it: its text and one space after it, so the scrolling, the cursor and the
    clicks that DataTable works out from a column's width agree with the drawing."""

    def get_render_width(self, data_table: DataTable[Any]) -> int:
        return (self.content_width if self.auto_width else self.width) + GAP


class Look(NamedTuple):
    """What every line's picture depends on besides its own row, read once per frame."""

    pseudo_classes: PseudoClasses
    theme: str
    widths: tuple[int, ...]
    cursor_row: int
    hover_row: int
    width: int
    scroll_x: int


class SocketsTable(KeepsScrollBarLines, DataTable[str]):
    """The live table of sockets; the name column stays in view when the table scrolls sideways."""

    COMPONENT_CLASSES: ClassVar[set[str]] = DataTable.COMPONENT_CLASSES | {
        "sockets-table--closed",
        "sockets-table--blocked",
    }
    """
    | Class | Description |
    | :- | :- |
    | `sockets-table--closed` | "closed", and the addresses a closed socket last had. |
    | `sockets-table--blocked` | A call that is blocked now: `accept() blocked 3 s`. |
    """
    DEFAULT_CSS = """
    SocketsTable {
        height: 1fr;
        min-height: 6;
        border: round $secondary;
        scrollbar-size-horizontal: 1;
        scrollbar-size-vertical: 1;
    }
    /* From its first row on, both scrollbars stay, an empty track when there is nothing to scroll that way: a
       bar that came and went (a restart empties the table, its first rows or a burst's outgrow it again) laid
       the whole screen out each time, 15 to 38 ms of the lecturer's loop under load, and moved the last row or
       column in and out of view. Not before the first row: the empty table has nothing to scroll, and the two
       bars were 34M of the 1,978M instructions to the app's first frame. */
    SocketsTable.-had-rows {
        overflow-x: scroll;
        overflow-y: scroll;
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

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False, repaint=False)
    """Widget's own, but with no layout of the screen when it changes: the table's size is the screen's to
    give (`height: 1fr`), its rows change only how far it scrolls. Each added row laid the whole screen out.
    Nor a repaint of the whole table: what changed is repainted where it changes (new rows' lines, or the
    whole table when a column's width changed), not every line for each new row (2 ms a frame at 160x50)."""

    def watch_virtual_size(self, size: Size) -> None:
        """Move the scrollbars, as Textual's layout would (a scrollbar that must appear still lays it out)."""
        follow_scrollable_size(self, size)

    def __init__(self, **kwargs: Unpack[WidgetOptions]) -> None:
        self._lines: LRUCache[tuple[object, ...], Strip] = LRUCache(256)
        """Drawn lines, by everything a line's picture depends on: a few screens' worth."""
        self._look: Look | None = None
        self._styles: dict[str, Style] = {}
        # (made before DataTable's own __init__, which clears the caches when it sets its columns)
        super().__init__(cursor_type="row", zebra_stripes=True, fixed_columns=1, **kwargs)
        self._shown: dict[str, dict[str, str]] = {}
        self._closed_rows: set[str] = set()
        self._held: list[str] = []
        """Keys of the rows above the session's own: connections of the session before a reset that the kernel
        still holds (`show_held`). They are the table's first rows, so row N + len(held) is the session's Nth."""
        self._widths: defaultdict[ColumnKey, Counter[int]] = defaultdict(Counter)
        """Each column's tally of its cells' widths (width: how many cells), so a column follows what is on the
        table now, as narrow as its widest cell: found in a few keys, not in every row."""
        self._measured: dict[RowKey, tuple[int, ...]] = {}
        """Each measured row's cells' widths, in column order, as the tallies count them."""
        self._row_renderable_cache = LRUCache(16)
        """DataTable's cells made Rich Texts, for measuring new rows: a thousand rows' worth by default (twelve
        thousand Texts, and more objects than anything else for the garbage collector to walk). New rows are
        measured once, a frame's few at a time."""

    def on_mount(self) -> None:
        for key, title in COLUMNS:
            column = self.columns[self.add_column(title, key=key)]
            self.columns[column.key] = SpacedColumn(
                column.key, column.label, column.width, column.content_width, column.auto_width
            )
        self.app.theme_changed_signal.subscribe(self, self._restyle)  # sent once the new theme's styles apply

    def _restyle(self, _theme: object = None) -> None:
        """A new theme (f2, high contrast): every line is drawn again in its colours, not only new ones."""
        self._styles.clear()
        self._lines.clear()
        self.refresh()

    def start_over(self) -> None:
        """No rows, as for a fresh session: a replay that steps back shows the sockets of that moment only."""
        self.clear()
        self._shown.clear()
        self._closed_rows.clear()
        self._held.clear()
        self._lines.clear()

    # ----- the rows ----------------------------------------------------------

    def show(self, rows: Iterable[tuple[SocketView | SocketState, SocketSnapshot, str]]) -> None:
        """Bring the table up to date, writing only what changed and repainting only the rows it changed."""
        for tracked, snap, doing in rows:
            key = str(tracked.id)
            texts = row_texts(tracked, snap, doing)
            before = self._shown.get(key)
            just_closed = snap.closed and key not in self._closed_rows  # its address cells change style
            if snap.closed:
                self._closed_rows.add(key)
                keep_last_addresses(texts, tracked, before)
            if before is None:
                self.add_row(*(texts[column] for column, _ in COLUMNS), key=key)
            elif before != texts or just_closed:
                self._write_row(key, before, texts)
            self._shown[key] = texts
        self._keep_scrollbars()

    def _keep_scrollbars(self) -> None:
        """The table's scrollbars come with its first row and stay, through every restart (`-had-rows`)."""
        if self.row_count and not self.has_class("-had-rows"):
            self.add_class("-had-rows")

    def show_held(self, rows: Iterable[tuple[str, SocketView | SocketState]]) -> None:
        """Rows for connections of the session before a reset that the kernel still holds, by their own keys:
        shown as closed rows are, their `now` saying `pre-reset`, and removed once the kernel drops them.
        Given before the session's first row (a fresh table's first refresh), they stay the table's first rows."""
        wanted = dict(rows)
        for key in [key for key in self._held if key not in wanted]:
            self._held.remove(key)
            self._shown.pop(key, None)
            self._closed_rows.discard(key)
            self.remove_row(key)
        if not wanted:
            return
        from sockviz.core.story.recording.sockets import SocketState  # loaded with the first held row, not at start

        for key, tracked in wanted.items():
            if key not in self._held and self.row_count > len(self._held):
                continue  # the session has rows already: a held row is only ever put above them, never below
            snap = tracked.snapshot if isinstance(tracked, SocketState) else tracked.snapshot(with_repr=False)
            texts = row_texts(tracked, snap, "—")  # a recorded one (a replay, a follower) or a live one
            texts["now"] = f"{texts['now']} (pre-reset)" if texts["now"] != "—" else "held (pre-reset)"
            keep_last_addresses(texts, tracked)
            before = self._shown.get(key)
            if before is None:
                self._held.append(key)
                self._closed_rows.add(key)
                self.add_row(*(texts[column] for column, _ in COLUMNS), key=key)
            elif before != texts:
                self._write_row(key, before, texts)
            self._shown[key] = texts
        self._keep_scrollbars()

    def _write_row(self, key: str, before: dict[str, str], texts: dict[str, str]) -> None:
        """Write a row's changed cells in place. Only its line is repainted, unless a column's width changed
        with it (wider, or narrower when its widest cell shrank): then the table is laid out and repainted
        whole. DataTable's update_cell would have it forget every drawn cell for any change."""
        cells = self._cells(key)
        for column, _ in COLUMNS:
            if before[column] != texts[column]:
                cells[ColumnKey(column)] = texts[column]
        row_key = RowKey(key)
        if row_key in self._measured:  # else it is measured with the new rows, once the table is idle
            self._measure(row_key, cells)
            changed = self._fit_columns()
            if changed:
                self._size_to_columns()
            if self._moves_cells(changed):
                self.refresh()
                return
        self.refresh_lines(self.header_height + self.get_row_index(key))

    def _moves_cells(self, changed: list[int]) -> bool:
        """Whether columns whose width changed move what other lines show: any but the last (`now`, which changes
        most: `idle`, `recv() blocked 2 s`) moves the columns after it. The last one's width only pads its cells
        with spaces of their row's colour before the line's filling ones, so the other lines look the same as
        drawn, and only the changed line is drawn again (the whole table was 2 to 3 ms of a frame at 160x50)."""
        return any(index != len(self.ordered_columns) - 1 for index in changed)

    def _measure(self, row_key: RowKey, cells: dict[ColumnKey, str]) -> None:
        """Count the row's cells' widths in their columns' tallies, in place of what it had."""
        self._forget(row_key)
        widths = tuple(cell_len(str(cells.get(column.key, ""))) for column in self.ordered_columns)
        self._measured[row_key] = widths
        for column, width in zip(self.ordered_columns, widths, strict=True):
            self._widths[column.key][width] += 1

    def _forget(self, row_key: RowKey) -> None:
        widths = self._measured.pop(row_key, None)
        if widths is None:
            return
        for column, width in zip(self.ordered_columns, widths, strict=True):
            tally = self._widths[column.key]
            tally[width] -= 1
            if not tally[width]:
                del tally[width]

    def _fit_columns(self) -> list[int]:
        """Each column as wide as its widest cell on the table now (or its title): a long `now` that got short
        again gives the columns after it their place back. The places of the columns whose width changed."""
        changed = []
        for index, column in enumerate(self.ordered_columns):
            wanted = max(cell_len(str(column.label)), max(self._widths[column.key], default=0))
            if column.content_width != wanted:
                column.content_width = wanted
                changed.append(index)
        return changed

    def _size_to_columns(self) -> None:
        width = sum(column.get_render_width(self) for column in self.columns.values())
        self.virtual_size = Size(width, self._total_row_height + (self.header_height if self.show_header else 0))

    def _cells(self, key: str) -> dict[ColumnKey, str]:
        """The row's cells by column, to write in place (DataTable keeps them in this dict)."""
        return self._data[RowKey(key)]

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        """New rows measured as what they are, plain strings: DataTable made every cell a Rich Text from markup
        to measure it, a third of a millisecond a row, and a burst's thousand new rows held one frame for 300 to
        400 ms. Rows are one line high and have no labels, so the widths and the scrollable size are all."""
        removed = len(self._measured) > len(self._data)
        if removed:  # rows were removed (a held row, a clear): their cells go
            for row_key in [key for key in self._measured if key not in self._data]:
                self._forget(row_key)
        added = [index for index in map(self._row_locations.get, new_rows) if index is not None]
        for row_key in new_rows:
            cells = self._data.get(row_key)
            if cells is not None:  # (else removed before the table was idle)
                self._measure(row_key, cells)
        moved = self._moves_cells(self._fit_columns())
        if moved:
            self._clear_caches()
        self._size_to_columns()
        if moved or removed:
            self.refresh()  # every line moved, or the rows below a removed one
        elif added:  # rows are added below the others: only their lines are new
            self.refresh_lines(self.header_height + min(added), self.row_count - min(added))

    @property
    def _total_row_height(self) -> int:
        """Every row is one line high (rows are added with DataTable's default height). DataTable counts the
        lines of every row again after each added row, a cost that grows with the table: with a thousand
        connections coming and going it was a sixth of the event loop's work."""
        return self.row_count

    def rows_to_refresh(self, count: int) -> list[int]:
        """Which of `count` sockets (in table order) need reading now: those on screen, and new ones, up to
        NEW_ROWS_PER_REFRESH of them (the next refresh, a quarter of a second later at most, adds more).

        Rows scrolled out of view keep their last values until they come back, so a
        table of two thousand sockets costs a refresh of the thirty that show; a burst's thousand
        new rows, added in one refresh, held the event loop for 40 ms and more.
        """
        first = int(self.scroll_y) - len(self._held)  # the held rows above are not the session's
        visible = range(max(first, 0), min(count, first + self.scrollable_content_region.height + 1))
        known = self.row_count - len(self._held)
        return sorted(set(visible).union(range(known, min(count, known + NEW_ROWS_PER_REFRESH))))

    def socket_id_at_cursor(self) -> int | None:
        if not self.row_count:
            return None
        return self.socket_id(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value)

    def socket_id(self, key: str | None) -> int | None:
        """The session's socket a row shows, by the row's key; None for a row held from before a reset."""
        return None if key is None or key in self._held else int(key)

    # ----- drawing -------------------------------------------------------------

    def notify_style_update(self) -> None:
        """A new theme (f2, high contrast): every line is drawn again with the new styles."""
        super().notify_style_update()
        self._styles.clear()
        self._lines.clear()

    def _clear_caches(self) -> None:
        """DataTable forgets its drawn cells (a clear, a sort, a new theme): the drawn lines go with them."""
        super()._clear_caches()
        self._styles.clear()
        self._lines.clear()

    def render_lines(self, crop: Region) -> list[Strip]:
        pseudo_classes = self.get_pseudo_class_state()
        if self._look and self._look.pseudo_classes != pseudo_classes:  # focus came or went: other styles
            self._styles.clear()
        self._look = self._read_look(pseudo_classes)
        return super().render_lines(crop)

    def _read_look(self, pseudo_classes: PseudoClasses) -> Look:
        return Look(
            pseudo_classes,
            self.app.theme,
            tuple(column.content_width for column in self.ordered_columns),
            self.cursor_row if self.show_cursor else -1,
            self.hover_row if self._show_hover_cursor else -1,
            self.size.width,
            int(self.scroll_x),
        )

    def render_line(self, y: int) -> Strip:
        """Line `y` of the widget: the header, or a row, cut to the widget with the name column fixed."""
        if y < self.header_height:
            return self._line(-1, tuple(str(column.label) for column in self.ordered_columns), closed=False)
        index = y - self.header_height + int(self.scroll_y)
        row_key = self._row_locations.get_key(index) if index < self.row_count else None
        if row_key is None:
            return self._blank()
        cells = self._data[row_key]
        texts = tuple(cells[column.key] for column in self.ordered_columns)
        return self._line(index, texts, closed=row_key.value in self._closed_rows)

    def _blank(self) -> Strip:
        """A line below the last row, in the table's background: drawn once for a look, not for each such line
        (the table's style worked out again for each, a third of an emptied table's repaint at 160x50)."""
        look = self._look or self._read_look(self.get_pseudo_class_state())
        key = ("below the rows", look)
        line = self._lines.get(key)
        if line is None:
            line = self._lines[key] = Strip.blank(look.width, self.rich_style)
        return line

    def forget_lines(self) -> None:
        """Draw every line again from now on (a test's full repaint, which must not be given kept lines)."""
        self._styles.clear()
        self._lines.clear()

    def _line(self, index: int, texts: tuple[str, ...], *, closed: bool) -> Strip:
        look = self._look or self._read_look(self.get_pseudo_class_state())  # or a line asked for outside a frame
        key = (index, texts, closed, look)
        line = self._lines.get(key)
        if line is None:
            line = self._lines[key] = self._draw(index, texts, closed, look)
        return line

    def _style(self, name: str) -> Style:
        """A component's style, got as DataTable gets it: a row's whole (its background over the table's), a
        cursor's as the cursor's, a cell's own as its ink (its colour and text style, over the row's background)."""
        style = self._styles.get(name)
        if style is None:
            if name.startswith("sockets-table--"):
                style = ink(self, name)
            elif name.endswith(("cursor", "hover")):
                style = self.get_component_rich_style(name)
            else:
                style = self.get_component_styles(name).rich_style
            self._styles[name] = style
        return style

    def _draw(self, index: int, texts: tuple[str, ...], closed: bool, look: Look) -> Strip:
        """One line as DataTable draws it, but with one space after each cell (GAP): the zebra stripe, the cursor
        and hover rows, the fixed name column, and the line filled to the widget's width; cells carry DataTable's
        row and column metadata, which its clicks and hovering read."""
        _, _, widths, cursor_row, hover_row, width, scroll_x = look
        header = index < 0
        cursor, hover = index == cursor_row and not header, index == hover_row and not header
        if header:
            row = self._style("datatable--header")
        else:
            row = self._style("datatable--odd-row" if index % 2 else "datatable--even-row")
        if hover:
            row += self._style("datatable--hover")
        pad = " " * GAP
        fixed: list[Segment] = []
        scrolled: list[Segment] = []
        for number, (column, text, content_width) in enumerate(zip(COLUMNS, texts, widths, strict=False)):
            if header:
                style = row
            else:
                style = row if number >= self.fixed_columns else self._style("datatable--fixed")
                style += self._cell_style(column[0], text, closed)
            if cursor:
                style += self._style("datatable--cursor")
                if number < self.fixed_columns:
                    style += self._style("datatable--fixed-cursor")
            style += Style.from_meta({"row": index, "column": number})
            cell = Segment(set_cell_size(text, content_width) + pad, style)
            (fixed if number < self.fixed_columns else scrolled).append(cell)
        fill = row + (self._style("datatable--cursor") if cursor else Style())
        fill += Style.from_meta({"row": index, "column": 0, "out_of_bounds": True})
        scrolled.append(Segment(" " * width, fill))
        fixed_width = sum(segment.cell_length for segment in fixed)
        line = Strip.join([Strip(fixed), Strip(scrolled).crop(scroll_x, scroll_x + max(width - fixed_width, 0))])
        return line.adjust_cell_length(width, self.rich_style).simplify()

    def _cell_style(self, column: str, text: str, closed: bool) -> Style:
        if closed and (column == "open" or column in ADDRESSES):
            return self._style("sockets-table--closed")
        if column == "now" and BLOCKED in text:
            return self._style("sockets-table--blocked")
        return Style()
