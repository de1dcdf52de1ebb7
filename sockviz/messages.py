"""Messages that come from threads: the session's events and a scenario's progress.

Each is a dataclass, as Toolong's are. A message that belongs to one widget is
nested in that widget's class, with `control`; these belong to no widget.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import field

from textual.message import Message

from sockviz.core import Event
from sockviz.core.model.lazy_dataclass import lazy_dataclass
from sockviz.core.model.transport import Transport


@lazy_dataclass
class SessionEvents(Message, bubble=False):
    """The session's events since the screen last took them, carried in order from whichever threads caused
    them to the UI thread: one message however many came meanwhile (see `EventBatches`).

    None is dropped or merged: the log, the timeline and the wire tell every event (the log sums a burst up
    itself). It does not bubble: the screen that hears it is the only one that wants it, and messages bubbling
    into the app's queue once held a ctrl+q behind them for seconds."""

    events: list[Event]


class EventBatches:
    """Gathers the session's events into `SessionEvents` messages, one waiting for the screen at a time.

    A message per event cost Textual's own handling, a tenth of a millisecond each, and a screen works
    through every message queued without letting the event loop run between them: the three thousand
    events of a 1,000-client burst held the loop for 300 to 400 ms at a time (keys, frames), and on a loaded
    machine Pilot once waited more than 30 s for the screen's queue. While a message waits, events join it;
    the screen takes its events (`take`) when it handles it, and the next event starts a new message; so
    does the next event after any other message posted to the screen (`seal`), which keeps the order.
    """

    def __init__(self, post: Callable[[Message], object]) -> None:
        self._post = post
        self._lock = threading.Lock()
        self._waiting: SessionEvents | None = None

    def add(self, event: Event) -> None:
        """From any thread (the session's listener: it must be quick)."""
        with self._lock:
            if self._waiting is not None:
                self._waiting.events.append(event)
                return
            self._waiting = message = SessionEvents([event])
        self._post(message)

    def seal(self) -> None:
        """Another message is being posted to the screen: events from now on go in a new message, behind it, so
        each keeps its place (a lesson's narration between the calls it explains, a lecturer's note)."""
        with self._lock:
            self._waiting = None

    def take(self, message: SessionEvents) -> list[Event]:
        """The message's events, all of them: none joins it from now on."""
        with self._lock:
            if self._waiting is message:
                self._waiting = None
            return message.events


@lazy_dataclass
class Narrated(Message):
    """A scenario's `say` line (or a failed `expect`), from the player's thread."""

    line: int
    text: str
    player: object = field(default=None, compare=False)
    """The player that said it: a reset keeps the panel, and a line of the player it stopped must not reach
    the fresh session's log."""


@lazy_dataclass
class TransportChosen(Message):
    """A scenario's `transport` line ran: the top bar's switch shows what its socket() calls make now."""

    transport: Transport
    player: object = field(default=None, compare=False)
    """The player whose line it was (see `Narrated.player`)."""


@lazy_dataclass
class ScenarioState(Message):
    """The player's progress: its state when it changes (None: unchanged), the line it runs next, and
    that line's place among the lines that run (1 is the first; one past the last at the end)."""

    state: str | None
    next_line: str
    place: int = 0
    player: object = field(default=None, compare=False)
    """The player whose progress it is (see `Narrated.player`)."""

    def can_replace(self, message: Message) -> bool:
        """A played scenario runs lines faster than frames: only the newest "next line" is worth drawing,
        but a change of state (ended, say) is never dropped."""
        return self.state is None and isinstance(message, ScenarioState)
