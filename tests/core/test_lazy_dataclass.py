"""`@lazy_dataclass` makes the same dataclass as `@dataclass`, at its first use, once, from any thread."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import threading

import pytest

from sockviz.core.model.lazy_dataclass import lazy_dataclass
from sockviz.core.model.record import FrozenRecord


def _declared() -> tuple[type, type]:
    """A fresh base and subclass, not made yet (each test makes its own first use)."""

    @lazy_dataclass(frozen=True, kw_only=True, repr=False, eq=False)
    class Base(FrozenRecord):
        at: float
        name: str = "a"

    @lazy_dataclass(frozen=True, kw_only=True, repr=False, eq=False)
    class Sub(Base):
        items: tuple[int, ...] = dataclasses.field(default_factory=tuple)

    return Base, Sub


def _made(cls: type) -> bool:
    return isinstance(cls.__dict__["__dataclass_fields__"], dict)


def test_a_class_is_made_at_its_first_object_and_is_then_the_dataclass_it_was_declared():
    base, sub = _declared()
    assert not _made(base) and not _made(sub)
    made = sub(at=1.0)
    assert _made(base) and _made(sub)  # the base first: its fields are the subclass's first ones
    assert repr(made).endswith("Sub(at=1.0, name='a', items=())")
    assert made == sub(at=1.0) and hash(made) == hash(sub(at=1.0)) and made != sub(at=2.0)
    assert sub.__match_args__ == () and base(at=3.0).name == "a"
    assert sub.__dataclass_params__.init and sub.__dataclass_params__.frozen  # as declared, for readers
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.at = 2.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        sub(1.0)  # type: ignore[misc]  # keyword-only, as declared


def test_its_fields_are_there_before_any_object_as_the_session_format_reads_them():
    base, sub = _declared()
    assert dataclasses.is_dataclass(sub)
    assert [field.name for field in dataclasses.fields(sub)] == ["at", "name", "items"]
    assert _made(base) and _made(sub)


def _make(kind: type, n: int, start: threading.Barrier, made: list, failed: list) -> None:
    start.wait()
    try:
        made.append(kind(at=float(n)))
    except Exception as error:  # noqa: BLE001 - the test says which
        failed.append(error)


def test_threads_making_the_first_objects_at_once_all_get_whole_objects():
    for _ in range(50):
        base, sub = _declared()
        start, made, failed = threading.Barrier(6), [], []
        threads = [
            threading.Thread(target=_make, args=(base if n % 2 else sub, n, start, made, failed)) for n in range(6)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not failed and sorted(each.at for each in made) == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_importing_the_app_makes_none_of_the_events_or_the_engine_records():
    """What the start-up saves: their methods are not compiled until a session makes one."""
    probe = (
        "import sockviz.app\n"
        "from sockviz.core.model import events\n"
        "from sockviz.core.engine import tracked, call_site\n"
        "kinds = [events.StepCalled, events.StepFinished, events.SocketAdded, tracked.TrackedSocket, call_site.Ran]\n"
        "print(sum(isinstance(k.__dict__['__dataclass_fields__'], dict) for k in kinds))\n"
    )
    ran = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "0"
