"""What a follower's session screen is told by the lecturer's: their notes, lesson panel, wire lines and address,
and the end.

A part of `SessionScreen` (see session_base.py), called by the follower's app (follow.py) as the
lecturer's share sends these; the events themselves come through the mirror like a session's own.
"""

from __future__ import annotations

import socket
from collections import deque

from textual import on
from textual.message import Message
from textual.widget import Widget

from sockviz.core.model.lazy_dataclass import lazy_dataclass
from sockviz.screens.layout import LESSON, WIRE
from sockviz.screens.session_base import ScreenBase


class Following(ScreenBase):
    """The session screen's part that shows what only a lecturer's share tells."""

    wire_waiting: deque[tuple[tuple[str, str], ...]]
    """The lecturer's wire lines sent before this follower's wire pane was first opened (MAX_LINES at most):
    written into it as it is made, so its `w` shows them all as if it had been there."""

    following_over = ""
    """Why this follower follows no more (the lecturer stopped sharing, the connection closed); empty while it
    follows. The log's `next:` says so then: nothing the guide would foretell comes any more."""

    @lazy_dataclass
    class LecturerNote(Message):
        """A line of the lecturer's log that is no event (a lesson's narration): posted, so that it takes its
        place behind the lecturer's events that came before it and are still queued."""

        at: float
        who: str
        text: str
        kind: str

    def lecturer_note(self, at: float, who: str, text: str, kind: str) -> None:
        self.post_message(self.LecturerNote(at, who, text, kind))

    @on(LecturerNote)
    def _lecturer_note(self, note: LecturerNote) -> None:
        self.event_log.note(note.at, note.who, note.text, kind=note.kind)

    def lecturers_lesson(self, shown: str) -> None:
        """The lecturer's lesson panel, beside this follower's log as beside theirs."""
        if not self._rebuilding and (shown or self.built(LESSON) is not None):  # none yet: nothing to hide
            self.scenario_panel.show_lecturers(shown)

    def lecturers_wire(self, parts: tuple[tuple[str, str], ...]) -> None:
        """A line of the lecturer's wire view, drawn in this follower's (shown or not: `w` shows it)."""
        if self._rebuilding:
            return
        wire = self.built(WIRE)
        if wire is None:
            from sockviz.widgets.wire_pane import MAX_LINES  # as many as the pane would keep

            self.wire_waiting.append(parts)  # the pane is made on the first `w`, with these
            if len(self.wire_waiting) > MAX_LINES:
                self.wire_waiting.popleft()
        else:
            wire.show_parts(parts)

    def pane_opened(self, pane: Widget) -> None:
        """The wire pane, made at last: the lecturer's lines so far go in, hidden until `w` shows them."""
        wire = self.built(WIRE)
        if wire is not None and pane is wire:
            while self.wire_waiting:
                wire.show_parts(self.wire_waiting.popleft())

    def lecturers_address(self, host: str, port: int, family: str) -> None:
        """The lecturer's host, port and family in this follower's bar, as the lecturer's bar has them."""
        if not self._rebuilding:
            self.bar.show_address(host, port, socket.AF_INET6 if family == "AF_INET6" else socket.AF_INET)

    def following_ended(self, why: str) -> None:
        """The lecturer stopped sharing (or the connection broke): the screen stays, as it was, and says so."""
        if not self.is_attached or self._rebuilding or self.app._exit:
            return  # this follower is quitting too
        self.following_over = why
        self.event_log.note(self.session.now(), "share", f"no longer following: {why}", kind="refused")
        self.bar.show_sharing(f"{why} · the screen shows the session as it was", warn=True)
        self.event_log.show_guide(self.guide_when_over())

    def guide_when_over(self) -> str:
        """The log's `next:` once following has ended: no step comes any more, so none is foretold."""
        return f"next: nothing: {self.following_over}"

    def following_lost(self, why: str) -> None:
        """The connection to the lecturer was lost: the follower joins again by itself, and says so meanwhile."""
        if self.is_attached and not self._rebuilding and not self.app._exit:
            self.event_log.note(self.session.now(), "share", why, kind="refused")
            self.bar.show_sharing(why, warn=True)
