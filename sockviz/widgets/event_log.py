"""The story of the session in time: one line per event, errors with their reason.

Lines are Rich Text built from plain strings, never parsed as markup, so
bytes from a peer (already escaped by the core) show exactly as they are.
A burst's thousand connects are summed up in one line when they are done.
While the log is hidden (a narrow screen gives its place to the timeline) its
lines wait, and are written at the log's real width once it shows again.
"""

from __future__ import annotations

from collections import deque
from typing import Unpack

from rich.text import Text
from textual import events
from textual.widgets import RichLog

from sockviz.core import Event
from sockviz.core.story.sentences import StoryLine, Storyteller
from sockviz.widgets.options import WidgetOptions

MAX_LINES = 10_000
"""Enough for a whole lecture; older lines go first."""
_INDENT = 16
"""The time (8 and a space) and the side (6 and a space) before each entry's text."""


class EventLog(RichLog):
    """The event log."""

    DEFAULT_CSS = """
    EventLog {
        border: round $secondary;
    }
    EventLog:focus {
        border: round $primary;
    }
    """

    def __init__(self, **kwargs: Unpack[WidgetOptions]) -> None:
        super().__init__(markup=False, highlight=False, wrap=True, min_width=40, max_lines=MAX_LINES, **kwargs)
        self._storyteller = Storyteller()
        self._waiting: deque[StoryLine] = deque(maxlen=MAX_LINES)
        self._pending: list[Text] = []
        """Entries made since the last frame: written together, in one render, once per frame."""

    def show(self, event: Event) -> None:
        for line in self._storyteller.lines(event):
            if self.scrollable_content_region.width:
                self._add(self._entry(line))
            else:  # hidden: written now, it would be wrapped to min_width and stay that way
                self._waiting.append(line)

    def fault(self, text: str) -> None:
        """A fault of sockviz itself (a worker or handler that raised): said in the log, never dropped in silence."""
        line = Text(text, style=self.app.theme_variables.get("text-error", ""), overflow="fold")
        line.append("\nwhy: ", style="bold").append("a bug in sockviz, not in your sockets; the app goes on", "italic")
        self._add(line)

    def on_resize(self, event: events.Resize) -> None:
        super().on_resize(event)
        while event.size.width and self._waiting:
            self._add(self._entry(self._waiting.popleft()))

    def _add(self, entry: Text) -> None:
        if not self._pending:
            self.call_after_refresh(self._write_pending)
        self._pending.append(entry)

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
        colours = self.app.theme_variables
        style = {
            "StepCalled": "bold",
            "StepBlocked": colours.get("text-warning", "yellow"),
            "StepReturned": colours.get("text-success", "green"),
            "StepFailed": colours.get("text-error", "red"),
            "StepRefused": colours.get("text-warning", "yellow"),
            "lesson": f"italic {colours.get('text-accent', '')}",
            "guide": "italic",
            "refused": colours.get("text-warning", "yellow"),
            "predict": f"bold {colours.get('text-accent', '')}",
        }.get(line.kind, "")
        text = Text(line.text, style=style)
        if line.why:
            text.append("\nwhy: ", style="bold").append(line.why, style="italic")
        width = max(self.scrollable_content_region.width - _INDENT, 20)
        entry = Text(no_wrap=True, overflow="crop", end="")
        entry.append(f"{line.at:8.3f} ", style="dim")
        side_colour = colours.get("text-accent" if line.side == "server" else "text-primary", "")
        entry.append(f"{line.side:<6} ", style=side_colour)
        for number, part in enumerate(text.wrap(self.app.console, width, overflow="fold")):
            if number:
                entry.append("\n" + " " * _INDENT)
            entry.append_text(part)
        return entry

    def write_line(self, line: StoryLine) -> None:
        """A line already told (a replay's, a follower's): written as the live log writes its own."""
        if self.scrollable_content_region.width:
            self._add(self._entry(line))
        else:
            self._waiting.append(line)

    def start_over(self) -> None:
        """Empty, as a fresh session's log is: a replay that steps back writes its lines again."""
        self.clear()
        self._pending.clear()
        self._waiting.clear()
        self._storyteller = Storyteller()

    def note(self, at: float, who: str, text: str, *, kind: str = "guide") -> None:
        """A line that is no socket event: the lesson's narration (`kind="lesson"`), the guide's word on what
        to press next (`"guide"`), or a value a field refused (`"refused"`). Plain text, never markup."""
        line = StoryLine(seq=-1, at=at, side=who, text=text, kind=kind)
        if self.scrollable_content_region.width:
            self._add(self._entry(line))
        else:
            self._waiting.append(line)
