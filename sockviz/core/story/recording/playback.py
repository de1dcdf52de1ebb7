"""A recording as a series of moments, and what the screen showed at each: the log, the table, the timeline.

A moment is a record that adds a line to the log (an event that makes one, a narration, a note, the
session's end) or starts a session. At a moment, the log holds every line up to it; the table shows each socket as its
newest reading before the next moment (a reading comes just after the events that caused it), and the wire
view its lines delivered before the next moment (a segment's line comes just after the call that sent it); and
the timeline holds the events up to it, drawn at its time. Stepping back is reading again from the
start of the session: a few thousand records cost a few milliseconds, so nothing else is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sockviz.core.model.events import Event
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
            told = position <= index  # what the log and timeline show; the table reads on to the next moment
            if isinstance(record, SocketsRecord):
                scene.sockets.update((state.id, state) for state in record.sockets)
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
        scene.sockets = dict(sorted(scene.sockets.items()))
        return scene

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
