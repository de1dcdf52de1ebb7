"""The story of the session in time: one line per event, errors with their reason.

Lines are Rich Text built from plain strings, never parsed as markup, so
bytes from a peer (already escaped by the core) show exactly as they are.
A burst's thousand connects are summed up in one line when they are done.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import RichLog

from sockviz.core import (
    BurstStarted,
    Event,
    SocketAdded,
    StepBlocked,
    StepCalled,
    StepFailed,
    StepFinished,
    StepRefused,
    StepReturned,
)
from sockviz.core.story import BurstTally, reason, tell

MAX_LINES = 10_000
"""Enough for a whole lecture; older lines go first."""


class EventLog(RichLog):
    """The event log."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(markup=False, highlight=False, wrap=True, min_width=40, max_lines=MAX_LINES, **kwargs)  # type: ignore[arg-type]
        self._bursts: dict[int, BurstTally] = {}

    def show(self, event: Event) -> None:
        if isinstance(event, SocketAdded):
            return  # the table shows it; the step's own line says so
        if isinstance(event, BurstStarted):
            self._bursts[event.call.id] = BurstTally(event.count)
            return
        call = getattr(event, "call", None)
        if call is not None and call.burst_of is not None:
            self._tally(call.burst_of, event)
            return
        self._write(event.at, self._side(event), tell(event), self._style(event), reason(event))

    def _tally(self, burst: int, event: Event) -> None:
        tally = self._bursts.get(burst)
        if tally is None or not isinstance(event, StepFinished):
            return
        tally.add(event)
        if tally.done:
            del self._bursts[burst]
            self._write(event.at, "client", tally.tell(), self._style(event), None)

    def _style(self, event: Event) -> str:
        colours = self.app.theme_variables
        return {
            StepCalled: "bold",
            StepBlocked: colours.get("text-warning", "yellow"),
            StepReturned: colours.get("text-success", "green"),
            StepFailed: colours.get("text-error", "red"),
            StepRefused: colours.get("text-warning", "yellow"),
        }.get(type(event), "")

    def _write(self, at: float, side: str, story: str, style: str, why: str | None) -> None:
        colours = self.app.theme_variables
        row = Table.grid(expand=True, padding=(0, 1, 0, 0))
        row.add_column(width=8, justify="right", style="dim")
        row.add_column(width=6, style=colours.get("text-accent" if side == "server" else "text-primary", ""))
        row.add_column(ratio=1)
        text = Text(story, style=style)
        if why:
            text.append("\nwhy: ", style="bold").append(why, style="italic")
        row.add_row(f"{at:.3f}", side, text)
        self.write(row, expand=True)

    @staticmethod
    def _side(event: Event) -> str:
        call = getattr(event, "call", None)
        if call is not None:
            return call.step.side.value
        step = getattr(event, "step", None)
        return step.side.value if step is not None else ""
