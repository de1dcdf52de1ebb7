"""The story of the session in time: one line per event, errors with their reason.

Lines are Rich Text built from plain strings, never parsed as markup, so
bytes from a peer (already escaped by the core) show exactly as they are.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import RichLog

from sockviz.core import Event, StepBlocked, StepCalled, StepFailed, StepRefused, StepReturned
from sockviz.core.events import SocketAdded
from sockviz.core.story import reason, tell

MAX_LINES = 10_000
"""Enough for a whole lecture; older lines go first."""


class EventLog(RichLog):
    """The event log."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(markup=False, highlight=False, wrap=True, min_width=40, max_lines=MAX_LINES, **kwargs)  # type: ignore[arg-type]

    def show(self, event: Event) -> None:
        if isinstance(event, SocketAdded):
            return  # the table shows it; the step's own line says so
        colours = self.app.theme_variables
        side = self._side(event)
        style = {
            StepCalled: "bold",
            StepBlocked: colours.get("text-warning", "yellow"),
            StepReturned: colours.get("text-success", "green"),
            StepFailed: colours.get("text-error", "red"),
            StepRefused: colours.get("text-warning", "yellow"),
        }.get(type(event), "")
        side_style = colours.get("text-accent" if side == "server" else "text-primary", "")
        row = Table.grid(expand=True, padding=(0, 1, 0, 0))
        row.add_column(width=8, justify="right", style="dim")
        row.add_column(width=6, style=side_style)
        row.add_column(ratio=1)
        story = Text(tell(event), style=style)
        why = reason(event)
        if why:
            story.append("\nwhy: ", style="bold").append(why, style="italic")
        row.add_row(f"{event.at:.3f}", side, story)
        self.write(row, expand=True)

    @staticmethod
    def _side(event: Event) -> str:
        call = getattr(event, "call", None)
        if call is not None:
            return call.step.side.value
        step = getattr(event, "step", None)
        return step.side.value if step is not None else ""
