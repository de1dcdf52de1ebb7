"""Messages the whole app shares."""

from __future__ import annotations

from textual.message import Message

from sockviz.core import Event


class SessionEvent(Message):
    """A core event, carried from whichever thread caused it to the UI thread."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event
