"""The session format: a session's events and its sockets' snapshots as JSON lines, versioned.

`sockviz run --json` prints it, `--record FILE` writes it, and `sockviz replay` and a follower read it.
Each line is one JSON object whose `record` says what it is (the README's "The session format"
documents every field). The first line is the header, with the format's name and `version`; a
reader refuses any other version with a message that says which it found and which it reads, and
skips record kinds and fields it does not know, so a later sockviz may add some within a version.

Everything a front end needs is in the lines, so a reader needs no live socket: an event decodes
to the same frozen `Event` the session told (its step looked up by id in the catalogue), and a
`sockets` record to `SocketState`s that the table draws as it draws live sockets.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import json
import types
import typing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sockviz.core.model import events
from sockviz.core.model.events import Event
from sockviz.core.model.steps import STEPS_BY_ID, Step
from sockviz.core.story.recording.sockets import SocketState

FORMAT = "sockviz-session"
VERSION = 1
"""Raised when a record's meaning changes; a new record kind or a new field needs no new version."""


class FormatError(ValueError):
    """A line that is not of this format, or of a version this sockviz cannot read: the message says which."""


# ----- the records -----------------------------------------------------------


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
    | Asked
    | Predicted
    | Revealed
    | WireShown
    | TimelineText
    | Ended
)

_KINDS: dict[type, str] = {
    Header: "header",
    SessionStarted: "session",
    EventRecord: "event",
    SocketsRecord: "sockets",
    Said: "say",
    Note: "note",
    Asked: "asked",
    Predicted: "predicted",
    Revealed: "revealed",
    WireShown: "wire",
    TimelineText: "timeline",
    Ended: "end",
}


def _event_classes() -> dict[str, type[Event]]:
    """Every event class of the model, by name: the ones the session tells (not their common bases)."""
    found: dict[str, type[Event]] = {}
    for value in vars(events).values():
        if isinstance(value, type) and issubclass(value, Event) and value is not Event:
            found[value.__name__] = value
    found.pop("StepFinished", None)  # the base of StepReturned and StepFailed: never told itself
    return found


EVENT_CLASSES: dict[str, type[Event]] = _event_classes()


def header(source: str, wall: datetime | None = None) -> Header:
    """The header for a recording that begins now (or at `wall`)."""
    when = (wall or datetime.now(UTC)).astimezone(UTC)
    return Header(source=source, wall=when.isoformat(timespec="milliseconds").replace("+00:00", "Z"))


# ----- values: dataclasses, steps, enums, bytes, tuples --------------------------


def _encode(value: Any) -> Any:
    """A value as JSON: a step by its id, an enum by its value, bytes as base64, a dataclass field by field."""
    if isinstance(value, Step):
        return value.id
    if isinstance(value, enum.Enum):
        return value.value
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, tuple | list):
        return [_encode(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: _encode(getattr(value, field.name)) for field in dataclasses.fields(value)}
    raise TypeError(f"the session format has no way to write a {type(value).__name__}: add one to format.py")


_HINTS: dict[type, dict[str, Any]] = {}
"""Each dataclass's field types, resolved once: get_type_hints reads the annotations' strings."""


def _decode(hint: Any, raw: Any, where: str) -> Any:
    """The value `_encode` wrote, back as the type the dataclass declares."""
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        if raw is None:
            return None
        options = [option for option in typing.get_args(hint) if option is not type(None)]
        return _decode(options[0], raw, where)
    if raw is None:
        return None
    if hint is Step:
        found = STEPS_BY_ID.get(raw)
        if found is None:
            raise FormatError(f"{where}: step {raw!r} is not in this sockviz's catalogue (a newer sockviz wrote it?)")
        return found
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        try:
            return hint(raw)
        except ValueError:
            raise FormatError(f"{where}: {raw!r} is not a {hint.__name__}") from None
    if hint is bytes:
        return base64.b64decode(raw, validate=True)
    if origin is tuple and len(typing.get_args(hint)) == 2 and typing.get_args(hint)[1] is Ellipsis:
        if not isinstance(raw, list):
            raise FormatError(f"{where}: expected a list, found {type(raw).__name__}")
        item = typing.get_args(hint)[0]
        return tuple(_decode(item, value, f"{where}[{index}]") for index, value in enumerate(raw))
    if hint is tuple or origin is tuple:
        return _tuple(raw)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass(hint, raw, where)
    if hint is float and isinstance(raw, int):
        return float(raw)
    return raw


def _tuple(raw: Any) -> Any:
    """An address or a pair of ends: JSON lists back to the tuples Python gave."""
    return tuple(_tuple(item) for item in raw) if isinstance(raw, list) else raw


def _dataclass(cls: type, raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise FormatError(f"{where}: expected an object for {cls.__name__}, found {type(raw).__name__}")
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    values = {}
    for field in dataclasses.fields(cls):
        if field.name in raw:
            values[field.name] = _decode(hints[field.name], raw[field.name], f"{where}.{field.name}")
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise FormatError(f"{where}: {cls.__name__} needs {field.name!r}, and the line has none")
    return cls(**values)


# ----- lines ---------------------------------------------------------------------


def encode(record: Record) -> str:
    """One line of the format, without its newline."""
    kind = _KINDS[type(record)]
    if isinstance(record, Header):
        fields: dict[str, Any] = {"format": FORMAT, "version": record.version, "source": record.source,
                                  "wall": record.wall}  # fmt: skip
    elif isinstance(record, EventRecord):
        event = record.event
        fields = {"type": type(event).__name__, **_encode(event)}
        if record.text is not None:
            fields["text"] = record.text
        if record.why is not None:
            fields["why"] = record.why
    else:
        fields = _encode(record)
    return json.dumps({"record": kind, **fields}, separators=(",", ":"))


def decode(line: str, where: str = "line") -> Record | None:
    """A line back as its record; None for a record kind this sockviz does not know (a later one may add kinds).

    Raises FormatError for a line that is not JSON, not an object, or a header of another format or version.
    """
    try:
        raw = json.loads(line)
    except ValueError as error:
        raise FormatError(f"{where}: not JSON ({error})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("record"), str):
        raise FormatError(f'{where}: not a record of the sockviz session format (no "record" field)')
    kind = raw["record"]
    if kind == "header":
        return check_header(raw, where)
    if kind == "event":
        return _event(raw, where)
    cls = next((cls for cls, name in _KINDS.items() if name == kind), None)
    if cls is None:
        return None
    return _dataclass(cls, raw, f"{where} ({kind})")


def check_header(raw: dict[str, Any], where: str = "line") -> Header:
    """The header's format and version, checked: anything but this format's version 1 is refused, saying why."""
    if raw.get("format") != FORMAT:
        raise FormatError(f"{where}: not a sockviz session (its header names format {raw.get('format')!r})")
    version = raw.get("version")
    if version != VERSION:
        raise FormatError(
            f"{where}: this is version {version!r} of the sockviz session format, and this sockviz reads "
            f"version {VERSION} only: replay it with the sockviz that wrote it"
        )
    return Header(source=str(raw.get("source", "")), wall=str(raw.get("wall", "")), version=VERSION)


def _event(raw: dict[str, Any], where: str) -> EventRecord | None:
    name = raw.get("type")
    cls = EVENT_CLASSES.get(str(name))
    if cls is None:
        return None  # an event class this sockviz does not have: skipped, as an unknown record kind is
    event = _dataclass(cls, raw, f"{where} ({name})")
    return EventRecord(event, text=raw.get("text"), why=raw.get("why"))


def read_lines(lines: typing.Iterable[str], name: str = "the recording") -> list[Record]:
    """Every record of a whole recording, its header first; FormatError (with the line's number) otherwise."""
    records: list[Record] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        record = decode(line, f"{name}, line {number}")
        if not records and not isinstance(record, Header):
            raise FormatError(f"{name}, line {number}: a sockviz session begins with its header; this does not")
        if record is not None:
            records.append(record)
    if not records:
        raise FormatError(f"{name} is empty: a sockviz session begins with its header")
    return records
