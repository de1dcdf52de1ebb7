"""The wire: TCP segments on loopback, in time with the calls that caused them.

The capture modules are imported only when the pane first opens, so they cost
start-up nothing. Which segments get a line and which are summed up, and where
each call goes between them, is decided in the capture's reader process; this
pane only draws the lines it delivers.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Unpack

from rich.style import Style
from rich.text import Text
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import Reactive
from textual.strip import Strip
from textual.timer import Timer
from textual.widgets import RichLog

from sockviz.core.model.lazy_dataclass import lazy_dataclass
from sockviz.core.story.owners import owner_of
from sockviz.widgets.inks import ink
from sockviz.widgets.options import WidgetOptions

if TYPE_CHECKING:
    from sockviz.core import Session
    from sockviz.core.story.wire import Delivery, Wire

NOTHING_CAPTURED = "nothing captured: open the wire view (w) first"

MAX_LINES = 5000
"""Lines the pane keeps: the oldest go."""

_KINDS = frozenset({"aside", "flags", "reset", "note", "dropped"})
"""The kinds of a line's parts that have a component class here (`sockviz.core.story.wire_text`)."""

WireText = tuple[float, tuple[tuple[str, str], ...]]
"""A line drawn: when it happened, and its parts."""


@lazy_dataclass
class WireSegments(Message):
    """What the capture delivered: its lines, and how many frames the kernel dropped."""

    delivery: Delivery
    source: Wire
    """The capture it came from: a reset's old capture may still deliver its last lines to the new pane."""


class WirePane(RichLog):
    """The wire view."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "wire-pane--aside",
        "wire-pane--flags",
        "wire-pane--reset",
        "wire-pane--note",
        "wire-pane--dropped",
    }
    """
    | Class | Description |
    | :- | :- |
    | `wire-pane--aside` | The time, the calls between the segments, and a segment's numbers. |
    | `wire-pane--flags` | Flags other than a plain ACK: SYN, FIN and the like. |
    | `wire-pane--reset` | A segment with RST. |
    | `wire-pane--note` | "sent again", a summed-up run of segments, why nothing is captured. |
    | `wire-pane--dropped` | Frames the kernel dropped, and a capture that ended on its own. |
    """
    DEFAULT_CSS = """
    WirePane {
        display: none;
        border: round $accent;
    }
    WirePane:focus {
        border: round $primary;
    }
    WirePane > .wire-pane--aside { color: $text-muted; }
    WirePane > .wire-pane--flags { text-style: bold; }
    WirePane > .wire-pane--reset { color: $text-error; text-style: bold; }
    WirePane > .wire-pane--note { text-style: italic; }
    WirePane > .wire-pane--dropped { text-style: bold; }
    """

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)
    """RichLog's, with no layout of the screen when it changes: the pane's size is the screen's to give, and
    its lines change only how far it scrolls. With Textual's own, every delivery of lines during a bulk send
    laid the whole screen out again (about 12 ms of the UI thread each, at 160x50, with the send waiting)."""

    def watch_virtual_size(self, size: Size) -> None:
        """Move the scrollbar (one that must appear still lays the screen out) and draw the new lines: RichLog
        leaves the repaint to the layout."""
        self._scroll_update(size)
        self.refresh()

    def render_lines(self, crop: Region) -> list[Strip]:
        """RichLog reads the pane's style (a walk over its ancestors) and its width for every row it draws, which
        after a delivery's scroll is every row on screen: read them once for the drawing instead."""
        self._drawing = (self.rich_style, self.scrollable_content_region.width)
        try:
            return super().render_lines(crop)
        finally:
            self._drawing = None

    def render_line(self, y: int) -> Strip:
        if self._drawing is None:
            return super().render_line(y)
        style, width = self._drawing
        scroll_x, scroll_y = self.scroll_offset
        return self._render_line(scroll_y + y, scroll_x, width).apply_style(style)

    def __init__(self, **kwargs: Unpack[WidgetOptions]) -> None:
        # min_width: RichLog renders at least 78 columns wide and crops the rest, so in a narrower pane a long
        # line lost its middle ("b'Hello," then "are an ama'…"); each line wraps at the pane's own width instead.
        super().__init__(markup=False, highlight=False, wrap=True, min_width=1, max_lines=MAX_LINES, **kwargs)
        self.border_title = "wire (lo)"
        self.wire: Wire | None = None
        self._session: Session | None = None
        self.lines_shown = 0
        """Lines of the wire given so far (not counting a note on why there are none)."""
        self._hidden_lines: deque[Text] = deque(maxlen=MAX_LINES)
        """Lines that came while the pane was hidden (a follower's, before its `w`), a delivery's together: drawn
        when it shows, the newest MAX_LINES writes of them, instead of each costing a render (or piling up
        unbounded in a RichLog that has never been shown)."""
        self._hold_for = 0.0
        """While a bulk transfer's bytes are on their way: how long a delivery may wait to be drawn (0: not)."""
        self._held: list[Sequence[tuple[str, str]]] = []
        """The lines of the deliveries that wait, as their parts, in the order they came."""
        self._held_timer: Timer | None = None
        self._drawing: tuple[Style, int] | None = None
        """While the pane draws: its style and width, the same for every row."""

    def start(self, session: Session, post: Callable[[Message], object]) -> None:
        """Begin capturing, or say in one sentence why it cannot (the pane shows now)."""
        self.show_hidden()
        if self.wire is not None:
            return
        from sockviz.core.story.wire import Wire  # only when the wire view first opens

        self._session = session
        wire = self.wire = Wire(session, lambda delivery: post(WireSegments(delivery, wire)))
        problem = self.wire.start()
        if problem:
            self.wire = None
            self.note(problem)

    def on_unmount(self) -> None:
        self.stop()

    def stop(self) -> None:
        """The pane is going away (a reset, quitting): its capture ends in the background, never holding the UI."""
        if self.wire is not None:
            self.wire.stop(wait=False)

    def show_delivery(self, delivery: Delivery, source: Wire) -> list[WireText]:
        """Draw a delivery of this pane's own capture (one from before a reset is another session's), or keep its
        lines for a moment while a transfer's bytes move (`hold`); returns its lines, each as its time and parts
        (for a recording and the followers)."""
        from sockviz.core.story.wire_text import line_at, wire_text

        if self._session is None or source is not self.wire:
            return []
        drawn = [(line_at(line), wire_text(line, self._who)) for line in delivery.lines]
        if self._hold_for or self._held:  # what waits goes first: the lines keep their order
            self._held.extend(parts for _, parts in drawn)
            if self._hold_for and self._held_timer is None:
                self._held_timer = self.set_timer(self._hold_for, self._draw_held)
            return drawn
        self._draw([parts for _, parts in drawn])
        return drawn

    def hold(self, seconds: float | None) -> None:
        """While a bulk transfer's bytes are on their way, a delivery waits until it ends, `seconds` at most: each
        drawing holds the GIL the transfer's threads need (a 256 MiB send here lasts about a tenth of a second,
        and its first segments came in the middle of it). None: what waits is drawn next (after the message being
        handled, not inside it), and what comes at once."""
        self._hold_for = seconds or 0.0
        if seconds is None and self._held:
            self.call_later(self._draw_held)

    def _draw_held(self) -> None:
        if self._held_timer is not None:
            self._held_timer.stop()
            self._held_timer = None
        held, self._held = self._held, []
        self._draw(held)

    def _draw(self, lines: Sequence[Sequence[tuple[str, str]]]) -> None:
        """A delivery's lines in one write: one measure and render, one new size and one scroll for all of them
        (a write a line measured, rendered and scrolled each of them)."""
        if not lines:
            return
        self.lines_shown += len(lines)
        self._write(Text("\n").join(self._text_of(parts) for parts in lines))
        if self.display and self.auto_scroll:
            # Once for the delivery, in this frame: RichLog's own scroll comes a frame after each write, which
            # drew the pane twice for every delivery.
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    def show_parts(self, parts: Sequence[tuple[str, str]]) -> None:
        """One line as its parts and their kinds (`aside`, `flags`...), as a follower or a replay gets the
        lecturer's. A kind this sockviz does not know is drawn plain."""
        self.lines_shown += 1
        self._write(self._text_of(parts), scroll=None)

    def _text_of(self, parts: Sequence[tuple[str, str]]) -> Text:
        return Text.assemble(*((text, ink(self, f"wire-pane--{kind}") if kind in _KINDS else "")
                               for text, kind in parts))  # fmt: skip

    def _write(self, text: Text, *, scroll: bool | None = False) -> None:
        if not self.display:
            self._hidden_lines.append(text)
            return
        self.show_hidden()
        # At the pane's width, which it wraps at anyway: RichLog would measure every word of the text first.
        self.write(text, width=self.scrollable_content_region.width or None, scroll_end=scroll)

    def show_hidden(self) -> None:
        """Draw the lines that came while the pane was hidden (it shows now)."""
        while self._hidden_lines:
            self.write(self._hidden_lines.popleft())

    def start_over(self) -> None:
        """A fresh session: the capture of the old one ends, its lines go, and the next `w` captures anew."""
        self.stop()
        self.wire = self._session = None
        self.hold(None)
        self._held.clear()
        self.clear()

    def note(self, text: str) -> None:
        """A sentence about the wire (why it has no lines), not a line of it."""
        self.write(Text(text, style=ink(self, "wire-pane--note")))

    def clear(self) -> WirePane:
        self.lines_shown = 0
        self._hidden_lines.clear()
        return super().clear()

    def _who(self, src: tuple[str, int], dst: tuple[str, int]) -> str:
        assert self._session is not None
        sockets = self._session.sockets
        return f"{owner_of(sockets, src, dst)} → {owner_of(sockets, dst, src)}"

    def export(self, path: Path, *, plain: bool = False) -> str:
        """Save the capture as pcapng (or plain pcap); the sentence for the log."""
        if self.wire is None:
            return NOTHING_CAPTURED
        return self.wire.export(path, plain=plain)
