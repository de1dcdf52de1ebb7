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

from rich.table import Table
from rich.text import Text
from textual import events
from textual.widgets import RichLog

from sockviz.core import Event
from sockviz.core.story.sentences import StoryLine, Storyteller
from sockviz.widgets.options import WidgetOptions

MAX_LINES = 10_000
"""Enough for a whole lecture; older lines go first."""


class EventLog(RichLog):
    """The event log."""

    def __init__(self, **kwargs: Unpack[WidgetOptions]) -> None:
        super().__init__(markup=False, highlight=False, wrap=True, min_width=40, max_lines=MAX_LINES, **kwargs)
        self._storyteller = Storyteller()
        self._waiting: deque[StoryLine] = deque(maxlen=MAX_LINES)

    def show(self, event: Event) -> None:
        for line in self._storyteller.lines(event):
            if self.scrollable_content_region.width:
                self._write(line)
            else:  # hidden: written now, it would be wrapped to min_width and stay that way
                self._waiting.append(line)

    def fault(self, what: str, error: BaseException | None) -> None:
        """A fault of sockviz itself (a worker that raised): said in the log, never dropped in silence."""
        colours = self.app.theme_variables
        text = Text(f"sockviz fault in {what}: {type(error).__name__}: {error}", style=colours.get("text-error", ""))
        text.append("\nwhy: ", style="bold").append("a bug in sockviz, not in your sockets; the app goes on", "italic")
        self.write(text, expand=True)

    def on_resize(self, event: events.Resize) -> None:
        super().on_resize(event)
        while event.size.width and self._waiting:
            self._write(self._waiting.popleft())

    def _write(self, line: StoryLine) -> None:
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
        }.get(line.kind, "")
        row = Table.grid(expand=True, padding=(0, 1, 0, 0))
        row.add_column(width=8, justify="right", style="dim")
        row.add_column(width=6, style=colours.get("text-accent" if line.side == "server" else "text-primary", ""))
        row.add_column(ratio=1)
        text = Text(line.text, style=style)
        if line.why:
            text.append("\nwhy: ", style="bold").append(line.why, style="italic")
        row.add_row(f"{line.at:.3f}", line.side, text)
        self.write(row, expand=True)

    def note(self, at: float, who: str, text: str, *, kind: str = "guide") -> None:
        """A line that is no socket event: the lesson's narration (`kind="lesson"`), the guide's word on what
        to press next (`"guide"`), or a value a field refused (`"refused"`). Plain text, never markup."""
        line = StoryLine(seq=-1, at=at, side=who, text=text, kind=kind)
        if self.scrollable_content_region.width:
            self._write(line)
        else:
            self._waiting.append(line)
