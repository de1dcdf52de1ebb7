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

Since version 2 a `sockets` record carries, for a socket already written in its session, only what changed
(`Rows` writes it, `Reader` reads it back whole): a follower decodes every row the lecturer's table changes,
and the rows were most of the bytes and half the decoding of a lesson. A version 1 file's whole rows read the
same way, as changes of every field.
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
    READS,
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
from sockviz.core.story.recording.sockets import SocketState

__all__ = [
    "EVENT_CLASSES",
    "FORMAT",
    "KINDS",
    "READS",
    "VERSION",
    "Asked",
    "Ended",
    "EventRecord",
    "FormatError",
    "Header",
    "HeldShown",
    "Note",
    "Predicted",
    "Reader",
    "Record",
    "Revealed",
    "Rows",
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
_BY_KIND: dict[str, type] = {name: cls for cls, name in KINDS.items()}


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
        return _tuple  # None stays None
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _Later(hint)
    if hint is float:
        return _float
    return _same


def _same(raw: Any) -> Any:
    """A value JSON gives as it was written (a string, an int, a bool): a dataclass's field takes it as it is."""
    return raw


def _float(raw: Any) -> Any:
    """A float that JSON gave as an int (`0`), as the float it was. Written inline by `_compiled`."""
    return float(raw) if raw.__class__ is int else raw


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


class _Later:
    """A dataclass's decoder until its first line: compiled then (`_compiled_decoder`), so that a dataclass may
    name one declared after it. A dataclass compiled after it calls the compiled one itself, not this."""

    def __init__(self, cls: type) -> None:
        self.cls = cls

    def __call__(self, raw: Any) -> Any:
        return _compiled_decoder(self.cls)(raw)


_COMPILED: dict[type, Decoder] = {}
_COMPILING: set[type] = set()
"""The dataclasses being compiled now: one that names itself, or one that names it, keeps its `_Later`."""


def _compiled_decoder(cls: type) -> Decoder:
    found = _COMPILED.get(cls)
    if found is None:
        _COMPILING.add(cls)
        try:
            found = _COMPILED[cls] = _compiled(cls)
        finally:
            _COMPILING.discard(cls)
    return found


def _direct(found: Decoder) -> Decoder:
    """A field's decoder as a compiled function calls it: a dataclass's own compiled decoder, made now, rather
    than its `_Later` (one call fewer for each nested object of each line)."""
    if isinstance(found, _Later) and found.cls not in _COMPILING:
        return _compiled_decoder(found.cls)
    return found


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
    checks = [(field.name, _direct(_decoder(hints[field.name])), _needed(field)) for field in fields]
    namespace: dict[str, Any] = {"_Wrong": _Wrong, "cls": cls, "new": object.__new__, "fill": object.__setattr__}
    parts = []
    for number, (field, (name, found, _)) in enumerate(zip(fields, checks, strict=True)):
        key = repr(name)
        value = f"raw[{key}]"
        if found is _float:  # inline: most events' `at` and `started`, and every row's reading
            value = f"(float(v) if (v := raw[{key}]).__class__ is int else v)"
        elif found is not _same:
            namespace[f"decode_{number}"] = found
            value = f"decode_{number}({value})"
        if field.default is not dataclasses.MISSING:
            namespace[f"default_{number}"] = field.default
            value = f"{value} if {key} in raw else default_{number}"
        elif field.default_factory is not dataclasses.MISSING:
            namespace[f"factory_{number}"] = field.default_factory
            value = f"{value} if {key} in raw else factory_{number}()"
        parts.append(f"{key}: {value}")
    made = "made = new(cls)\n    fill(made, '__dict__', values)" if _plain(cls) else "made = cls(**values)"
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
    """An address or a pair of ends: JSON lists back to the tuples Python gave (an address, the most of them,
    has no list in it, and is made in one step)."""
    if raw.__class__ is not list:
        return raw
    for item in raw:
        if item.__class__ is list:
            return tuple([_tuple(item) for item in raw])
    return tuple(raw)


def _dataclass(cls: type, raw: Any, where: str, kind: str) -> Any:
    """A record or an event from its line's object; FormatError saying where in the line (`where (kind)`), if
    it is not one."""
    try:
        return _compiled_decoder(cls)(raw)
    except _Wrong as wrong:
        raise FormatError(f"{where} ({kind}){wrong.path}: {wrong.why}") from None


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
    cls = _BY_KIND.get(kind)
    if cls is None:
        return None
    return _dataclass(cls, raw, where, kind)


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
    """The header's format and version, checked: a version this sockviz does not read (`READS`) is refused,
    saying why."""
    if raw.get("format") != FORMAT:
        raise FormatError(f"{where}: not a sockviz session (its header names format {raw.get('format')!r})")
    version = raw.get("version")
    if version not in READS or isinstance(version, bool):
        readable = " and ".join(str(number) for number in READS)
        raise FormatError(
            f"{where}: this is version {version!r} of the sockviz session format, and this sockviz reads "
            f"versions {readable} only: replay it with the sockviz that wrote it"
        )
    return Header(source=str(raw.get("source", "")), wall=str(raw.get("wall", "")), version=int(version))


def _event(raw: dict[str, Any], where: str) -> EventRecord | None:
    name = raw.get("type")
    cls = EVENT_CLASSES.get(name) if isinstance(name, str) else None
    if cls is None or not isinstance(name, str):
        return None  # an event class this sockviz does not have: skipped, as an unknown record kind is
    event = _dataclass(cls, raw, where, name)
    return EventRecord(event, text=raw.get("text"), why=raw.get("why"))


def read_lines(lines: typing.Iterable[str], name: str = "the recording") -> list[Record]:
    """Every record of a whole recording, its header first; FormatError (with the line's number) otherwise."""
    records: list[Record] = []
    reader = Reader()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        record = reader.decode(line, f"{name}, line {number}")
        if not records and not isinstance(record, Header):
            raise FormatError(f"{name}, line {number}: a sockviz session begins with its header; this does not")
        if record is not None:
            records.append(record)
    if not records:
        raise FormatError(f"{name} is empty: a sockviz session begins with its header")
    return records


# ----- the sockets' rows: what changed -------------------------------------------

SOCKETS_LINE = '{"record":"sockets"'
"""How a `sockets` line begins (`encode` writes no spaces)."""
SESSION_LINE = '{"record":"session"'


class Rows:
    """Writes `sockets` records as changes: each socket's row as last written in the session, by its id.

    A socket's first row in a session is whole; after it, a row holds its `id` and the fields whose value
    changed, and a field that is an object in both rows (the `snapshot`, its `kernel`, `after_close`) holds
    only its own changed fields, the same way down. A value that became null is written null. `start` begins a
    session: its readers start afresh at its `session` line."""

    def __init__(self) -> None:
        self._written: dict[int, dict[str, Any]] = {}

    def start(self) -> None:
        self._written.clear()

    def encode(self, record: SocketsRecord) -> str:
        rows = []
        for state in record.sockets:
            row = _encode(state)
            before = self._written.get(state.id)
            self._written[state.id] = row
            rows.append(row if before is None else {"id": state.id, **_changes(before, row)})
        fields = {"record": "sockets", "at": record.at, "after": record.after, "sockets": rows}
        return json.dumps(fields, separators=(",", ":"))


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The fields of `after` whose value is not `before`'s; an object in both, as its own changes."""
    found: dict[str, Any] = {}
    for key, value in after.items():
        old = before.get(key, _CHANGES)
        if old == value and old.__class__ is value.__class__:  # 0 == False, 1 == 1.0: written as they now are
            continue
        found[key] = _changes(old, value) if value.__class__ is dict and old.__class__ is dict else value
    return found


_CHANGES = object()


class Reader:
    """Reads the lines of one recording or share, in order, keeping each socket's newest row: a `sockets`
    record's change of a socket read before comes back whole, as the socket's row with the change applied
    (version 1's whole rows are changes of every field). Every other line reads as `decode` reads it."""

    def __init__(self) -> None:
        self.rows: dict[int, SocketState] = {}
        """Each socket's newest row in the current session, by its id."""

    def decode(self, line: str, where: str = "line") -> Record | None:
        if line.startswith(SOCKETS_LINE):
            return self._sockets(read_json(line, where), where)
        record = decode(line, where)
        if isinstance(record, SessionStarted | Header):
            self.rows.clear()
        elif isinstance(record, SocketsRecord):  # written with spaces, by another writer: the same rows
            self.rows.update((state.id, state) for state in record.sockets)
        return record

    def _sockets(self, raw: Any, where: str) -> SocketsRecord:
        where = f"{where} (sockets)"
        if not isinstance(raw, dict) or not isinstance(raw.get("sockets"), list):
            raise FormatError(f"{where}: a sockets record needs a list of 'sockets'")
        rows = self.rows
        states = []
        for index, row in enumerate(raw["sockets"]):
            number = row.get("id") if isinstance(row, dict) else None
            old = rows.get(number) if isinstance(number, int) else None
            try:
                if not isinstance(row, dict):
                    raise _Wrong(f"expected an object for a socket, found {type(row).__name__}")
                state = _compiled_decoder(SocketState)(row) if old is None else _patch(SocketState, old, row)
            except _Wrong as wrong:
                raise FormatError(f"{where}.sockets[{index}]{wrong.path}: {wrong.why}") from None
            rows[state.id] = state
            states.append(state)
        try:
            at, after = float(raw["at"]), int(raw["after"])
        except (KeyError, TypeError, ValueError):
            raise FormatError(f"{where}: a sockets record needs its 'at' and 'after'") from None
        return SocketsRecord(at=at, after=after, sockets=tuple(states))


_PATCHERS: dict[type, Callable[[Any, Any], Any]] = {}
"""For each dataclass a row may change, its patcher: made once, at its first change."""


def _patch(cls: type, old: Any, raw: Any) -> Any:
    """`old` with the fields `raw` names decoded into it; a field that is a dataclass in `old` and an object
    in `raw`, patched the same way; a field `raw` does not name, `old`'s as it is."""
    patcher = _PATCHERS.get(cls)
    if patcher is None:
        patcher = _PATCHERS[cls] = _compiled_patch(cls)
    return patcher(old, raw)


def _compiled_patch(cls: type) -> Callable[[Any, Any], Any]:
    """One function for one dataclass, written for its fields as `_compiled` writes a decoder: for each field
    the change names, its value as is, through its decoder, or (a dataclass in both) patched; the object filled
    without `__init__` when it is only its fields. A change it refuses is read again field by field, to say
    which field is wrong and where."""
    fields = _patch_fields(cls)
    namespace: dict[str, Any] = {"_Wrong": _Wrong, "cls": cls, "new": object.__new__, "fill": object.__setattr__,
                                 "patch": _patch, "replace": dataclasses.replace}  # fmt: skip
    lines = []
    for number, (name, (found, nested)) in enumerate(fields.items()):
        key = repr(name)
        if found is _same:
            lines.append(f"    if {key} in raw:\n        values[{key}] = raw[{key}]")
            continue
        namespace[f"decode_{number}"] = found
        if nested is None:
            lines.append(f"    if {key} in raw:\n        values[{key}] = decode_{number}(raw[{key}])")
            continue
        namespace[f"nested_{number}"] = nested
        lines.append(f"""    if {key} in raw:
        value, current = raw[{key}], values[{key}]
        if value.__class__ is dict and current is not None:
            values[{key}] = patch(nested_{number}, current, value)
        else:
            values[{key}] = decode_{number}(value)""")
    made = "made = new(cls)\n    fill(made, '__dict__', values)" if _plain(cls) else "made = replace(old, **values)"
    body = "\n".join(lines).replace("\n", "\n    ")
    source = f"""def patched(old, raw):
    if raw.__class__ is not dict:
        raise _Wrong(f"expected an object for {cls.__name__}, found {{type(raw).__name__}}")
    values = old.__dict__.copy()
    try:
    {body}
    except _Wrong:
        wrong(old, raw)
        raise
    {made}
    return made
"""
    namespace["wrong"] = lambda old, raw: _first_wrong_change(fields, old, raw)
    exec(compile(source, f"<the session format's patcher for {cls.__name__}>", "exec"), namespace)
    return namespace["patched"]


def _first_wrong_change(fields: dict[str, tuple[Decoder, type | None]], old: Any, raw: dict[str, Any]) -> None:
    """Raise for the first field of a change that is wrong, saying which."""
    for name, value in raw.items():
        found = fields.get(name)
        if found is None:
            continue
        decoder, nested = found
        current = getattr(old, name, None)
        try:
            if nested is not None and current is not None and value.__class__ is dict:
                _patch(nested, current, value)
            else:
                decoder(value)
        except _Wrong as wrong:
            raise wrong.within(f".{name}") from None


def _patch_fields(cls: type) -> dict[str, tuple[Decoder, type | None]]:
    """Each field's decoder, and its dataclass if it is one (whose change is of its own fields)."""
    hints = typing.get_type_hints(cls)
    found: dict[str, tuple[Decoder, type | None]] = {}
    for field in dataclasses.fields(cls):
        hint = hints[field.name]
        if typing.get_origin(hint) in (types.UnionType, typing.Union):
            hint = next(option for option in typing.get_args(hint) if option is not type(None))
        nested = hint if isinstance(hint, type) and dataclasses.is_dataclass(hint) else None
        found[field.name] = (_direct(_decoder(hints[field.name])), nested)
    return found


def _plain(cls: type) -> bool:
    """Whether an object of `cls` is its fields and nothing more, so it can be filled without `__init__`."""
    fields = dataclasses.fields(cls)
    plain = cls.__dataclass_params__.init and not hasattr(cls, "__post_init__") and "__slots__" not in vars(cls)  # type: ignore[attr-defined]
    return bool(plain and all(field.init for field in fields))
