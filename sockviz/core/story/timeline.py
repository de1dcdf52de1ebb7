"""The timeline: one lane per socket against a shared time axis, worked out as text.

Blocking is about time and about two sides: accept() waits on one lane until
connect() happens on another. A log tells that in order; the timeline shows it
at a glance, as a bar that runs until the call that ended it, with a line
joining the two.

The picture is computed here, with no user interface. A front end gets rows of
cells, each a character and the `Ink` that says what it shows; the app paints
them in colour, `sockviz run --timeline` prints them as they are.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from enum import StrEnum

from sockviz.core.model.events import Call, Event, SocketAdded, StepBlocked, StepCalled, StepFailed, StepFinished
from sockviz.core.model.steps import Action, Side
from sockviz.core.story.sentences import duration, tell

SCALES = (
    0.001,
    0.002,
    0.005,
    0.01,
    0.02,
    0.05,
    0.1,
    0.15,
    0.2,
    0.3,
    0.5,
    0.75,
    1.0,
    1.5,
    2.0,
    3.0,
    5.0,
    10.0,
    15.0,
    30.0,
    60.0,
)
"""Seconds per column that a view can use: from a scenario played at full speed to a long lecture."""

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
}
"""One character per call, so that marks stay one column wide; the legend names them."""

LEGEND = (
    "○ socket  b bind  l listen  a accept  c connect  s send  r recv  R recv all  h shutdown  ! cancel  "
    "o option  × close  ━ waiting  ┃ woke it"
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


@dataclass
class Lane:
    """One socket's life."""

    name: str
    side: Side
    opened: float
    closed: float | None = None
    marks: list[Mark] = field(default_factory=list)


@dataclass
class Mark:
    """One call on one lane, from its start to its return."""

    call: Call
    lane: int
    blocked: bool = False
    finished: StepFinished | None = None

    @property
    def start(self) -> float:
        return self.call.started

    @property
    def end(self) -> float | None:
        return None if self.finished is None else self.finished.at

    def ended_by(self, now: float) -> bool:
        return self.finished is not None and self.finished.at <= now

    def columns(self, view: View) -> tuple[int, int]:
        """The columns of its start and of its return (or of now, while it runs), as the view draws them."""
        return view.column(self.start), view.column(self.changed(view.now) if self.ended_by(view.now) else view.now)

    def changed(self, now: float) -> float:
        """When the call last changed, as of `now`: its return, or else its start."""
        return self.finished.at if self.finished is not None and self.ended_by(now) else self.start

    def ink(self, now: float) -> Ink:
        """How the call stood at `now`: a call that failed later was still waiting then."""
        ended = self.ended_by(now)
        if ended and isinstance(self.finished, StepFailed):
            return Ink.FAILED
        if self.blocked:
            return Ink.WAITED if ended else Ink.WAITING
        return Ink.CALL

    def describe(self, now: float) -> str:
        """The mark in a sentence, as it stood at `now`: the log's own words for it."""
        if self.finished is not None and self.ended_by(now):
            return f"{self.call.socket_name}: {tell(self.finished)}"
        if self.blocked:
            return f"{self.call.socket_name}: {self.call.label} is waiting ({duration(now - self.start)} so far)"
        return f"{self.call.socket_name}: {self.call.code}"


@dataclass(frozen=True)
class View:
    """The stretch of time a picture shows: `columns` columns of `scale` seconds, ending at `end`."""

    end: float
    scale: float
    columns: int
    now: float
    """The session's time now: calls still running are drawn up to it."""

    @property
    def start(self) -> float:
        return self.end - self.columns * self.scale

    def column(self, at: float) -> int:
        return math.floor((at - self.start) / self.scale)


@dataclass(frozen=True)
class Row:
    """One line of the picture: a lane's name and side (none for the axis) and its cells."""

    label: str
    side: Side | None
    cells: list[Cell]

    @property
    def text(self) -> str:
        return "".join(char for char, _ in self.cells)


class Timeline:
    """Built from a session's events, in any thread; drawn for any view."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lanes: list[Lane] = []
        self._lane_of: dict[str, int] = {}
        self._marks: dict[int, Mark] = {}
        self.latest = 0.0
        """The time of the newest event: how far the story goes."""

    def add(self, event: Event) -> None:
        with self._lock:
            self.latest = max(self.latest, event.at)
            if isinstance(event, SocketAdded):
                self._lane(event.name, event.side, event.at)
            elif isinstance(event, StepCalled):
                call = event.call
                if call.step.action is not Action.BURST:  # each of a burst's connects has its own lane
                    lane = self._lane(call.socket_name, call.step.side, call.started)
                    mark = Mark(call, lane)
                    self._marks[call.id] = mark
                    self._lanes[lane].marks.append(mark)
            elif isinstance(event, StepBlocked) and event.call.id in self._marks:
                self._marks[event.call.id].blocked = True
            elif isinstance(event, StepFinished) and event.call.id in self._marks:
                mark = self._marks[event.call.id]
                mark.finished = event
                if event.call.step.action is Action.CLOSE and not isinstance(event, StepFailed):
                    self._lanes[mark.lane].closed = mark.end

    def _lane(self, name: str, side: Side, at: float) -> int:
        if name not in self._lane_of:
            self._lane_of[name] = len(self._lanes)
            self._lanes.append(Lane(name, side, at))
        return self._lane_of[name]

    @property
    def lane_count(self) -> int:
        return len(self._lanes)

    @property
    def label_width(self) -> int:
        with self._lock:
            return max((len(lane.name) for lane in self._lanes), default=1)

    def axis(self, view: View) -> Row:
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

    def rows(self, view: View, first: int = 0, count: int | None = None) -> list[Row]:
        """The lanes from `first`, `count` of them (all by default), drawn for the view."""
        with self._lock:
            opened = self._opened(view)
            chosen = opened[first:] if count is None else opened[first : first + count]
            joins = self._joins(view)
            return [Row(self._lanes[i].name, self._lanes[i].side, self._cells(i, view, joins)) for i in chosen]

    def _opened(self, view: View) -> list[int]:
        """The lanes drawn, by index: those opened by the view's now (a held view shows the lanes of then)."""
        return [i for i, lane in enumerate(self._lanes) if lane.opened <= view.now]

    def _cells(self, index: int, view: View, joins: list[tuple[int, int, int]]) -> list[Cell]:
        lane = self._lanes[index]
        cells = [BLANK] * view.columns
        alive_until = view.now if lane.closed is None or lane.closed > view.now else lane.closed
        for column in range(max(view.column(lane.opened), 0), min(view.column(alive_until) + 1, view.columns)):
            cells[column] = ("─", Ink.ALIVE)
        for column, top, bottom in joins:
            if top < index < bottom and cells[column][1] in (Ink.EMPTY, Ink.ALIVE):
                cells[column] = ("┃", Ink.JOIN)
        marks = [mark for mark in lane.marks if mark.start <= view.now]
        for mark in marks:  # bars first, so that no bar hides another call's mark
            ended = mark.ended_by(view.now)
            start, end = mark.columns(view)
            if mark.blocked and end > start:
                for column in range(max(start + 1, 0), min(end + 1, view.columns)):
                    cells[column] = ("━", mark.ink(view.now))
                if 0 <= end < view.columns and ended:
                    cells[end] = (self._corner(mark, index), mark.ink(view.now))
        for mark in marks:
            start = view.column(mark.start)
            if 0 <= start < view.columns:
                cells[start] = (GLYPHS.get(mark.call.step.action, "?"), mark.ink(view.now))
        return cells

    def _corner(self, mark: Mark, index: int) -> str:
        """Where a bar ends: turned towards the lane of the call that woke it."""
        waker = self._waker(mark)
        if waker is None or waker.lane == index:
            return "┫"
        return "┛" if waker.lane < index else "┓"

    def _waker(self, mark: Mark) -> Mark | None:
        woken_by = None if mark.finished is None else mark.finished.woken_by_call
        return None if woken_by is None else self._marks.get(woken_by)

    def _joins(self, view: View) -> list[tuple[int, int, int]]:
        """(column, upper lane, lower lane) for each wait that another lane's call ended, in view."""
        joins = []
        for mark in self._marks.values():
            waker = self._waker(mark)
            if waker is None or waker.lane == mark.lane or mark.end is None or not mark.ended_by(view.now):
                continue
            column = view.column(mark.end)
            if 0 <= column < view.columns:
                joins.append((column, min(waker.lane, mark.lane), max(waker.lane, mark.lane)))
        return joins

    def mark_at(self, view: View, lane: int, column: int) -> Mark | None:
        """The call drawn at a cell (`lane` counts the lanes drawn, as `rows` does): for a click on the picture."""
        with self._lock:
            opened = self._opened(view)
            if not 0 <= lane < len(opened):
                return None
            under = []
            for mark in self._lanes[opened[lane]].marks:
                if mark.start > view.now:
                    continue
                start = view.column(mark.start)
                end = (
                    view.column(mark.end) if mark.end is not None and mark.ended_by(view.now) else view.column(view.now)
                )
                if start <= column <= max(start, end if mark.blocked else start):
                    under.append(mark)
            return max(under, key=lambda m: (m.start, m.call.id), default=None)

    def story_at(self, view: View) -> str:
        """The call in view that waited or failed and changed last (or else the newest call), in a sentence:
        a wait that just ended says what ended it."""
        with self._lock:
            seen = [m for m in self._marks.values() if m.start <= min(view.end, view.now)]
        if not seen:
            return "no calls yet"
        telling = [m for m in seen if m.blocked or m.ink(view.now) is Ink.FAILED] or seen
        return max(telling, key=lambda m: (m.changed(view.now), m.call.id)).describe(view.now)

    def picture(self, columns: int, now: float) -> str:
        """The whole story so far as plain text: for `sockviz run --timeline` and for tests."""
        width = self.label_width
        view = Window().view(now, columns - width - 1, self.latest)
        lines = [f"{'':{width}} {self.axis(view).text}"]
        lines += [f"{row.label:>{width}} {row.text}" for row in self.rows(view)]
        return "\n".join(line.rstrip() for line in lines)


@dataclass
class Window:
    """Where a front end looks: following the present (the default), or held still to look back.

    A held window is a still picture of the moment it was held at: what happens later is
    not drawn until the window follows again. `scale` is None to fit the whole story in
    view while it is short enough, then follow.
    """

    scale: float | None = None
    held_at: float | None = None
    """The time at the right edge while the window is held; None while it follows."""
    held_now: float | None = None
    """The session's time when the window was held: the picture shows the story up to then."""

    @property
    def following(self) -> bool:
        return self.held_at is None

    def view(self, now: float, columns: int, latest: float | None = None) -> View:
        columns = max(columns, 1)
        if self.held_at is not None and self.held_now is not None:
            scale = self.scale or fit(self.held_now, columns)
            return View(self.held_at, scale, columns, self.held_now)
        story = max(now, latest or 0.0)
        scale = self.scale if self.scale is not None else fit(story, columns)
        return View(max(story, columns * scale), scale, columns, now)

    def hold(self, view: View) -> None:
        self.held_at, self.held_now, self.scale = view.end, view.now, view.scale

    def follow(self) -> None:
        self.held_at = self.held_now = self.scale = None

    def scroll(self, view: View, columns: int) -> None:
        """Move by whole columns (negative is back in time); moving holds the window, and
        moving up to the present follows it again."""
        if self.held_at is None:
            self.hold(view)
        assert self.held_now is not None
        end = view.end + columns * view.scale
        if columns > 0 and end >= max(self.held_now, view.columns * view.scale):
            self.follow()
        else:
            self.held_at = max(end, view.columns * view.scale)

    def zoom(self, view: View, steps: int) -> None:
        """Change the seconds per column along SCALES (positive steps show more time)."""
        index = min(range(len(SCALES)), key=lambda i: abs(SCALES[i] - view.scale))
        self.scale = SCALES[min(max(index + steps, 0), len(SCALES) - 1)]
        if self.held_at is not None:
            self.held_at = max(self.held_at, view.columns * self.scale)


def _seconds(at: float, scale: float) -> str:
    """An axis label: `250ms` on a fine scale, `12s` on a coarse one."""
    return f"{round(at * 1000):d}ms" if scale < 0.01 else f"{round(at, 1):g}s"


def fit(story: float, columns: int) -> float:
    """The finest scale that shows `story` seconds in `columns` columns (the coarsest, when none can)."""
    return next((scale for scale in SCALES if scale * columns >= story * 1.05), SCALES[-1])
