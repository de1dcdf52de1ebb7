"""After a reset: the connections of the session before it that the kernel still holds (TIME_WAIT and the like).

A reset closes every socket and starts a fresh session, but the kernel keeps a
connection that its server side closed first in TIME_WAIT for 60 s, and until
then bind() to the server's port fails with EADDRINUSE. The fresh table would
show nothing of it, so the student could not see why bind() fails: these
connections keep their rows (marked "pre-reset") above the new session's,
asked about once a second like the session's own, until the kernel drops them.
The rows go into the recording and to followers too (`HeldShown`, when they change), so that a
replay's table and a follower's are the lecturer's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sockviz.core.engine.tracked import Role
from sockviz.widgets.socket_rows import address_text

if TYPE_CHECKING:
    from collections.abc import Callable

    from sockviz.core import Session
    from sockviz.core.engine.view import SocketView
    from sockviz.core.story.recording.records import HeldShown, Record
    from sockviz.core.story.recording.sockets import SocketState
    from sockviz.screens.session_base import ScreenBase
    from sockviz.widgets.event_log import EventLog
    from sockviz.widgets.sockets_table import SocketsTable


class HeldOver:
    """The earlier sessions' connections the kernel still holds, each with the row key the table shows it by."""

    def __init__(self) -> None:
        self._sessions: list[tuple[int, Session]] = []
        self._resets = 0
        self._recorded: tuple[tuple[str, ...], tuple[SocketState, ...]] | None = None
        """The rows as last recorded for this session; None: none yet (a fresh session's first is written)."""
        self._readings = 0
        """How often the kernel has been asked (a reset, or once a second): the rows change only then."""
        self._recorded_at = -1

    def keep(self, old: Session) -> None:
        """Hold on to a closed session while any of its connections may linger (call it off the UI thread:
        the kernel is asked once, so the rows are there when the fresh table first draws)."""
        old.read_lingering()
        self._readings += 1
        self._resets += 1
        self._sessions = [(n, s) for n, s in self._sessions if _held(s)]
        if _held(old):
            self._sessions.append((self._resets, old))

    @property
    def holding(self) -> bool:
        return bool(self._sessions)

    def read(self) -> None:
        """Ask the kernel again (off the UI thread); a session whose every connection is dropped is let go."""
        for _, session in self._sessions:
            session.read_lingering()
        self._readings += 1
        self._sessions = [(n, s) for n, s in self._sessions if _held(s)]

    def rows(self) -> list[tuple[str, SocketView]]:
        """(row key, socket) for every connection still held, oldest reset first."""
        return [(f"held-{n}-{t.id}", t) for n, session in self._sessions for t in _held(session)]

    def session_began(self) -> None:
        """A fresh session: its recording (and a late follower's catch-up) starts from its own lines, so the rows
        are written again, if any are held."""
        self._recorded = None

    def recorded(self, rows: list[tuple[str, SocketView]], at: float) -> HeldShown | None:
        """The record to write for these rows, if they changed since the last one (None: nothing new to say). They
        are compared only after the kernel was asked again (at most once a second), not at every refresh."""
        from sockviz.core.story.recording.records import HeldShown
        from sockviz.core.story.recording.sockets import socket_state

        if self._recorded is not None and self._recorded_at == self._readings:
            return None
        self._recorded_at = self._readings
        if not rows and not (self._recorded and self._recorded[0]):
            return None  # none held, and none said to be
        keys = tuple(key for key, _ in rows)
        states = tuple(socket_state(t, t.snapshot(with_repr=False), "—") for _, t in rows)  # type: ignore[arg-type]
        if self._recorded == (keys, states):
            return None
        self._recorded = (keys, states)
        return HeldShown(at, keys, states)

    def said(self) -> str | None:
        """What the log says of them after a reset, or None when the kernel holds nothing."""
        held = [t for _, session in self._sessions for t in _held(session)]
        if not held:
            return None
        told = "; ".join(_told(t) for t in held)
        # A server's side in TIME_WAIT holds the port its listener bound for a minute: the bind() a student runs
        # next. (A client's side holds only its ephemeral port; other states pass within moments.)
        ports = sorted({t.ends[0][1] for t in held if t.ends and t.role is Role.CONNECTION and _in_time_wait(t)})
        also = (
            f" Until then bind() to port {' or '.join(map(str, ports))} fails with EADDRINUSE (Address already in"
            " use) unless both the old socket and the new one set SO_REUSEADDR."
            if ports
            else ""
        )
        return (
            f"The kernel still holds what the session before the reset closed: {told}. Its rows stay in the "
            f"table, marked pre-reset, until the kernel drops them.{also}"
        )


def show(screen: ScreenBase, table: SocketsTable) -> None:
    """The held rows in the table: the lecturer's own, written for the recording and the followers when they
    change; a follower's, as the lecturer's last said (`Mirror.held`)."""
    live = screen.live
    if live is None:
        from sockviz.share.mirror import Mirror  # a follower's screen (a replay draws its scenes itself)

        table.show_held(screen.session.held if isinstance(screen.session, Mirror) else ())
        return
    rows = screen.held_over.rows()
    table.show_held(rows)
    if screen.recorder is not None or screen.share is not None:
        record = screen.held_over.recorded(rows, live.now())
        if record is not None:
            screen._record(record)


def tell(held: HeldOver, log: EventLog, now: float, record: Callable[[Record], object] | None = None) -> None:
    """Say in the log, under the welcome, what the kernel still holds from before the reset (if anything); and
    `record` it, for the recording and the followers (the welcome is each screen's own, this is the lecturer's)."""
    said = held.said()
    if said is not None:
        log.note(now, "start", said)
        if record is not None:
            from sockviz.core.story.recording.records import Note

            record(Note(now, "start", said, "guide"))


def _held(session: Session) -> list[SocketView]:
    """The session's closed connections the kernel last said it holds."""
    return [t for t in session.sockets if t.closed and t.after_close is not None and not t.gone]


def _in_time_wait(tracked: SocketView) -> bool:
    return tracked.after_close is not None and tracked.after_close.state == "TIME_WAIT"


def _told(tracked: SocketView) -> str:
    held = tracked.after_close
    assert held is not None
    ends = tracked.ends
    between = f" {address_text(ends[0])} ⇄ {address_text(ends[1])}" if ends else ""
    left = f", {held.expires:.0f} s left" if held.expires else ""
    return f"{tracked.name}{between} in {held.state}{left}"
