"""The session format: a session's events and its sockets' snapshots as JSON lines, versioned.

`sockviz run --json` prints it, `--record FILE` writes it, and `sockviz replay` and a follower read it.
Each line is one JSON object whose `record` says what it is (the README's "The session format"
documents every field). The first line is the header, with the format's name and `version`; a
reader refuses any other version with a message that says which it found and which it reads, and
skips record kinds and fields it does not know, so a later sockviz may add some within a version.

Everything a front end needs is in the lines, so a reader needs no live socket: an event decodes
to the same frozen `Event` the session told (its step looked up by id in the catalogue), and a
`sockets` record to `SocketState`s that the table draws as it draws live sockets. The records
themselves are records.py's; this module writes and reads them, and every name is importable here.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import json
import types
import typing
from typing import Any

from sockviz.core.model import events
from sockviz.core.model.events import Event
from sockviz.core.model.steps import STEPS_BY_ID, Step
from sockviz.core.story.recording.records import (
    FORMAT,
    KINDS,
    VERSION,
    Asked,
    Ended,
    EventRecord,
    Header,
    Note,
    Predicted,
    Record,
    Revealed,
    Said,
    SessionStarted,
    SocketsRecord,
    TimelineText,
    WireShown,
    header,
)

__all__ = [
    "EVENT_CLASSES",
    "FORMAT",
    "KINDS",
    "VERSION",
    "Asked",
    "Ended",
    "EventRecord",
    "FormatError",
    "Header",
    "Note",
    "Predicted",
    "Record",
    "Revealed",
    "Said",
    "SessionStarted",
    "SocketsRecord",
    "TimelineText",
    "WireShown",
    "check_header",
    "decode",
    "encode",
    "header",
    "read_lines",
]


class FormatError(ValueError):
    """A line that is not of this format, or of a version this sockviz cannot read: the message says which."""


def _event_classes() -> dict[str, type[Event]]:
    """Every event class of the model, by name: the ones the session tells (not their common bases)."""
    found: dict[str, type[Event]] = {}
    for value in vars(events).values():
        if isinstance(value, type) and issubclass(value, Event) and value is not Event:
            found[value.__name__] = value
    found.pop("StepFinished", None)  # the base of StepReturned and StepFailed: never told itself
    return found


EVENT_CLASSES: dict[str, type[Event]] = _event_classes()


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
    kind = KINDS[type(record)]
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
    cls = next((cls for cls, name in KINDS.items() if name == kind), None)
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
