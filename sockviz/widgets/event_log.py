"""The story of the session in time: one line per event, errors with their reason.

Lines are Rich Text built from plain strings, never parsed as markup, so
bytes from a peer (already escaped by the core) show exactly as they are.
A burst's thousand connects are summed up in one line when they are done.
While the log is hidden (a narrow screen gives its place to the timeline) its
lines wait, and are written at the log's real width once it shows again.
"""

from __future__ import annotations

from collections import deque
from typing import ClassVar, Self, Unpack

from rich.text import Text
from textual import events
from textual.widgets import RichLog

from sockviz.core import Event
from sockviz.core.story.sentences import StoryLine, Storyteller
from sockviz.widgets.inks import ink
from sockviz.widgets.options import WidgetOptions

MAX_LINES = 10_000
"""Enough for a whole lecture; older lines go first."""
_INDENT = 16
"""The time (8 and a space) and the side (6 and a space) before each entry's text."""
_LOOK = {
    "StepCalled": "event-log--call",
    "StepBlocked": "event-log--blocked",
    "StepReturned": "event-log--returned",
    "StepFailed": "event-log--failed",
    "StepRefused": "event-log--refused",
    "refused": "event-log--refused",
    "lesson": "event-log--lesson",
    "guide": "event-log--guide",
}
"""A line's kind (its event's type, or a note's kind) to the component class it is drawn in."""


class EventLog(RichLog):
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
    | `event-log--time` | The session's clock before each entry. |
    | `event-log--server`, `--who` | The side column: the server's, and everyone else's (client, start, lesson). |
    | `event-log--why-label`, `--why` | "why:" and the reason under an entry. |
    | `event-log--fault` | A fault of sockviz itself. |
    """
    DEFAULT_CSS = """
    EventLog {
        border: round $secondary;
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
    EventLog > .event-log--time { color: $text-muted; }
    EventLog > .event-log--server { color: $text-accent; }
    EventLog > .event-log--who { color: $text-primary; }
    EventLog > .event-log--why-label { text-style: bold; }
    EventLog > .event-log--why { text-style: italic; }
    EventLog > .event-log--fault { color: $text-error; }
    """

    def __init__(self, **kwargs: Unpack[WidgetOptions]) -> None:
        super().__init__(markup=False, highlight=False, wrap=True, min_width=40, max_lines=MAX_LINES, **kwargs)
        self._storyteller = Storyteller()
        self._waiting: deque[StoryLine] = deque(maxlen=MAX_LINES)
        self._pending: list[Text] = []
        """Entries made since the last frame: written together, in one render, once per frame."""
        self._written: deque[StoryLine | str] = deque(maxlen=MAX_LINES)
        """What every entry shown says (a fault as its text), to draw them all again in a new theme's colours."""

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, _theme: object) -> None:
        """A written line keeps the colours it was drawn in: on a new theme (high contrast for a projector),
        every entry is drawn again, so no old grey stays on a washed-out screen."""
        written = list(self._written)
        self.clear()
        self._pending = []
        for source in written:
            self._add(source)

    def clear(self) -> Self:
        self._written.clear()
        return super().clear()

    def show(self, event: Event) -> None:
        for line in self._storyteller.lines(event):
            if self.scrollable_content_region.width:
                self._add(line)
            else:  # hidden: written now, it would be wrapped to min_width and stay that way
                self._waiting.append(line)

    def fault(self, text: str) -> None:
        """A fault of sockviz itself (a worker or handler that raised): said in the log, never dropped in silence."""
        self._add(text)

    def on_resize(self, event: events.Resize) -> None:
        super().on_resize(event)
        while event.size.width and self._waiting:
            self._add(self._waiting.popleft())

    def _add(self, source: StoryLine | str) -> None:
        """Draw an entry now, at the log's width (a StoryLine, or a fault's text), and write it with the frame."""
        self._written.append(source)
        if not self._pending:
            self.call_after_refresh(self._write_pending)
        self._pending.append(self._entry(source) if isinstance(source, StoryLine) else self._fault_entry(source))

    def _fault_entry(self, text: str) -> Text:
        entry = Text(text, style=ink(self, "event-log--fault"), overflow="fold")
        entry.append("\nwhy: ", style=ink(self, "event-log--why-label"))
        return entry.append("a bug in sockviz, not in your sockets; the app goes on", ink(self, "event-log--why"))

    def _write_pending(self) -> None:
        """Hundreds of entries a second (connections coming and going) cost one write a frame, not hundreds."""
        if not self._pending:
            return
        entries, self._pending = self._pending, []
        width = max(self.scrollable_content_region.width, self.min_width)
        self.write(Text("\n", end="").join(entries), width=width)

    def _entry(self, line: StoryLine) -> Text:
        """One entry: time and side in fixed columns, the text wrapped beside them (a long byte preview
        folded, never cropped). Wrapped by hand into one Text: a Rich table per entry cost about 1 ms,
        which hundreds of entries a second (connections coming and going) turned into the event loop's lag."""
        look = _LOOK.get(line.kind)
        text = Text(line.text, style=ink(self, look) if look else "")
        if line.why:
            text.append("\nwhy: ", style=ink(self, "event-log--why-label")).append(
                line.why, ink(self, "event-log--why")
            )
        width = max(self.scrollable_content_region.width - _INDENT, 20)
        entry = Text(no_wrap=True, overflow="crop", end="")
        entry.append(f"{line.at:8.3f} ", style=ink(self, "event-log--time"))
        entry.append(
            f"{line.side:<6} ", style=ink(self, "event-log--server" if line.side == "server" else "event-log--who")
        )
        for number, part in enumerate(text.wrap(self.app.console, width, overflow="fold")):
            if number:
                entry.append("\n" + " " * _INDENT)
            entry.append_text(part)
        return entry

    def note(self, at: float, who: str, text: str, *, kind: str = "guide") -> None:
        """A line that is no socket event: the lesson's narration (`kind="lesson"`), the guide's word on what
        to press next (`"guide"`), or a value a field refused (`"refused"`). Plain text, never markup."""
        line = StoryLine(seq=-1, at=at, side=who, text=text, kind=kind)
        if self.scrollable_content_region.width:
            self._add(line)
        else:
            self._waiting.append(line)
