"""One catalogue drives every step line, key and code line: it must be complete and unambiguous."""

from __future__ import annotations

from sockviz.core import STEPS, Action, Side, Target, steps_of

PUBLIC_IDS = {
    "server-socket", "server-bind", "server-listen", "server-accept", "server-recv", "server-send",
    "server-close-conn", "server-close", "client-socket", "client-connect", "client-send", "client-recv",
    "client-close",
}  # fmt: skip


def test_the_documented_ids_exist():
    assert {step.id for step in STEPS} >= PUBLIC_IDS


def test_ids_and_keys_are_unique():
    assert len({s.id for s in STEPS}) == len(STEPS)
    assert len({s.key for s in STEPS}) == len(STEPS)


def test_every_call_of_the_lesson_has_a_step():
    assert {s.action for s in STEPS} == set(Action)


def test_course_numbers_follow_the_notebook():
    numbers = {s.id: s.course_step for s in STEPS}
    assert [numbers[i] for i in ("server-socket", "server-bind", "server-listen", "server-accept")] == [1, 2, 3, 4]
    assert [numbers[i] for i in ("client-socket", "client-connect", "client-send", "client-recv")] == [5, 6, 7, 8]
    assert [numbers[i] for i in ("server-recv", "server-send", "server-close-conn", "server-close")] == [9, 10, 11, 13]


def test_blocking_steps_say_what_they_wait_for():
    waits = {s.action for s in STEPS if s.blocks_until}
    assert waits == {Action.ACCEPT, Action.RECV, Action.RECV_ALL, Action.SEND, Action.CONNECT, Action.SELECT}


def test_sides_and_targets_agree():
    for step in steps_of(Side.CLIENT):
        assert step.target in (Target.NEW, Target.CLIENT, Target.BUSY)
    for step in steps_of(Side.SERVER):
        assert step.target in (Target.NEW, Target.LISTENER, Target.CONNECTION, Target.BUSY)
