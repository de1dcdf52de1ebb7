"""Keeping the sockets table live: the rows a refresh re-reads, and how often events may ask for one.

A refresh re-reads only the rows on screen (a few microseconds a socket), so it does not grow with
the sockets behind the table; events still come by the hundred a second (a burst, connections coming
and going), and each refresh redraws the table, so they are paced.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from sockviz.widgets.sockets_table import activity

if TYPE_CHECKING:
    from collections.abc import Callable

    from sockviz.core import Session, SocketSnapshot, TrackedSocket
    from sockviz.widgets.sockets_table import SocketsTable

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


def table_rows(
    session: Session, table: SocketsTable, blocked: set[int], now: float
) -> list[tuple[TrackedSocket, SocketSnapshot, str]]:
    """The rows the table shows now, each socket read again from the kernel, with what it is doing."""
    sockets = session.sockets
    serving = session.serve_status()
    rows = []
    for index in table.rows_to_refresh(len(sockets)):
        tracked = sockets[index]
        snap = tracked.snapshot(with_repr=False)
        rows.append((tracked, snap, activity(tuple(tracked.in_flight), blocked, now, snap.closed, serving)))
    return rows
