"""The timeline drawn: rows of cells for a view, each a character and the `Ink` that says what it shows.

Blocking is about time and about two sides: accept() waits on one lane until connect() happens
on another. The picture shows it at a glance, as a bar that runs until the call that ended it,
with a line joining the two. The app paints the cells in colour; `sockviz run --timeline`
prints them as they are.

A lane has one character per column, and calls closer together than a column (a lesson
played at full speed makes socket(), bind() and listen() within a millisecond) would land on
one cell, each hiding the one before. So each call takes the next free column of its lane,
in the order the calls started: every call is drawn, and no later than a few columns off.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from enum import StrEnum

from sockviz.core.model.lazy_dataclass import lazy_dataclass
from sockviz.core.model.record import FrozenRecord
from sockviz.core.model.steps import Action, Side
from sockviz.core.story.timeline.lanes import Lane, Lanes, Mark, end_of, start_of
from sockviz.core.story.timeline.window import Span, Window

TICKS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0)
"""Steps between the axis's labels; each view takes the first that leaves room for its labels."""

GLYPHS = {
    Action.SOCKET: "○",
    Action.BIND: "b",
    Action.LISTEN: "l",
    Action.ACCEPT: "a",
    Action.CONNECT: "c",
    Action.SEND: "s",
    Action.RECV: "r",
    Action.RECV_ALL: "R",
    Action.SHUTDOWN: "h",
    Action.CANCEL: "!",
    Action.CLOSE: "×",
    Action.OPTION: "o",
    Action.SELECT: "◇",
    Action.SERVE_BLOCKING: "∞",
    Action.SERVE_THREADS: "≡",
    Action.SERVE_SELECT: "◆",
}
"""One character per call, so that marks stay one column wide; the legend names them."""

LEGEND = (
    "○ socket  b bind  l listen  a accept  c connect  s send  r recv  R recv all  h shutdown  ! cancel  "
    "o option  × close  ◇ select  ∞ serve blocking  ≡ serve threads  ◆ serve select  ━ waiting  ┃ woke it"
)


class Ink(StrEnum):
    """What a cell shows; each front end chooses how to draw it."""

    EMPTY = "empty"
    ALIVE = "alive"
    """The socket is open and nothing runs on it."""
    CALL = "call"
    """A call that returned at once (or is too young to call blocked)."""
    WAITING = "waiting"
    """A call that is blocked now."""
    WAITED = "waited"
    """A call that blocked, then returned."""
    FAILED = "failed"
    """A call that raised."""
    JOIN = "join"
    """The line from a call that ended a wait to the call it woke."""


Cell = tuple[str, Ink]

BLANK: Cell = (" ", Ink.EMPTY)
_ALIVE: Cell = ("─", Ink.ALIVE)


@lazy_dataclass(frozen=True, repr=False, eq=False)
class Row(FrozenRecord):
    """One line of the picture: a lane's name and side (none for the axis) and its cells."""

    label: str
    side: Side | None
    cells: list[Cell]

    @property
    def text(self) -> str:
        return "".join(char for char, _ in self.cells)


def ink(mark: Mark, now: float) -> Ink:
    """How the call stood at `now`: a call that failed later was still waiting then."""
    ended = mark.ended_by(now)
    if ended and mark.failed:
        return Ink.FAILED
    if mark.blocked:
        return Ink.WAITED if ended else Ink.WAITING
    return Ink.CALL


def end_column(mark: Mark, view: Span) -> int:
    """The column of the call's return, or of now while it runs, as the view draws it."""
    return view.column(mark.changed(view.now) if mark.ended_by(view.now) else view.now)


def layout(lane: Lane, view: Span) -> list[tuple[Mark, int]]:
    """The lane's calls up to the view's now, each with the column its mark is drawn in.

    Calls in one column move right, one column each, in the order they started, and back left
    where that would push them past the view's last column: no call hides another.
    """
    marks = [mark for mark in lane.marks if mark.start <= view.now]
    placed = []
    for mark in marks:
        column = view.column(mark.start)
        if placed and placed[-1][1] >= 0 and column <= placed[-1][1]:
            column = placed[-1][1] + 1
        placed.append((mark, column))
    last = view.columns - 1
    for index in range(len(placed) - 1, -1, -1):
        mark, column = placed[index]
        limit = min(last, placed[index + 1][1] - 1) if index + 1 < len(placed) else last
        if view.column(mark.start) <= last and column > limit:
            placed[index] = (mark, limit)
    return placed


class Timeline(Lanes):
    """The lanes, drawn for any view: what a front end asks of the timeline."""

    def axis(self, view: Span) -> Row:
        """Time labels (seconds since the session began), as far apart as they need to be read."""
        cells = [BLANK] * view.columns
        widest = len(_seconds(view.end, view.scale)) + 3
        tick = next((t for t in TICKS if t / view.scale >= widest), TICKS[-1])
        at = math.ceil(max(view.start, 0) / tick) * tick
        while at <= view.end:
            column = view.column(at)
            label = "╵" + _seconds(at, view.scale)
            if column >= 0 and column + len(label) <= view.columns:
                cells[column : column + len(label)] = [(char, Ink.ALIVE) for char in label]
            at += tick
        return Row("", None, cells)

    def rows(self, view: Span, first: int = 0, count: int | None = None) -> list[Row]:
        """The lanes from `first`, `count` of them (all by default), drawn for the view."""
        with self._lock:
            opened = self._opened(view)
            chosen = opened[first:] if count is None else opened[first : first + count]
            joins = self._joins(view)
            return [Row(self._lanes[i].label, self._lanes[i].side, self._cells(i, view, joins)) for i in chosen]

    def _opened(self, view: Span) -> Sequence[int]:
        """The lanes drawn, by index: those opened by the view's now (a held view shows the lanes of then)."""
        if view.now >= self.last_opened:  # the present: every lane, as a range (no list of 2,000 made each frame)
            return range(len(self._lanes))
        return [i for i, lane in enumerate(self._lanes) if lane.opened <= view.now]

    def _cells(self, index: int, view: Span, joins: list[tuple[int, int, int]]) -> list[Cell]:
        lane = self._lanes[index]
        cells = [BLANK] * view.columns
        alive_until = view.now if lane.closed is None or lane.closed > view.now else lane.closed
        first, last = max(view.column(lane.opened), 0), min(view.column(alive_until) + 1, view.columns)
        if first < last:
            cells[first:last] = [_ALIVE] * (last - first)
        for column, top, bottom in joins:
            if top < index < bottom and cells[column][1] in (Ink.EMPTY, Ink.ALIVE):
                cells[column] = ("┃", Ink.JOIN)
        placed = layout(lane, view)
        for mark, start in placed:  # bars first, so that no bar hides another call's mark
            end = end_column(mark, view)
            if mark.blocked and end > start:
                for column in range(max(start + 1, 0), min(end + 1, view.columns)):
                    cells[column] = ("━", ink(mark, view.now))
                if 0 <= end < view.columns and mark.ended_by(view.now):
                    cells[end] = (self._corner(mark, index), ink(mark, view.now))
        for mark, start in placed:
            if 0 <= start < view.columns:
                cells[start] = (GLYPHS.get(mark.call.step.action, "?"), ink(mark, view.now))
        return cells

    def _corner(self, mark: Mark, index: int) -> str:
        """Where a bar ends: turned towards the lane of the call that woke it."""
        waker = self.waker(mark)
        if waker is None or waker.lane == index:
            return "┫"
        return "┛" if waker.lane < index else "┓"

    def _joins(self, view: Span) -> list[tuple[int, int, int]]:
        """(column, upper lane, lower lane) for each wait that another lane's call ended, in view."""
        joins = []
        for mark in self._woken:
            waker = self.waker(mark)
            if waker is None or waker.lane == mark.lane or mark.end is None or not mark.ended_by(view.now):
                continue
            column = view.column(mark.end)
            if 0 <= column < view.columns:
                joins.append((column, min(waker.lane, mark.lane), max(waker.lane, mark.lane)))
        return joins

    def mark_at(self, view: Span, lane: int, column: int) -> Mark | None:
        """The call drawn at a cell (`lane` counts the lanes drawn, as `rows` does): for a click on the picture."""
        with self._lock:
            opened = self._opened(view)
            if not 0 <= lane < len(opened):
                return None
            under = []
            for mark, start in layout(self._lanes[opened[lane]], view):
                if start <= column <= max(start, end_column(mark, view) if mark.blocked else start):
                    under.append(mark)
            return max(under, key=lambda m: (m.start, m.call.id), default=None)

    def story_at(self, view: Span) -> str:
        """The call in view that waited or failed and changed last (or else the newest call), in a sentence:
        a wait that just ended says what ended it."""
        now, limit = view.now, min(view.end, view.now)
        with self._lock:
            telling = [m for m in self._telling if m.start <= limit and (m.blocked or ink(m, now) is Ink.FAILED)]
            chosen = max(telling, key=lambda m: (m.changed(now), m.call.id)) if telling else self._newest(now, limit)
        return "no calls yet" if chosen is None else chosen.describe(now)

    def _newest(self, now: float, limit: float) -> Mark | None:
        """The call started by `limit` that changed last by `now` (its return, or else its start), and of those
        the latest made: found from the two sorted lists without looking at every call."""
        by_start, by_end = self._by_start, self._by_end
        started = bisect.bisect_right(by_start, limit, key=start_of)
        if not started:
            return None
        best: float | None = None  # the latest return by now, of a call started by limit
        for index in range(bisect.bisect_right(by_end, now, key=end_of) - 1, -1, -1):
            if by_end[index].start <= limit:
                best = end_of(by_end[index])
                break
        for index in range(started - 1, -1, -1):  # the latest start of a call still running at now
            mark = by_start[index]
            if best is not None and mark.start < best:
                break  # no call started earlier can have changed later
            if not mark.ended_by(now):
                best = mark.start
                break
        assert best is not None  # the call started last has either returned by now or not
        low, high = bisect.bisect_left(by_start, best, key=start_of), bisect.bisect_right(by_start, best, key=start_of)
        tied = [m for m in by_start[low : min(high, started)] if not m.ended_by(now)]
        low, high = bisect.bisect_left(by_end, best, key=end_of), bisect.bisect_right(by_end, best, key=end_of)
        tied += [m for m in by_end[low:high] if m.start <= limit]
        return max(tied, key=lambda m: m.call.id)

    def picture(self, columns: int, now: float) -> str:
        """The whole story so far as plain text: for `sockviz run --timeline` and for tests."""
        width = self.label_width
        view = Window().view(now, columns - width - 1, self.latest)
        lines = [f"{'':{width}} {self.axis(view).text}"]
        lines += [f"{row.label:>{width}} {row.text}" for row in self.rows(view)]
        return "\n".join(line.rstrip() for line in lines)


def _seconds(at: float, scale: float) -> str:
    """An axis label: `250ms` on a fine scale, `12s` on a coarse one."""
    return f"{round(at * 1000):d}ms" if scale < 0.01 else f"{round(at, 1):g}s"
