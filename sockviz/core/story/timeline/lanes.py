"""The timeline's model: one lane per socket and one mark per call, built from the session's events.

Nothing here draws. The lanes are kept under a lock, since events come from the steps' threads
while a front end draws from its own.
"""

from __future__ import annotations

import bisect
import threading
from dataclasses import field

from sockviz.core.model.events import Call, Event, SocketAdded, StepBlocked, StepCalled, StepFailed, StepFinished
from sockviz.core.model.lazy_dataclass import lazy_dataclass
from sockviz.core.model.record import Record
from sockviz.core.model.steps import Action, Side
from sockviz.core.story.sentences import duration, tell


@lazy_dataclass(repr=False, eq=False)
class Lane(Record):
    """One socket's life."""

    name: str
    side: Side
    opened: float
    closed: float | None = None
    marks: list[Mark] = field(default_factory=list)

    @property
    def label(self) -> str:
        """The socket's name, and the server thread of a serve mode that made its newest call: `conn3 (thread 2)`,
        so the picture shows which thread waits where."""
        thread = self.marks[-1].call.thread if self.marks else None
        return f"{self.name} ({thread})" if thread else self.name


@lazy_dataclass(repr=False, eq=False)
class Mark(Record):
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

    @property
    def failed(self) -> bool:
        return isinstance(self.finished, StepFailed)

    def ended_by(self, now: float) -> bool:
        return self.finished is not None and self.finished.at <= now

    def changed(self, now: float) -> float:
        """When the call last changed, as of `now`: its return, or else its start."""
        return self.finished.at if self.finished is not None and self.ended_by(now) else self.start

    def describe(self, now: float) -> str:
        """The mark in a sentence, as it stood at `now`: the log's own words for it."""
        if self.finished is not None and self.ended_by(now):
            return f"{self.call.socket_name}: {tell(self.finished)}"
        if self.blocked:
            where = f", in the serve mode's {self.call.thread}" if self.call.thread else ""
            return f"{self.call.socket_name}: {self.call.label} is waiting ({duration(now - self.start)} so far){where}"
        return f"{self.call.socket_name}: {self.call.code}"


class Lanes:
    """The session's story as lanes and marks, built from its events in any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lanes: list[Lane] = []
        self._lane_of: dict[str, int] = {}
        self._marks: dict[int, Mark] = {}
        self.latest = 0.0
        """The time of the newest event: how far the story goes."""
        # Indexes kept as events come, so that a picture looks at what it draws, not at every call:
        self._by_start: list[Mark] = []
        """Every mark, by the time its call started."""
        self._by_end: list[Mark] = []
        """The marks whose call has returned or raised, by that time."""
        self._telling: list[Mark] = []
        """The marks that blocked or failed: the few a story line prefers."""
        self._woken: list[Mark] = []
        """The marks whose wait a call of the session ended: where the joins are."""
        self.last_opened = 0.0
        """When the newest lane opened: a view from then on draws every lane."""

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
                    bisect.insort(self._by_start, mark, key=start_of)
            elif isinstance(event, StepBlocked) and event.call.id in self._marks:
                mark = self._marks[event.call.id]
                if not mark.blocked and not mark.failed:
                    self._telling.append(mark)
                mark.blocked = True
            elif isinstance(event, StepFinished) and event.call.id in self._marks:
                mark = self._marks[event.call.id]
                if isinstance(event, StepFailed) and not mark.blocked and not mark.failed:
                    self._telling.append(mark)
                first = mark.finished is None
                mark.finished = event
                if first:
                    bisect.insort(self._by_end, mark, key=end_of)
                if event.woken_by_call is not None:
                    self._woken.append(mark)
                if event.call.step.action is Action.CLOSE and not isinstance(event, StepFailed):
                    self._lanes[mark.lane].closed = mark.end

    def _lane(self, name: str, side: Side, at: float) -> int:
        if name not in self._lane_of:
            self._lane_of[name] = len(self._lanes)
            self._lanes.append(Lane(name, side, at))
            self.last_opened = max(self.last_opened, at)
        return self._lane_of[name]

    def marks(self) -> list[Mark]:
        """Every call so far, in the order the calls started."""
        with self._lock:
            return list(self._by_start)

    @property
    def lane_count(self) -> int:
        return len(self._lanes)

    @property
    def label_width(self) -> int:
        with self._lock:
            return max((len(lane.label) for lane in self._lanes), default=1)

    def waker(self, mark: Mark) -> Mark | None:
        """The call of this session that ended the mark's wait, if the session knows it."""
        woken_by = None if mark.finished is None else mark.finished.woken_by_call
        return None if woken_by is None else self._marks.get(woken_by)


def start_of(mark: Mark) -> float:
    """When the call started: the order of `Lanes`' list of every mark."""
    return mark.start


def end_of(mark: Mark) -> float:
    """When the call returned or raised: the order of the list of finished marks."""
    assert mark.finished is not None
    return mark.finished.at
