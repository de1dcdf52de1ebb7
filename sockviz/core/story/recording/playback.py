"""A recording as a series of moments, and what the screen showed at each: the log, the table, the timeline.

A moment is a record that adds a line to the log (an event that makes one, a narration, a note, the
session's end) or starts a session. At a moment, the log holds every line up to it; the wire view its lines
delivered before the next moment (a segment's line comes just after the call that sent it); and the timeline
holds the events up to it, drawn at its time.

The table shows the sockets as the recorder read them at the moment, placed by the reading's time, not by its
line: a reading's line can come before events that happened before it (the screen hands events on a moment
late), or after several moments of one burst (the recorder reads once after a batch). A reading belongs to a
moment if no event of the log came between the moment's latest event and it (`_span`). A moment with no such
reading (two calls a fraction of a millisecond apart) is shown with the nearest reading that tells its
effects, and `Scene.reading` says which and how far it is: a call just made, with the reading before it; any
other moment with the first reading after it.

Stepping back is reading again from the start of the session: a few thousand records cost a few milliseconds,
so nothing else is kept.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from sockviz.core.model.events import Event, SocketAdded, StepCalled
from sockviz.core.story.recording.format import (
    Ended,
    EventRecord,
    HeldShown,
    Note,
    Predicted,
    Record,
    Revealed,
    Said,
    SessionStarted,
    SocketsRecord,
    WireShown,
)
from sockviz.core.story.recording.sockets import SocketState
from sockviz.core.story.sentences import StoryLine, Storyteller

ENDED = "the session ended here, and sockviz closed what was still open"
NOT_READ_YET = "table: not read yet in this recording"
BEFORE_THIS_CALL = "table: as before this call, which has no reading of its own"
LAST_READ_BEFORE = "table: as last read, before this moment: none was read after it"
"""What the replay's bar says of a table that is not the moment's own reading (`Scene.reading`), besides how
long after the moment it was read (`_read_after`)."""


@dataclass
class Scene:
    """What the screen shows at one moment of a recording."""

    moment: int
    """Which moment this is, from 0."""
    session: SessionStarted | None
    at: float
    """The moment's time, in seconds since its session began."""
    lines: list[StoryLine] = field(default_factory=list)
    """The log's lines up to the moment, in order: events' lines (kind: the event's class), `lesson`, notes."""
    sockets: dict[int, SocketState] = field(default_factory=dict)
    """Each socket by its id, as last read before the next moment, in the order they were made."""
    events: list[Event] = field(default_factory=list)
    """The session's events up to the moment, for the timeline."""
    wire: list[WireShown] = field(default_factory=list)
    """The wire view's lines (while the lecturer's capture ran) up to the next moment, as the table's rows are:
    the capture's reader delivers a segment's line a few tens of milliseconds after the call that caused it."""
    reading: str | None = None
    """Why the table is not a reading of this moment's own, and which it is (`the table as read 0.4 ms after
    this moment, after 1 more: the recording has no reading between`); None when it is, or when the session has
    made no socket yet."""
    held: list[tuple[str, SocketState]] = field(default_factory=list)
    """The rows the table kept from before the reset that began this session (by their keys), as last recorded
    before the next moment."""
    ended: bool = False


class Playback:
    """The moments of a recording, and the scene at any one of them."""

    def __init__(self, records: Sequence[Record] = ()) -> None:
        self.records: list[Record] = []
        self.moments: list[int] = []
        """The index in `records` of each moment."""
        self._storyteller = Storyteller()
        for record in records:
            self.add(record)

    def add(self, record: Record) -> bool:
        """One more record, at the end (a follower's, as it comes); True if it makes a new moment.

        A verdict goes right after the event that settled it, where the live log showed it."""
        if isinstance(record, Revealed) and record.after is not None:
            place = self._after_event(record.after)
            if place is not None:
                self.records.insert(place, record)
                self._count_moments()
                return True
        self.records.append(record)
        return self._count(len(self.records) - 1)

    def _after_event(self, seq: int) -> int | None:
        """Where a record that follows the event `seq` of the last session goes (after other such records)."""
        for index in range(len(self.records) - 1, -1, -1):
            record = self.records[index]
            if isinstance(record, SessionStarted):
                return None
            if isinstance(record, EventRecord) and record.event.seq == seq:
                place = index + 1
                while place < len(self.records) and isinstance(self.records[place], Revealed):
                    place += 1
                return place
        return None

    def _count_moments(self) -> None:
        self.moments.clear()
        self._storyteller = Storyteller()
        for index in range(len(self.records)):
            self._count(index)

    def _count(self, index: int) -> bool:
        record = self.records[index]
        if isinstance(record, SessionStarted):
            self._storyteller = Storyteller()
        if isinstance(record, EventRecord):
            moment = bool(self._storyteller.lines(record.event))
        else:
            moment = isinstance(record, Said | Note | Predicted | Revealed | SessionStarted | Ended)
        if moment:
            self.moments.append(index)
        return moment

    def __len__(self) -> int:
        return len(self.moments)

    def scene(self, moment: int) -> Scene:
        """The screen at a moment (clamped to the first and the last)."""
        if not self.moments:
            return Scene(moment=0, session=None, at=0.0)
        moment = max(0, min(moment, len(self.moments) - 1))
        index = self.moments[moment]
        start = next((i for i in range(index, -1, -1) if isinstance(self.records[i], SessionStarted)), 0)
        following = self.moments[moment + 1] if moment + 1 < len(self.moments) else len(self.records)
        first = self.records[start]
        scene = Scene(moment=moment, session=first if isinstance(first, SessionStarted) else None, at=0.0)
        storyteller = Storyteller()
        for position in range(start, following):
            record = self.records[position]
            told = position <= index  # what the log and timeline show; the wire reads on to the next moment
            if isinstance(record, SocketsRecord):
                continue  # placed by their time, below
            elif isinstance(record, WireShown):
                scene.wire.append(record)
            elif isinstance(record, HeldShown):
                scene.held = list(zip(record.keys, record.sockets, strict=False))
            elif not told:
                continue
            elif isinstance(record, Ended):
                scene.ended = True
                scene.lines.append(StoryLine(seq=-1, at=record.at, side="end", text=ENDED, kind="guide"))
                scene.at = record.at
            elif isinstance(record, EventRecord):
                scene.events.append(record.event)
                scene.lines.extend(storyteller.lines(record.event))
                scene.at = record.event.at
            elif isinstance(record, Said):
                scene.lines.append(StoryLine(seq=-1, at=record.at, side="lesson", text=record.text, kind="lesson"))
                scene.at = record.at
            elif isinstance(record, Predicted | Revealed):
                scene.lines.append(StoryLine(seq=-1, at=record.at, side="guess", text=record.text, kind="predict"))
                scene.at = record.at
            elif isinstance(record, Note):
                scene.lines.append(StoryLine(seq=-1, at=record.at, side=record.who, text=record.text, kind=record.kind))
                scene.at = record.at
        readings, shown, scene.reading = self._table_at(moment, start)
        for reading in readings[: shown + 1]:
            scene.sockets.update((state.id, state) for state in reading.sockets)
        scene.sockets = dict(sorted(scene.sockets.items()))
        return scene

    # ----- the table's reading of a moment ------------------------------------------

    def _table_at(self, moment: int, start: int) -> tuple[list[SocketsRecord], int, str | None]:
        """The session's readings in time order, the last of them that the table at `moment` has taken in (-1:
        none), and what the screen says of that reading (None: it is the moment's own)."""
        end = self._session_end(start)
        readings = sorted((r for r in self.records[start:end] if isinstance(r, SocketsRecord)), key=lambda r: r.at)
        if not self._made_sockets(start, moment) and not any(reading.sockets for reading in readings):
            return readings, -1, None  # the session has made no socket (yet): there is nothing to read
        chosen = self._reading_of(moment, readings)
        if chosen < 0:
            return readings, -1, NOT_READ_YET
        at, taken = self._at(moment), readings[chosen].at
        since, until = self._span(moment)
        if since <= taken < until:
            return readings, chosen, None
        if taken < since and self._called(moment):
            return readings, chosen, BEFORE_THIS_CALL
        if taken < since:
            return readings, chosen, LAST_READ_BEFORE
        later = sum(1 for m in self._moments_of(moment + 1, end) if self._at(m) <= taken)
        return readings, chosen, _read_after(_duration(taken - at), later)

    def longest_reading(self) -> str:
        """As long as `Scene.reading` can be in this recording (its moments' count, the widest duration): the
        replay's bar keeps room for it at every moment, so that stepping on does not move the screen."""
        widest = _read_after("999.9 s", max(len(self.moments), 2))
        return max(NOT_READ_YET, BEFORE_THIS_CALL, LAST_READ_BEFORE, widest, key=len)

    def _reading_of(self, moment: int, readings: list[SocketsRecord]) -> int:
        """Which reading the table shows at `moment`: one of its span (no event of the log came between), the
        latest taken by the moment's time or else the first after it; for a call just begun that has none, the
        moment before's (its effects are still to come); for any other, the first after the span (which may tell
        the next moments' effects too, and the screen says so); the last, if none came after. Never an earlier
        one than the moment before's: going on never takes a row away."""
        record = self.records[self.moments[moment]]
        if isinstance(record, SessionStarted) or not readings:
            return -1  # a session begins with no socket of its own
        at = self._at(moment)
        since, until = self._span(moment)
        own = [n for n, reading in enumerate(readings) if since <= reading.at < until]
        # Better one taken once the recorder had heard the moment's events: its "now" column is of those it had
        # heard (`accept() blocked 0 s` rather than `in accept()`), as the live table's is of those it had shown.
        told = self._told(moment)
        own = [n for n in own if readings[n].after >= told] or own
        if own:
            by_then = [n for n in own if readings[n].at <= at]
            return by_then[-1] if by_then else own[0]
        if self._called(moment) and moment > 0:
            return self._reading_of(moment - 1, readings)
        after = [n for n, reading in enumerate(readings) if reading.at >= until]
        return after[0] if after else len(readings) - 1

    def _told(self, moment: int) -> int:
        """The seq of the last event at or before the moment's record (0: none yet)."""
        for index in range(self.moments[moment], -1, -1):
            record = self.records[index]
            if isinstance(record, SessionStarted):
                return 0
            if isinstance(record, EventRecord):
                return record.event.seq
        return 0

    def _called(self, moment: int) -> bool:
        """Whether the moment is a call just begun (its line of Python)."""
        record = self.records[self.moments[moment]]
        return isinstance(record, EventRecord) and isinstance(record.event, StepCalled)

    def _session_end(self, start: int) -> int:
        """The index of the record that starts the next session, or the end of the records."""
        for index in range(start + 1, len(self.records)):
            if isinstance(self.records[index], SessionStarted):
                return index
        return len(self.records)

    def _moments_of(self, first: int, end: int) -> range:
        """The moments from `first` on whose records come before `end` (the session's)."""
        last = first
        while last < len(self.moments) and self.moments[last] < end:
            last += 1
        return range(first, last)

    def _made_sockets(self, start: int, moment: int) -> bool:
        return any(isinstance(r, EventRecord) and isinstance(r.event, SocketAdded)
                   for r in self.records[start : self.moments[moment] + 1])  # fmt: skip

    def _span(self, moment: int) -> tuple[float, float]:
        """From the moment's latest event (its own, if it is one) to the next event of the log (or the end): no
        call of the log began or ended in between, so a reading taken then shows the table as it was at the
        moment."""
        since = 0.0
        for m in range(moment, -1, -1):
            record = self.records[self.moments[m]]
            if isinstance(record, SessionStarted):
                break
            if isinstance(record, EventRecord | Ended):  # the end closes what was open
                since = self._at(m)
                break
        until = math.inf
        for m in range(moment + 1, len(self.moments)):
            record = self.records[self.moments[m]]
            if isinstance(record, SessionStarted):
                break
            if isinstance(record, EventRecord | Ended):
                until = max(since, self._at(m))
                break
        return since, until

    def describe(self, moment: int) -> str:
        """`moment 7 of 58 · 1.254 s`, for the replay's bar."""
        if not self.moments:
            return "an empty recording"
        scene_at = self._at(moment)
        return f"moment {moment + 1} of {len(self.moments)} · {scene_at:.3f} s"

    def gap(self, moment: int) -> float:
        """Seconds between this moment and the next, as recorded (a new session comes after half a second)."""
        if moment + 1 >= len(self.moments):
            return 0.0
        following = self.records[self.moments[moment + 1]]
        if isinstance(following, SessionStarted):
            return 0.5
        return max(0.0, self._at(moment + 1) - self._at(moment))

    def _at(self, moment: int) -> float:
        record = self.records[self.moments[max(0, min(moment, len(self.moments) - 1))]]
        if isinstance(record, EventRecord):
            return record.event.at
        return record.at if isinstance(record, Said | Note | Predicted | Revealed | Ended) else 0.0


def _read_after(duration: str, later: int) -> str:
    """`table: as read 30 ms after this moment, after the next moment too`."""
    more = "the next moment" if later == 1 else f"the next {later} moments"
    return f"table: as read {duration} after this moment, after {more} too"


def _duration(seconds: float) -> str:
    """`0.4 ms`, `35 ms`, `1.2 s`."""
    seconds = max(0.0, seconds)
    if seconds < 0.01:
        return f"{seconds * 1000:.1f} ms"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.1f} s"
