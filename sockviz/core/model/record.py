"""Bases that give a dataclass the `__repr__`, `__eq__` and `__hash__` that `@dataclass` would generate,
written once here instead of compiled for each class.

Python 3.11's `@dataclass` compiles every method it makes from source text, one `exec` each: about a
third of what importing sockviz costs before the first frame is the 49 dataclasses made at import, most of
it those methods. A class that takes a base here and `repr=False, eq=False` keeps the same behaviour: the
same repr text, equal when of the same class with equal compared fields (else NotImplemented), and, for
`FrozenRecord`, the same hash of those fields (`Record` stays unhashable, as a mutable dataclass with
eq is). Each class's field names are read once, at its first comparison or repr.
"""

from __future__ import annotations

import dataclasses
import reprlib
from collections.abc import Callable
from operator import attrgetter
from typing import Any

__all__ = ["FrozenRecord", "Record", "Shown"]

_Getter = Callable[[Any], tuple[Any, ...]]
_COMPARED: dict[type, _Getter] = {}
_HASHED: dict[type, _Getter] = {}
_SHOWN: dict[type, tuple[str, ...]] = {}


def _getter(names: list[str]) -> _Getter:
    """A tuple of the fields' values, as the generated methods build it (a 1-tuple for one field)."""
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda value: (one(value),)
    return attrgetter(*names) if names else lambda _value: ()


def _compared(cls: type) -> _Getter:
    getter = _COMPARED.get(cls)
    if getter is None:
        getter = _COMPARED[cls] = _getter([f.name for f in dataclasses.fields(cls) if f.compare])
    return getter


class Shown:
    """The dataclass repr: `Name(field=value, ...)` over the fields with repr=True."""

    @reprlib.recursive_repr()
    def __repr__(self) -> str:
        cls = type(self)
        names = _SHOWN.get(cls)
        if names is None:
            names = _SHOWN[cls] = tuple(f.name for f in dataclasses.fields(cls) if f.repr)  # type: ignore[arg-type]
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{cls.__qualname__}({shown})"


class Record(Shown):
    """The dataclass repr and eq; unhashable, as a mutable dataclass with eq=True is."""

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        values = _compared(self.__class__)
        return values(self) == values(other)

    __hash__ = None  # type: ignore[assignment]


class FrozenRecord(Record):
    """The frozen dataclass's repr, eq and hash (of the compared fields, or those with hash=True)."""

    def __hash__(self) -> int:
        cls = self.__class__
        values = _HASHED.get(cls)
        if values is None:
            hashed = [f.name for f in dataclasses.fields(cls) if (f.compare if f.hash is None else f.hash)]  # type: ignore[arg-type]
            values = _HASHED[cls] = _getter(hashed)
        return hash(values(self))
