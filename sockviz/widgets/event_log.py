"""The story of the session in time: one line per event, errors with their reason.

Lines are Rich Text built from plain strings, never parsed as markup, so
bytes from a peer (already escaped by the core) show exactly as they are.
A burst's thousand connects are summed up in one line when they are done.
While the log is hidden (a narrow screen gives its place to the timeline) its
lines wait, and are written at the log's real width once it shows again.
"""

from __future__ import annotations

from collections import deque

from rich.table import Table
from rich.text import Text
from textual import events
from textual.widgets import RichLog

from sockviz.core import Event
from sockviz.core.story.sentences import StoryLine, Storyteller

MAX_LINES = 10_000
"""Enough for a whole lecture; older lines go first."""


class EventLog(RichLog):
    """The event log."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(markup=False, highlight=False, wrap=True, min_width=40, max_lines=MAX_LINES, **kwargs)  # type: ignore[arg-type]
        self._storyteller = Storyteller()
        self._waiting: deque[StoryLine] = deque(maxlen=MAX_LINES)

    def show(self, event: Event) -> None:
        for line in self._storyteller.lines(event):
            if self.scrollable_content_region.width:
                self._write(line)
            else:  # hidden: written now, it would be wrapped to min_width and stay that way
                self._waiting.append(line)

    def fault(self, text: str) -> None:
        """A line about sockviz's own bug, apart from the socket story: it is not part of the lesson."""
        self.write(Text(text, style=self.app.theme_variables.get("text-error", "red"), overflow="fold"))

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
        }.get(line.kind, "")
        row = Table.grid(expand=True, padding=(0, 1, 0, 0))
        row.add_column(width=8, justify="right", style="dim")
        row.add_column(width=6, style=colours.get("text-accent" if line.side == "server" else "text-primary", ""))
        row.add_column(ratio=1, overflow="fold")  # a byte preview is one long word: fold it, never crop it
        text = Text(line.text, style=style, overflow="fold")
        if line.why:
            text.append("\nwhy: ", style="bold").append(line.why, style="italic")
        row.add_row(f"{line.at:.3f}", line.side, text)
        self.write(row, expand=True)
