"""Messages that come from threads: the session's events and a scenario's progress.

Each is a dataclass, as Toolong's are. A message that belongs to one widget is
nested in that widget's class, with `control`; these belong to no widget.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from sockviz.core import Event
from sockviz.core.model.transport import Transport


@dataclass
class SessionEvent(Message, bubble=False):
    """A core event, carried from whichever thread caused it to the UI thread.

    Never coalesced: the log, the timeline and the wire tell every event (the log
    sums a burst up itself). It does not bubble: the screen that hears it is the only
    one that wants it, and a thousand of them bubbling into the app's queue once held
    a ctrl+q behind them for seconds."""

    event: Event


@dataclass
class Narrated(Message):
    """A scenario's `say` line (or a failed `expect`), from the player's thread."""

    line: int
    text: str


@dataclass
class TransportChosen(Message):
    """A scenario's `transport` line ran: the top bar's switch shows what its socket() calls make now."""

    transport: Transport


@dataclass
class ScenarioState(Message):
    """The player's progress: its state when it changes (None: unchanged), the line it runs next, and
    that line's place among the lines that run (1 is the first; one past the last at the end)."""

    state: str | None
    next_line: str
    place: int = 0

    def can_replace(self, message: Message) -> bool:
        """A played scenario runs lines faster than frames: only the newest "next line" is worth drawing,
        but a change of state (ended, say) is never dropped."""
        return self.state is None and isinstance(message, ScenarioState)
