"""`@lazy_dataclass`: a dataclass whose methods are made at its first use, not when its module is imported.

Python 3.11's `@dataclass` compiles each method it makes from source text (an `exec` each), and reads every
annotation, when the class is defined: the 59 dataclasses that `import sockviz.app` defines took 24 ms of its
57 ms, and a start-up draws the first frame without making an object of most of them (the events, the
engine's records, the messages). A class under `@lazy_dataclass` is the same dataclass, made by
`dataclasses.dataclass` with the same options, at the first of: making an object of it (or of a subclass),
or asking for its fields (`dataclasses.fields`, `is_dataclass`, a dataclass subclass being made). From then
on it is a plain dataclass: nothing stays in the way of its objects.

How: until then the class holds two stand-ins, which make it under one lock (two threads making the first
objects at once make it once). `__dataclass_fields__`, which `fields()` and `is_dataclass()` read, makes
the class when read. `__init__` makes it, then calls the generated one. The stand-in `__init__` is
replaced, never taken away first (another thread could find the class without one in between): the class
is made with `init=False`, and its `__init__` is the one `@dataclass` writes for a subclass that adds no
field, which takes the same arguments and sets the same fields.
"""

from __future__ import annotations

import dataclasses
import inspect
import threading
from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform, overload

__all__ = ["lazy_dataclass"]

T = TypeVar("T")

_FIELDS = "__dataclass_fields__"
"""Where `dataclasses` keeps a class's fields, and where `fields()` and `is_dataclass()` look."""

_MAKING = threading.RLock()
"""Held while a class is made into its dataclass (re-entered for its bases, which are made first)."""


class _Pending:
    """The class's `__dataclass_fields__` until it is made: reading it makes the class, then reads the real
    one, which `@dataclass` put in its place."""

    def __init__(self, cls: type, options: dict[str, Any]) -> None:
        self.cls = cls
        self.options = options

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        _make(self.cls)
        return self.cls.__dict__[_FIELDS]


def _make(cls: type) -> None:
    """Make `cls` the dataclass it was declared as, once; `@dataclass` makes its bases first, as it reads
    their fields."""
    with _MAKING:
        pending = cls.__dict__.get(_FIELDS)
        if not isinstance(pending, _Pending):
            return  # made already (by another thread, or through a subclass)
        options = pending.options
        documented = bool(cls.__dict__.get("__doc__"))
        dataclasses.dataclass(cls, **options, init=False)
        same = type(cls.__name__, (cls,), {"__module__": cls.__module__, "__qualname__": cls.__qualname__})
        dataclasses.dataclass(same, frozen=options.get("frozen", False), repr=False, eq=False, match_args=False)
        made = same.__dict__["__init__"]
        made.__qualname__ = f"{cls.__qualname__}.__init__"
        cls.__init__ = made  # type: ignore[misc]  # in the stand-in's place, in one step
        cls.__dataclass_params__.init = True  # type: ignore[attr-defined]  # as declared, for readers
        if not documented:  # as @dataclass writes it, from the generated __init__'s signature
            cls.__doc__ = f"{cls.__name__}{inspect.signature(cls)}".replace(" -> None", "")


@overload
def lazy_dataclass(cls: type[T], /) -> type[T]: ...


@overload
def lazy_dataclass(
    *, frozen: bool = False, kw_only: bool = False, repr: bool = True, eq: bool = True
) -> Callable[[type[T]], type[T]]: ...


@dataclass_transform(field_specifiers=(dataclasses.field, dataclasses.Field))
def lazy_dataclass(cls: type[T] | None = None, /, **options: Any) -> type[T] | Callable[[type[T]], type[T]]:
    """`@dataclass` (with `frozen`, `kw_only`, `repr`, `eq` as it takes them), made at the class's first use."""

    def declare(cls: type[T]) -> type[T]:
        def __init__(self: T, *args: Any, **kwargs: Any) -> None:
            _make(cls)
            cls.__init__(self, *args, **kwargs)  # type: ignore[misc]  # the generated one, now

        __init__.__qualname__ = f"{cls.__qualname__}.__init__"
        cls.__init__ = __init__  # type: ignore[misc]
        setattr(cls, _FIELDS, _Pending(cls, options))
        return cls

    return declare if cls is None else declare(cls)
