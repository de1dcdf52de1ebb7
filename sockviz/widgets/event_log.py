"""The story of the session in time: one line per event, errors with their reason.

Lines are Rich Text built from plain strings, never parsed as markup, so
bytes from a peer (already escaped by the core) show exactly as they are.
A burst's thousand connects are summed up in one line when they are done.
While the log is hidden (a narrow screen gives its place to the timeline) its
lines wait, and are written at the log's real width once it shows again. When
its width changes (the lesson panel or the wire view opens beside it, the
terminal is resized) every entry is wrapped again: the newest at once, the
older ones a chunk per turn of the event loop, so keys and frames never wait
for ten thousand lines.

The log draws only the lines on screen. It keeps every line as runs of plain
text and style strings, not as drawn Textual lines: a drawn line holds seven
small caches, and ten thousand of them made most of the objects the garbage
collector walks in each full collection, which paused the event loop for 100
to 200 ms one to two times a second while connections came and went. A new
line changes only the scrollable height of a log whose own size is fixed, so it
costs no layout of the screen.

At about 400 lines this module is over the 350 the others keep to, for a reason: the writing, the
waiting lines, the re-wrapping and the drawing all work on one list of entries and one scroll position,
and each keeps the others' promises (the view stays where the reader left it while older lines are
wrapped again); split, that shared state would be passed between modules.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable
from typing import ClassVar, Unpack

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.reactive import Reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer

from sockviz.core import Event
from sockviz.core.story.next_steps import fitted
from sockviz.core.story.sentences import StoryLine, Storyteller
from sockviz.widgets.inks import ink
from sockviz.widgets.options import WidgetOptions
from sockviz.widgets.scrollbars import KeepsScrollBarLines
from sockviz.widgets.subtitle import GUIDE_MARGIN, set_subtitle

MAX_LINES = 10_000
"""Enough for a whole lecture; older lines go first."""
_INDENT = 16
"""The time (8 and a space) and the side (6 and a space) before each entry's text."""
MIN_WIDTH = 40
"""The narrowest an entry is wrapped to, however narrow the log."""
REWRAP_TURN = 0.004
"""Seconds of wrapping again per turn of the event loop after the log's width changed (an entry takes about a
tenth of a millisecond): the first turn, the newest entries, fills the screen at once whatever it takes; older
ones follow a turn at a time, so keys and frames go on meanwhile (10,000 lines took about a second at load 7)."""
WRITE_GAP = 0.05
"""The least time between two writes of new lines: twenty a second is more than anyone reads, and each write
redraws the whole log (it scrolls). A line after a quiet spell is written at once, in the next frame."""

_LOOK = {
    "StepCalled": "event-log--call",
    "StepBlocked": "event-log--blocked",
    "StepReturned": "event-log--returned",
    "StepFailed": "event-log--failed",
    "StepRefused": "event-log--refused",
    "refused": "event-log--refused",
    "lesson": "event-log--lesson",
    "guide": "event-log--guide",
    "predict": "event-log--predict",
}
"""A line's kind (its event's type, or a note's kind) to the component class it is drawn in."""

Runs = tuple[tuple[str, str], ...]
"""One line as (text, style) pairs of strings: nothing in it for the garbage collector to follow."""


class EventLog(KeepsScrollBarLines, ScrollView, can_focus=True):
    """The event log."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        *_LOOK.values(),
        "event-log--time",
        "event-log--server",
        "event-log--who",
        "event-log--why-label",
        "event-log--why",
        "event-log--fault",
    }
    """
    | Class | Description |
    | :- | :- |
    | `event-log--call` | A call as it starts: `s.accept()`. |
    | `event-log--blocked`, `--returned`, `--failed`, `--refused` | A call that blocks, returns, fails, or is refused. |
    | `event-log--lesson`, `--guide` | The lesson's narration; the guide's word on what to press next. |
    | `event-log--predict` | Predict mode: an answer, and the verdict on it. |
    | `event-log--time` | The session's clock before each entry. |
    | `event-log--server`, `--who` | The side column: the server's, and everyone else's (client, start, lesson). |
    | `event-log--why-label`, `--why` | "why:" and the reason under an entry. |
    | `event-log--fault` | A fault of sockviz itself. |
    """
    DEFAULT_CSS = """
    EventLog {
        background: $surface;
        color: $foreground;
        overflow-y: scroll;
        border: round $secondary;
        &:focus {
            background-tint: $foreground 5%;
        }
    }
    EventLog:focus {
        border: round $primary;
    }
    EventLog > .event-log--call { text-style: bold; }
    EventLog > .event-log--blocked { color: $text-warning; }
    EventLog > .event-log--returned { color: $text-success; }
    EventLog > .event-log--failed { color: $text-error; }
    EventLog > .event-log--refused { color: $text-warning; }
    EventLog > .event-log--lesson { color: $text-accent; text-style: italic; }
    EventLog > .event-log--guide { text-style: italic; }
    EventLog > .event-log--predict { color: $text-accent; text-style: bold; }
    EventLog > .event-log--time { color: $text-muted; }
    EventLog > .event-log--server { color: $text-accent; }
    EventLog > .event-log--who { color: $text-primary; }
    EventLog > .event-log--why-label { text-style: bold; }
    EventLog > .event-log--why { text-style: italic; }
    EventLog > .event-log--fault { color: $text-error; }
    """

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)
    """Widget's own, but with no layout of the screen when it changes: the log's size is the screen's to give,
    its lines change only how far it scrolls. A layout for every frame's lines cost a frame of its own."""

    def watch_virtual_size(self, size: Size) -> None:
        """Move the scrollbar, as Textual's layout would (a scrollbar that must appear still lays it out)."""
        self._scroll_update(size)

    def __init__(self, **kwargs: Unpack[WidgetOptions]) -> None:
        super().__init__(**kwargs)
        self._runs: deque[Runs] = deque(maxlen=MAX_LINES)
        self._dropped = 0
        """Lines dropped off the top (older lines go first): a drawn line is cached by its number since the start."""
        self._widest = 0
        self._drawn: LRUCache[tuple[int, int, int], Strip] = LRUCache(256)
        self._storyteller = Storyteller()
        self._waiting: deque[StoryLine] = deque(maxlen=MAX_LINES)
        self._last_write = 0.0
        """When new lines were last written (monotonic seconds)."""
        self._written: deque[StoryLine | str] = deque(maxlen=MAX_LINES)
        """What every entry shown says (a fault as its text), to draw them all again in a new theme's colours."""
        self._pending: list[list[tuple[str, str]]] = []
        """Lines made since the last write: written together, `write_gap` apart at most."""
        self._write_gap = WRITE_GAP
        self._write_timer: Timer | None = None
        """The timer of the next write, while lines wait for it (None: none waits, or they go in the next frame)."""
        self._write_queued = False
        """A write is queued for once the message being handled is done (the lines after a quiet spell)."""
        self._wrapped_at = 0
        """The width the lines were last wrapped to: another width (on a resize) wraps every entry again."""
        self._older: list[StoryLine | str] = []
        """Entries still to wrap again at the new width, oldest first: they are put back above the lines shown."""
        self._rewrapping = 0
        """Counts re-wraps begun: a chunk of an earlier one (the width changed again meanwhile) does nothing."""
        self._at_end = True
        self._guide = ""
        """The guide's line as it was said, before it was fitted to the border (`show_guide`)."""
        """The log was last scrolled to its end (new lines scroll it there): after a resize, which moves the end,
        it shows the end again; a log the reader scrolled up stays where it was."""

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, _theme: object) -> None:
        """A written line keeps the colours it was drawn in: on a new theme (high contrast for a projector),
        every entry is drawn again, so no old grey stays on a washed-out screen."""
        self._rewrap()

    @property
    def write_gap(self) -> float:
        """The least time between two writes now: the screen makes it longer while a bulk transfer's bytes move."""
        return self._write_gap

    @write_gap.setter
    def write_gap(self, gap: float) -> None:
        """A write that waits on a timer is timed again by the new gap: a line told a moment before a transfer's
        bytes began to move (a sendall() that blocks, in the same batch of events) was written 50 ms later, in
        the middle of the transfer, a drawing of the whole log with the transfer's threads waiting for the GIL;
        now it waits for the transfer's end like the lines after it (`flush`)."""
        self._write_gap = gap
        if self._write_timer is not None:
            self._write_timer.stop()
            self._write_timer = None
            self._write_soon()

    def show(self, event: Event) -> None:
        for line in self._storyteller.lines(event):
            self._tell(line)

    def _tell(self, line: StoryLine) -> None:
        """Write a line now, or keep it while the log has no width (written then, it would be wrapped to
        min_width and stay that way). Lines kept from before go first, so the order is always the story's:
        a narration written at once must not pass a call's line that waited for the width."""
        if not self.scrollable_content_region.width:
            self._waiting.append(line)
            return
        while self._waiting:
            self._add(self._waiting.popleft())
        self._add(line)

    def fault(self, text: str) -> None:
        """A fault of sockviz itself (a worker or handler that raised): said in the log, never dropped in silence."""
        self._add(text)

    def show_guide(self, guide: str) -> None:
        """The guide's `next:` line on the bottom border, shortened to fit it (`fitted`): whole again when the
        log is wider. Only the border line is drawn again (`set_subtitle`)."""
        self._guide = guide
        width = self.outer_size.width  # the border's, not the content's
        set_subtitle(self, fitted(guide, width - GUIDE_MARGIN) if width else guide)

    def on_resize(self, event: events.Resize) -> None:
        if self._guide:
            self.show_guide(self._guide)
        if self._at_end:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        self._fit_width()
        while self.scrollable_content_region.width and self._waiting:
            self._add(self._waiting.popleft())

    def _fit_width(self) -> None:
        """Wrap the entries again if the log's width is not the one they were wrapped to."""
        width = self.scrollable_content_region.width
        if width and self._written and width != self._wrapped_at:
            self._rewrap()

    def render_lines(self, crop: Region) -> list[Strip]:
        """Drawn at a width the lines were not wrapped to: Textual 8 can narrow a widget (the lesson panel or
        the wire view opening beside it) without a Resize, so the frame itself asks for the wrap, once."""
        if self._written and self.scrollable_content_region.width not in (self._wrapped_at, 0):
            self.call_later(self._fit_width)
        return super().render_lines(crop)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._at_end = new_value >= self.max_scroll_y

    def _rewrap(self) -> None:
        """Wrap every entry again at the log's width now (or in a new theme's colours): the newest chunk at once,
        the older ones a chunk per turn of the event loop (`_wrap_older`), each put back above the lines shown.
        Lines that wait for their write are in `_written` too, so they are wrapped with the rest."""
        self._rewrapping += 1
        from_end = 0 if self._at_end else max(self.max_scroll_y - round(self.scroll_y), 0)  # what was in view
        self._older = list(self._written)
        self._pending = []
        self._runs.clear()
        self._dropped = 0
        self._widest = 0
        self._wrapped_at = self.scrollable_content_region.width
        self._wrap_older(self._rewrapping, from_end=from_end)

    def _wrap_older(self, rewrapping: int, *, from_end: int | None = None) -> None:
        """Put the next chunk of older entries, wrapped at the log's width, above the lines there, keeping in view
        what was in view: the first chunk as far from the end as the view was (the newest lines when it was at
        the end), each later one by scrolling down past the lines it put above."""
        if rewrapping != self._rewrapping or not self._older:
            return
        width = max(self.scrollable_content_region.width, MIN_WIDTH)
        chunk: list[Runs] = []
        room = MAX_LINES - len(self._runs)  # a full log drops its oldest lines: they are not wrapped at all
        screenful = 0 if self._runs else 2 * self.size.height  # the first turn fills the view, and one above it
        until = time.monotonic() + REWRAP_TURN
        while self._older and len(chunk) < room and (len(chunk) < screenful or time.monotonic() < until):
            chunk[:0] = self._filled(self._lines_of(self._older.pop()), width)
        if len(chunk) >= room:
            chunk = chunk[len(chunk) - room :]
            self._older = []
        if from_end is None:
            from_end = 0 if self.scroll_y >= self.max_scroll_y else None
        y = round(self.scroll_y) + len(chunk)
        self._runs.extendleft(reversed(chunk))
        self._drawn.clear()  # every line's number moved
        self._widest = max(self._widest, width)
        self.virtual_size = Size(self._widest, len(self._runs))
        if from_end is not None:
            y = max(self.max_scroll_y - from_end, 0)
        self.scroll_to(y=y, animate=False, immediate=True)
        self.refresh()
        if self._older:
            self.call_later(self._wrap_older, rewrapping)

    def _lines_of(self, source: StoryLine | str) -> list[list[tuple[str, str]]]:
        return self._entry(source) if isinstance(source, StoryLine) else self._fault_lines(source)

    @staticmethod
    def _filled(lines: list[list[tuple[str, str]]], width: int) -> list[Runs]:
        """Each line filled with spaces to the log's width, as kept."""
        filled = []
        for runs in lines:
            length = sum(cell_len(text) for text, _ in runs)
            if length < width:
                runs.append((" " * (width - length), ""))
            filled.append(tuple(runs))
        return filled

    def _add(self, source: StoryLine | str) -> None:
        """Draw an entry now, at the log's width (a StoryLine, or a fault's text), and write it soon."""
        self._written.append(source)
        self._wrapped_at = self._wrapped_at or self.scrollable_content_region.width  # a resize sets it again
        lines = self._lines_of(source)
        if not self._pending:
            self._write_soon()
        self._pending.extend(lines)

    def _write_soon(self) -> None:
        """The lines that wait are written `write_gap` after the last write, or, after a quiet spell, once the
        message being handled is done: in the same frame as what else it changed (the table's row, a pane's
        Cancel). Written after that frame instead (as they were), the call a user just made drew the screen
        twice, the second time only for the log: during a bulk send, a second drawing with its threads waiting."""
        wait = self._last_write + self._write_gap - time.monotonic()
        if wait > 0:
            self._write_timer = self.set_timer(wait, self._write_pending)
        else:
            self._write_queued = True
            self.call_later(self._write_if_queued)

    def _write_if_queued(self) -> None:
        """The write after a quiet spell, unless a `flush` wrote its lines first (the next lines keep their pace)."""
        if self._write_queued:
            self._write_pending()

    def flush(self) -> None:
        """Write the lines that wait for their turn now (a picture of the screen, say, must not wait for them)."""
        self._write_pending()

    def _write_pending(self) -> None:
        """Hundreds of entries a second (connections coming and going) cost one write per WRITE_GAP at most:
        each line filled to the log's width, added at the bottom, and the log scrolled to it."""
        self._write_queued = False
        if self._write_timer is not None:
            self._write_timer.stop()
            self._write_timer = None
        if not self._pending:
            return
        self._last_write = time.monotonic()
        lines, self._pending = self._pending, []
        width = max(self.scrollable_content_region.width, MIN_WIDTH)
        for runs in self._filled(lines, width):
            if len(self._runs) == MAX_LINES:
                self._dropped += 1
            self._runs.append(runs)
        self._widest = max(self._widest, width)
        self.virtual_size = Size(self._widest, len(self._runs))
        # At once, in this frame: deferred (immediate=False), the scroll came a frame later and the log was drawn
        # twice for every write, once with the new lines below the view and once scrolled to them.
        self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.refresh()

    def clear(self) -> None:
        self._rewrapping += 1
        self._older = []
        self._wrapped_at = 0
        self._written.clear()
        self._runs.clear()
        self._dropped = 0
        self._widest = 0
        self._drawn.clear()
        self.virtual_size = Size(0, 0)
        self.refresh()

    @property
    def lines(self) -> list[Strip]:
        """Every line, drawn (for tests and scripts: the log itself draws only the lines on screen)."""
        return [self._strip(runs) for runs in self._runs]

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._drawn.clear()

    def render_line(self, y: int) -> Strip:
        """Line `y` on screen: drawn once, cut to the view, the log's own colours beneath."""
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        if index >= len(self._runs):
            return Strip.blank(width, self.rich_style)
        key = (index + self._dropped, scroll_x, width)
        line = self._drawn.get(key)
        if line is None:
            base = self.rich_style
            line = self._strip(self._runs[index]).crop_extend(scroll_x, scroll_x + width, base).apply_style(base)
            self._drawn[key] = line
        return line

    @staticmethod
    def _strip(runs: Runs) -> Strip:
        return Strip([Segment(text, Style.parse(style) if style else None) for text, style in runs])

    def _entry(self, line: StoryLine) -> list[list[tuple[str, str]]]:
        """One entry's lines: time and side in fixed columns, the text wrapped beside them (a long byte preview
        folded, never cropped). Wrapped by hand: a Rich table per entry cost about 1 ms, which hundreds of
        entries a second (connections coming and going) turned into the event loop's lag."""
        look = _LOOK.get(line.kind)
        text = Text(line.text, style=ink(self, look) if look else "")
        if line.why:
            text.append("\nwhy: ", style=ink(self, "event-log--why-label")).append(
                line.why, ink(self, "event-log--why")
            )
        width = max(self.scrollable_content_region.width - _INDENT, 20)
        time_style = str(ink(self, "event-log--time"))
        side_style = str(ink(self, "event-log--server" if line.side == "server" else "event-log--who"))
        console = self.app.console
        lines = []
        for number, part in enumerate(text.wrap(console, width, overflow="fold")):
            first = [(f"{line.at:8.3f} ", time_style), (f"{line.side:<6} ", side_style)] if not number else []
            lines.append(first or [(" " * _INDENT, "")])
            lines[-1] += _runs(Segment.apply_style(part.render(console), console.get_style(part.style)))
        return lines

    def _fault_lines(self, text: str) -> list[list[tuple[str, str]]]:
        entry = Text(text, style=ink(self, "event-log--fault"), overflow="fold")
        entry.append("\nwhy: ", style=ink(self, "event-log--why-label"))
        entry.append("a bug in sockviz, not in your sockets; the app goes on", ink(self, "event-log--why"))
        console = self.app.console
        options = console.options.update_width(max(self.scrollable_content_region.width, MIN_WIDTH))
        return [_runs(segments) for segments in console.render_lines(entry, options, pad=False, new_lines=False)]

    def write_line(self, line: StoryLine) -> None:
        """A line already told (a replay's, a follower's): written as the live log writes its own."""
        self._tell(line)

    def start_over(self) -> None:
        """Empty, as a fresh session's log is: a replay that steps back writes its lines again."""
        self.clear()
        self._pending.clear()
        self._waiting.clear()
        self._storyteller = Storyteller()

    def says(self) -> list[tuple[str, str, str]]:
        """Each entry (side, text, kind), the written and those waiting for the log's width: what the log says
        now, wrapped at any width (a caller that would write the same again can leave it)."""
        entries = [*self._written, *self._waiting]
        return [(e.side, e.text, e.kind) if isinstance(e, StoryLine) else ("", e, "fault") for e in entries]

    def note(self, at: float, who: str, text: str, *, kind: str = "guide") -> None:
        """A line that is no socket event: the lesson's narration (`kind="lesson"`), the guide's word on what
        to press next (`"guide"`), or a value a field refused (`"refused"`). Plain text, never markup."""
        self._tell(StoryLine(seq=-1, at=at, side=who, text=text, kind=kind))


def _runs(segments: Iterable[Segment]) -> list[tuple[str, str]]:
    """Drawn segments as (text, style) strings, the form a line is kept in."""
    return [(segment.text, str(segment.style or "")) for segment in segments if not segment.control and segment.text]
