"""The bases that stand in for `@dataclass`'s generated repr, eq and hash behave as those methods do."""

from __future__ import annotations

import dataclasses
import socket

import pytest

from sockviz.core import Endpoint, StepArgs, step
from sockviz.core.model.events import Call, StepCalled
from sockviz.core.model.record import FrozenRecord, Record


@dataclasses.dataclass(frozen=True, kw_only=True)
class Generated:
    at: float
    name: str = "a"
    hidden: int = dataclasses.field(default=0, repr=False, compare=False)


@dataclasses.dataclass(frozen=True, kw_only=True, repr=False, eq=False)
class Based(FrozenRecord):
    at: float
    name: str = "a"
    hidden: int = dataclasses.field(default=0, repr=False, compare=False)


@dataclasses.dataclass(frozen=True, kw_only=True, repr=False, eq=False)
class Further(Based):
    more: tuple[int, ...] = ()


def test_a_frozen_record_shows_compares_and_hashes_as_a_generated_dataclass():
    generated, based = Generated(at=1.5, name="x", hidden=3), Based(at=1.5, name="x", hidden=3)
    assert repr(based) == repr(generated).replace("Generated", "Based") == "Based(at=1.5, name='x')"
    assert hash(based) == hash(generated) == hash((1.5, "x"))
    assert based == Based(at=1.5, name="x", hidden=9) and based != Based(at=2.0, name="x")
    assert based != generated and based.__eq__(generated) is NotImplemented
    assert (
        Further(at=1.5, name="x") != based
        and repr(Further(at=1.0, more=(1,))) == "Further(at=1.0, name='a', more=(1,))"
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        based.at = 2.0  # type: ignore[misc]


def test_a_mutable_record_compares_and_stays_unhashable():
    @dataclasses.dataclass(repr=False, eq=False)
    class Tally(Record):
        count: int = 0

    assert Tally(1) == Tally(1) and Tally(1) != Tally(2)
    with pytest.raises(TypeError):
        hash(Tally())


def test_the_core_records_are_still_equal_by_value_and_hashable_where_frozen():
    assert StepArgs() == StepArgs() and step("server-bind") == step("server-bind") and {step("server-bind"): 1}
    assert Endpoint(socket.AF_INET, "127.0.0.1", 1) == Endpoint(socket.AF_INET, "127.0.0.1", 1)
    assert len({Endpoint(socket.AF_INET, "h", 1), Endpoint(socket.AF_INET, "h", 1)}) == 1
    call = Call(id=1, step=step("server-bind"), socket_name="server", code="s.bind(addr)", started=0.5)
    event = StepCalled(seq=1, at=0.5, call=call)
    assert repr(event) == f"StepCalled(seq=1, at=0.5, call={call!r})" and event == StepCalled(seq=1, at=0.5, call=call)
