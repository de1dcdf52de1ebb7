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
from collections.abc import Callable
from typing import Any

import orjson

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
    HeldShown,
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
    "HeldShown",
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
    "read_json",
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


class _Wrong(Exception):
    """A value that is not what its field declares; the path to it (`.call.step`) grows on the way up."""

    def __init__(self, why: str, path: str = "") -> None:
        super().__init__(why)
        self.why = why
        self.path = path

    def within(self, step: str) -> _Wrong:
        return _Wrong(self.why, step + self.path)


Decoder = Callable[[Any], Any]

_DECODERS: dict[Any, Decoder] = {}
"""A function for each declared type that turns what `_encode` wrote back into it: made once per type, since a
follower or a replay reads thousands of lines and asking `typing` about every field of each cost most of it."""


def _decoder(hint: Any) -> Decoder:
    found = _DECODERS.get(hint)
    if found is None:
        found = _DECODERS[hint] = _made(hint)
    return found


def _made(hint: Any) -> Decoder:
    """The decoder for one declared type (None stays None, whatever the type)."""
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        options = [option for option in typing.get_args(hint) if option is not type(None)]
        return _decoder(options[0])
    if hint is Step:
        return _step
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return _enum(hint)
    if hint is bytes:
        return lambda raw: None if raw is None else base64.b64decode(raw, validate=True)
    if origin is tuple and len(typing.get_args(hint)) == 2 and typing.get_args(hint)[1] is Ellipsis:
        return _items(_decoder(typing.get_args(hint)[0]))
    if hint is tuple or origin is tuple:
        return lambda raw: None if raw is None else _tuple(raw)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass_decoder(hint)
    if hint is float:
        return lambda raw: float(raw) if isinstance(raw, int) else raw
    return _same


def _same(raw: Any) -> Any:
    """A value JSON gives as it was written (a string, an int, a bool): a dataclass's field takes it as it is."""
    return raw


def _step(raw: Any) -> Step | None:
    if raw is None:
        return None
    found = STEPS_BY_ID.get(raw)
    if found is None:
        raise _Wrong(f"step {raw!r} is not in this sockviz's catalogue (a newer sockviz wrote it?)")
    return found


def _enum(cls: type[enum.Enum]) -> Decoder:
    members = cls._value2member_map_  # by value: calling the class runs EnumMeta's machinery for each value

    def decode(raw: Any) -> enum.Enum | None:
        if raw is None:
            return None
        try:
            return members[raw]
        except (KeyError, TypeError):
            pass
        try:
            return cls(raw)
        except ValueError:
            raise _Wrong(f"{raw!r} is not a {cls.__name__}") from None

    return decode


def _items(item: Decoder) -> Decoder:
    def decode(raw: Any) -> tuple[Any, ...] | None:
        if raw is None:
            return None
        if not isinstance(raw, list):
            raise _Wrong(f"expected a list, found {type(raw).__name__}")
        values = []
        for index, value in enumerate(raw):
            try:
                values.append(item(value))
            except _Wrong as wrong:
                raise wrong.within(f"[{index}]") from None
        return tuple(values)

    return decode


def _dataclass_decoder(cls: type) -> Decoder:
    """A dataclass from its object: each field by its own decoder (resolved at the first line, so that a
    dataclass may name one declared after it)."""
    made: Decoder | None = None

    def decode(raw: Any) -> Any:
        nonlocal made
        if made is None:
            made = _compiled(cls)
        return made(raw)

    return decode


def _compiled(cls: type) -> Decoder:
    """One function for one dataclass, written for its fields and compiled once, at its first line.

    A follower decodes every line of the lecturer's session, and two hundred followers share the lecturer's
    cores: a loop over the fields, asking of each whether the line has it and how it is decoded, was most of
    that. The function reads each field straight from the line's object (a value JSON gives as it is, such as a
    string or an int, is taken as it is; the others go through their own decoders; a missing field takes its
    default), and fills the instance without running the frozen dataclass's `__init__` (one
    `object.__setattr__` a field), which only stores the fields. A class whose `__init__` may do more (a
    `__post_init__`, slots, a field not in `__init__`) is called instead. A line it refuses is read again
    field by field, in order, to say which is missing or wrong and where."""
    hints = typing.get_type_hints(cls)
    fields = dataclasses.fields(cls)
    checks = [(field.name, _decoder(hints[field.name]), _needed(field)) for field in fields]
    namespace: dict[str, Any] = {"_Wrong": _Wrong, "cls": cls, "new": object.__new__, "fill": object.__setattr__}
    parts = []
    for number, (field, (name, found, _)) in enumerate(zip(fields, checks, strict=True)):
        key = repr(name)
        value = f"raw[{key}]"
        if found is not _same:
            namespace[f"decode_{number}"] = found
            value = f"decode_{number}({value})"
        if field.default is not dataclasses.MISSING:
            namespace[f"default_{number}"] = field.default
            value = f"{value} if {key} in raw else default_{number}"
        elif field.default_factory is not dataclasses.MISSING:
            namespace[f"factory_{number}"] = field.default_factory
            value = f"{value} if {key} in raw else factory_{number}()"
        parts.append(f"{key}: {value}")
    plain = cls.__dataclass_params__.init and not hasattr(cls, "__post_init__") and "__slots__" not in vars(cls)
    plain = plain and all(field.init for field in fields)
    made = "made = new(cls)\n    fill(made, '__dict__', values)" if plain else "made = cls(**values)"
    source = f"""def decode(raw):
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _Wrong(f"expected an object for {cls.__name__}, found {{type(raw).__name__}}")
    try:
        values = {{{", ".join(parts)}}}
    except (_Wrong, KeyError):
        wrong(raw)
        raise
    {made}
    return made
"""
    namespace["wrong"] = lambda raw: _first_wrong(cls.__name__, checks, raw)
    exec(compile(source, f"<the session format's decoder for {cls.__name__}>", "exec"), namespace)
    return namespace["decode"]


def _first_wrong(name: str, checks: list[tuple[str, Decoder, bool]], raw: dict[str, Any]) -> None:
    """Raise for the first field, in the class's order, that is wrong or missing."""
    for field, found, needed in checks:
        if field in raw:
            try:
                found(raw[field])
            except _Wrong as wrong:
                raise wrong.within(f".{field}") from None
        elif needed:
            raise _Wrong(f"{name} needs {field!r}, and the line has none")


def _needed(field: dataclasses.Field) -> bool:
    return field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING


def _tuple(raw: Any) -> Any:
    """An address or a pair of ends: JSON lists back to the tuples Python gave."""
    return tuple([_tuple(item) if item.__class__ is list else item for item in raw]) if raw.__class__ is list else raw


def _dataclass(cls: type, raw: Any, where: str) -> Any:
    """A record or an event from its line's object; FormatError saying where in the line, if it is not one."""
    try:
        return _decoder(cls)(raw)
    except _Wrong as wrong:
        raise FormatError(f"{where}{wrong.path}: {wrong.why}") from None


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
    raw = read_json(line, where)
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


def read_json(line: str, where: str = "line") -> Any:
    """A line's JSON. orjson reads it in a third of the time `json` takes, and every follower reads every line of
    the lecturer's session. What orjson refuses and `json` writes (NaN, Infinity, a lone surrogate) is read by
    `json`, so every line `json.loads` reads is read, to the same values but one: an integer beyond 64 bits, which
    sockviz never writes, comes as a float. FormatError if neither can read it."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(line)
    except ValueError as error:
        raise FormatError(f"{where}: not JSON ({error})") from None


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
