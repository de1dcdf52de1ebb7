"""Keeping the sockets table live: the rows a refresh re-reads, and how often events may ask for one.

A refresh re-reads only the rows on screen (a few microseconds a socket), so it does not grow with
the sockets behind the table; events still come by the hundred a second (a burst, connections coming
and going), and each refresh redraws the table, so they are paced. While a bulk transfer moves bytes,
only its progress bars move on each refresh (`TransferWatch`).
"""

from __future__ import annotations

import asyncio
import gc
import time
from typing import TYPE_CHECKING, Protocol

from sockviz.core import Action, Event, StepCalled, StepFinished
from sockviz.widgets.event_log import WRITE_GAP
from sockviz.widgets.sockets_table import activity

if TYPE_CHECKING:
    from collections.abc import Callable

    from sockviz.core import Side, SocketSnapshot
    from sockviz.core.engine.view import SessionView, SocketView
    from sockviz.widgets.event_log import EventLog
    from sockviz.widgets.sockets_table import SocketsTable
    from sockviz.widgets.wire_pane import WirePane

EVENT_REFRESH_GAP = 0.1
"""The least time between two refreshes that events ask for: quick to see, and ten table redraws a second at most."""


class RefreshPacer:
    """One refresh per `gap` at most, however many events ask for one meanwhile."""

    def __init__(self, gap: float = EVENT_REFRESH_GAP, clock: Callable[[], float] = time.monotonic) -> None:
        self.gap = gap
        self._clock = clock
        self.due = False
        """An event has asked for a refresh that has not happened yet."""
        self.last = 0.0

    def ask(self) -> float | None:
        """An event asks for a refresh: None if one is already due, else how long to wait for it (0: now)."""
        if self.due:
            return None
        self.due = True
        return max(0.0, self.last + self.gap - self._clock())

    def refreshed(self) -> None:
        self.due = False
        self.last = self._clock()


TRANSFER_REFRESH_SECONDS = 1.0
"""While a transfer moves bytes, how often the rest of the screen (table, hints, buttons) is read again."""
TRANSFER_BAR_GAP = 0.25
"""While a transfer's bytes are on their way, the least time between two moves of its progress bars."""
TRANSFER_WRITE_GAP = 1.0
"""While a transfer's bytes are on their way, the least time between two writes of the log's new lines, and
how long the wire view's deliveries wait at most. The first line after a quiet spell (the call the user just
made) is still written at once, and the lines that wait are written as soon as the last transfer ends: a
256 MiB send's own "blocks" line comes with its end, in the same drawing (each drawing of the log was 5 to
13 ms of the UI thread's CPU during a send, under load)."""

TRANSFER_COLLECT_SECONDS = 2.0
"""While a transfer's bytes are on their way, how long the garbage collector may wait at most (`CollectorHold`)."""

_TRANSFERS = (Action.SEND, Action.RECV_ALL)


class CollectorHold:
    """The garbage collector waits while a transfer's bytes are on their way, TRANSFER_COLLECT_SECONDS at most.

    Why: a collection holds the GIL and the event loop from start to end. In the wire section's sends, 1 to 6
    young collections in 40 sends fell inside a send, each 8 to 39 ms of the loop's time under load (a
    collection of the older objects once 59 ms), the worst of the lag samples with the drawings. A 256 MiB
    send makes few objects (a drawing of its call's line, a few refreshes of the bars), so they wait for its
    end. The watch holds the collector from the first refresh that sees the bytes move (most sends have no
    event between their call and their end) and lets it go at the first that sees them still, or at the
    call's end; a long transfer lets it run again every TRANSFER_COLLECT_SECONDS, so nothing piles up. A
    collector already off (the app's start-up) is left so.
    """

    def __init__(self, seconds: float = TRANSFER_COLLECT_SECONDS) -> None:
        self.seconds = seconds
        self._holding = False
        self._timer: asyncio.TimerHandle | None = None

    @property
    def holding(self) -> bool:
        return self._holding

    def hold(self) -> None:
        """On the event loop: the collector off, until `release` or `seconds` from now (with no loop running, it
        holds no loop up, so it stays on)."""
        if self._holding or not gc.isenabled():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        gc.disable()
        self._holding = True
        self._timer = loop.call_later(self.seconds, self.release)

    def release(self) -> None:
        """The collector on again (if this turned it off); what it would have collected meanwhile, next time."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._holding:
            self._holding = False
            gc.enable()


class Transfers(Protocol):
    """What the watch asks of a session (any `SessionView` answers it)."""

    def last_transfer(self, side: Side) -> tuple[int, int] | None: ...


class TransferWatch:
    """Which sendall() and recv all calls run (heard from the events), and whether a sized one moves bytes now.

    Why: while a 256 MiB transfer runs, its two step threads need the GIL after each send() and
    recv_into(), and every moment the UI thread spends re-reading the table, the hints and the buttons,
    and drawing what changed, is a moment they wait (measured: about 30 ms of the UI thread's CPU inside
    a 110 ms transfer, each refresh and its drawing 5 to 10 ms). So while the bytes move, a refresh moves
    the progress bars only; the rest is read once every TRANSFER_REFRESH_SECONDS (a long transfer's table
    stays live), and wholly again at the first refresh after the last transfer ends. A transfer that
    waits (recv all before anything is sent, a sendall() to a peer that does not read) moves no bytes,
    and its screen refreshes as usual.
    """

    def __init__(self, every: float = TRANSFER_REFRESH_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.every = every
        self._clock = clock
        self._running: dict[int, Side] = {}
        """The sendall() and recv all calls running, by call id: their side."""
        self._seen: dict[Side, tuple[int, int] | None] = {}
        """Each side's last transfer, (done, total) bytes, as the last look found it."""
        self._whole_at: float | None = None
        """While bytes move: when the screen was last read whole (None: they are not moving)."""
        self._log_held = False
        """Whether the log writes its lines TRANSFER_WRITE_GAP apart now."""
        self._bars_at: float | None = None
        """While bytes move: when the progress bars last moved."""
        self.collector = CollectorHold()

    def hear(self, event: Event) -> None:
        """Follow the calls that may move bulk bytes, from the session's events in the screen's order."""
        if isinstance(event, StepCalled) and event.call.step.action in _TRANSFERS:
            self._running[event.call.id] = event.call.step.side
        elif isinstance(event, StepFinished):
            self._running.pop(event.call.id, None)

    def whole_refresh_due(self, session: Transfers) -> bool:
        """Whether this refresh reads the whole screen: not while a sized transfer's bytes have moved since the
        last look, unless `every` has passed since the screen was last read whole."""
        moving = False
        for side in set(self._running.values()):
            now = session.last_transfer(side)
            moving = moving or (now is not None and now[0] > 0 and now != self._seen.get(side))
            self._seen[side] = now
        if not moving:
            self._whole_at = None
            self.collector.release()
            return True
        self.collector.hold()  # the refresh sees the bytes move, most often before any event of the call does
        if self._whole_at is None:
            self._whole_at = self._bars_at = self._clock()  # the bytes began to move: the screen was whole just before
            return False
        if self._clock() - self._whole_at < self.every:
            return False
        self._whole_at = self._clock()
        return True

    def bars_due(self) -> bool:
        """While the bytes move, whether this refresh moves the progress bars: TRANSFER_BAR_GAP after the bytes
        began to move, and as far apart, at most.

        Why: the screen is refreshed on a timer and for events (a call, its block, the wire's segments), up to
        ten times a second; each move of the two bars is a drawing of 4 to 7 ms of the UI thread's CPU
        (measured in a 256 MiB send, under load), 15 to 25 ms of the loop's time when the step threads hold
        the GIL and the machine is busy. Four moves a second show the bytes going as well; a transfer over
        sooner (256 MiB on a quiet machine takes a tenth of a second) shows its bars full when it ends.
        """
        now = self._clock()
        if self._bars_at is not None and now - self._bars_at < TRANSFER_BAR_GAP:
            return False
        self._bars_at = now
        return True

    def in_flight(self, session: Transfers) -> bool:
        """Whether a sized transfer that runs has moved some of its bytes and not all of them yet."""
        for side in set(self._running.values()):
            done = session.last_transfer(side)
            if done is not None and 0 < done[0] < done[1]:
                return True
        return False

    def pace_before_telling(self, event: Event, session: Transfers, log: EventLog, wire: WirePane | None) -> None:
        """Before the log tells an event in the middle of a call (a sendall() that blocks): the pace its bytes set
        now, so that its line waits for the transfer's end with the rest. Paced only after it (`pace_drawing`),
        the line of a send that blocked 20 to 150 ms in was written at the usual pace, in the middle of the
        transfer: a drawing of the log, 3 to 8 ms of the UI thread's CPU and 15 to 35 ms of the loop's time
        under load. A call's own line (the call the user just made) is still written at once, and the lines
        of its end join the ones that waited, in one drawing."""
        if not isinstance(event, (StepCalled, StepFinished)):
            self.pace_drawing(session, log, wire)

    def pace_drawing(self, session: Transfers, log: EventLog, wire: WirePane | None) -> None:
        """After an event: while a transfer's bytes are on their way, the log's lines are written a second
        apart at most (each write draws the whole log again, and the drawing holds the GIL that the step
        threads wait for), the wire's deliveries wait for the transfer's end, as long at most, and so does the
        garbage collector (`CollectorHold`); once none is, all at the usual pace, and what waited at once."""
        held = self.in_flight(session)
        if held != self._log_held:
            self._log_held = held
            log.write_gap = TRANSFER_WRITE_GAP if held else WRITE_GAP
            if wire is not None:  # None: never opened, so capturing nothing
                wire.hold(TRANSFER_WRITE_GAP if held else None)
            if held:
                self.collector.hold()
            else:
                self.collector.release()
                log.flush()


def table_rows(
    session: SessionView, table: SocketsTable, blocked: set[int], now: float
) -> list[tuple[SocketView, SocketSnapshot, str]]:
    """The rows the table shows now, each socket read again from the kernel, with what it is doing."""
    sockets = session.sockets
    serving = session.serve_status()
    rows = []
    for index in table.rows_to_refresh(len(sockets)):
        tracked = sockets[index]
        snap = tracked.snapshot(with_repr=False)
        rows.append((tracked, snap, activity(tuple(tracked.in_flight), blocked, now, snap.closed, serving)))
    return rows
