"""The records of the session format, one frozen dataclass per kind of line, and the kind each is written as.

What each record holds is what a reader of a recording may rely on (the README's "The session
format" documents every field); how they become JSON lines and back is format.py's. A new kind of
line is a dataclass here, its name in `KINDS`, and its place in `Record`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sockviz.core.model.events import Event
from sockviz.core.model.steps import Step
from sockviz.core.story.recording.sockets import SocketState

FORMAT = "sockviz-session"
VERSION = 2
"""Raised when a record's meaning changes; a new record kind or a new field needs no new version. Version 2:
a `sockets` record's row of a socket already written in its session holds only what changed."""
READS = (1, 2)
"""The versions this sockviz reads: a version 1 recording's rows are whole, which version 2 reads as changes of
every field."""


@dataclass(frozen=True)
class Header:
    """The first line: which format, which version, who wrote it and when."""

    source: str
    """`run` (a scenario played with no screen) or `app` (the app, with --record)."""
    wall: str
    """When the recording began, in UTC, ISO 8601: the events' `at` count from each session's start."""
    version: int = VERSION


@dataclass(frozen=True)
class SessionStarted:
    """A session began: the first after the header, and again after each reset (`0`), whose events count anew."""

    number: int
    host: str
    port: int
    family: str
    """`AF_INET` or `AF_INET6`."""


@dataclass(frozen=True)
class EventRecord:
    """One event of the session's stream, and the log's line for it where it makes one (for people and jq)."""

    event: Event
    text: str | None = None
    why: str | None = None


@dataclass(frozen=True)
class SocketsRecord:
    """The sockets whose row changed, each whole, as read at `at` once the events up to `after` were told."""

    at: float
    after: int
    """The seq of the last event told before the sockets were read: a reader shows them from there on."""
    sockets: tuple[SocketState, ...]


@dataclass(frozen=True)
class Said:
    """A lesson's narration (`say`), or what sockviz said about the lesson (a failed `expect`)."""

    at: float
    line: int
    text: str


@dataclass(frozen=True)
class Note:
    """A log line that is no event: a value a field refused (`refused`), the guide (`guide`)."""

    at: float
    who: str
    text: str
    kind: str


@dataclass(frozen=True)
class Moved(Note):
    """Why a lesson runs on another port than the top bar said: the kernel held the bar's port where the
    lesson's first bind() could not get past it (`core/scenario/lesson_port.py`). A note (the guide's line,
    `who` "lesson") with the port the lesson runs on; a reader that knows no `moved` kind skips it."""

    port: int


@dataclass(frozen=True)
class Asked:
    """Predict mode asked, before a step, what its call will do (no line in the log: the question is on screen)."""

    at: float
    step: Step
    question: str
    """`Will server accept() wait, return at once, or fail?`"""
    choices: tuple[str, ...]
    """The answers offered, in the words of `Guess`: `waits`, `returns at once`, `fails`."""


@dataclass(frozen=True)
class Predicted:
    """The answer given; the step runs next. `text` is the log's line for it."""

    at: float
    step: Step
    guess: str
    text: str


@dataclass(frozen=True)
class Revealed:
    """What the call did, against the guess and the kernel's evidence. `text` is the log's line, with the score."""

    at: float
    step: Step
    guess: str
    outcome: str | None
    """`waits`, `returns at once` or `fails`; None when the step was not run at all (then nothing is scored)."""
    call: int | None
    """The call's id, as its events carry it."""
    text: str
    after: int | None = None
    """The seq of the event that settled it: the log shows the verdict right after that event's line (the
    record itself may come a few events later, as the screen heard the event after the session told it)."""


@dataclass(frozen=True)
class WireShown:
    """A line of the wire view (`w`) as the lecturer's pane drew it, while its capture ran: a segment, a run of
    them summed up, a call between them, frames dropped. No frame itself: the line's text, in parts that each
    carry a kind (`sockviz.core.story.wire_text`), so that a follower's or a replay's pane draws the same line.
    Not a moment of a replay: it shows with the moment it came after."""

    at: float
    """When it happened on the session's clock (a summary: its last segment); it is written when the capture's
    reader delivered it, a few tens of milliseconds later, so it may come after the next call's events."""
    parts: tuple[tuple[str, str], ...]
    """`[["   0.105 ", "aside"], ["c → s          ", ""], ["SYN      ", "flags"], ["seq=0 ack=0 len=0", "aside"]]`"""


@dataclass(frozen=True)
class HeldShown:
    """The rows the table keeps above the session's own after a reset: connections of the sessions before it
    that the kernel still holds (TIME_WAIT and the like), each whole, with the key the table shows it by. Written
    when they change (their time left, the kernel dropping one), and at each session's start while any are held;
    an empty one says none are held any more. Not a moment of a replay: it shows with the moment it came after."""

    at: float
    keys: tuple[str, ...]
    """`held-1-3`: the reset it came from and its id then (the session's own ids start again at each reset)."""
    sockets: tuple[SocketState, ...]
    """In the same order as `keys`."""


@dataclass(frozen=True)
class TimelineText:
    """`sockviz run --timeline`: the run's timeline as text, and its legend."""

    lines: tuple[str, ...]
    legend: str


@dataclass(frozen=True)
class Ended:
    """The session ended (quit, reset, or the scenario's end), and sockviz closed what it left open: one last
    reading of its sockets may follow, and nothing else of this session."""

    at: float


Record = (
    Header
    | SessionStarted
    | EventRecord
    | SocketsRecord
    | Said
    | Note
    | Moved
    | Asked
    | Predicted
    | Revealed
    | WireShown
    | HeldShown
    | TimelineText
    | Ended
)

KINDS: dict[type, str] = {
    Header: "header",
    SessionStarted: "session",
    EventRecord: "event",
    SocketsRecord: "sockets",
    Said: "say",
    Note: "note",
    Moved: "moved",
    Asked: "asked",
    Predicted: "predicted",
    Revealed: "revealed",
    WireShown: "wire",
    HeldShown: "held",
    TimelineText: "timeline",
    Ended: "end",
}


def header(source: str, wall: datetime | None = None) -> Header:
    """The header for a recording that begins now (or at `wall`)."""
    when = (wall or datetime.now(UTC)).astimezone(UTC)
    return Header(source=source, wall=when.isoformat(timespec="milliseconds").replace("+00:00", "Z"))
