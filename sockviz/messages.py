"""Messages the whole app shares."""

from __future__ import annotations

from textual.message import Message

from sockviz.core import Event


class SessionEvent(Message):
    """A core event, carried from whichever thread caused it to the UI thread."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class Narrated(Message):
    """A scenario's `say` line (or a failed `expect`), from the player's thread."""

    def __init__(self, line: int, text: str) -> None:
        super().__init__()
        self.line = line
        self.text = text


class ScenarioState(Message):
    """The player's progress: its state when it changes (None: unchanged), the line it runs next, and
    that line's place among the lines that run (1 is the first; one past the last at the end)."""

    def __init__(self, state: str | None, next_line: str, place: int = 0) -> None:
        super().__init__()
        self.state = state
        self.next_line = next_line
        self.place = place
