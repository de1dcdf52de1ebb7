"""Steps asked for together run in the order they were asked for, on real loopback sockets (core/engine/turns.py).

A front end runs each step in a thread of its own, and threads start in no set order: here each step's
thread is started in the reverse of the order its turn was taken, the worst a busy machine can do.
"""

from __future__ import annotations

import threading

from sockviz.core import StepCalled, StepFinished, StepRefused, step


def _in_turns(loopback, *step_ids: str) -> list[threading.Thread]:
    """Take the turns in order (as keys come), then start the threads last first."""
    turns = [(step_id, loopback.session.turn(step(step_id))) for step_id in step_ids]
    threads = []
    for step_id, turn in reversed(turns):
        thread = threading.Thread(
            target=loopback.session.perform, args=(step(step_id), loopback.args()), kwargs={"turn": turn}
        )
        thread.start()
        threads.append(thread)
    loopback.background.threads.extend(threads)
    return threads


def _story(loopback) -> list[str]:
    """The calls' beginnings and ends, in the order the event stream told them."""
    kinds = {StepCalled: "called", StepRefused: "refused"}
    told = []
    for event in loopback.events.events:
        if isinstance(event, StepFinished | StepCalled | StepRefused):
            what = event.step.id if isinstance(event, StepRefused) else event.call.step.id
            told.append(f"{what} {kinds.get(type(event), 'ended')}")
    return told


def test_keys_typed_together_run_and_are_told_in_their_order(loopback):
    for thread in _in_turns(loopback, "server-socket", "server-bind", "server-listen"):
        thread.join(5)
    assert _story(loopback) == [
        "server-socket called", "server-socket ended", "server-bind called", "server-bind ended",
        "server-listen called", "server-listen ended",
    ]  # fmt: skip
    assert loopback.session.current(step("server-listen").target).bound_port == loopback.endpoint.port


def test_a_blocked_call_lets_the_next_step_go_on_and_a_cancel_waits_for_nothing(loopback):
    loopback.server_listening()
    _in_turns(loopback, "server-accept", "client-socket", "client-connect")
    loopback.finished("client-connect")
    loopback.finished("server-accept")  # the client the blocked accept() let go on woke it
    story = _story(loopback)
    assert (
        story.index("server-accept called") < story.index("client-socket called") < story.index("server-accept ended")
    )  # accept() blocked, so the client's steps behind it did not wait for it to return
    assert loopback.events.finished("server-accept")[0].blocked
    # A recv() that blocks and a step taken behind a turn that never runs: the cancel goes first all the same.
    stuck = loopback.session.turn(step("server-close"))  # asked for, never run: everything after it waits
    _in_turns(loopback, "server-recv")
    cancel = loopback.session.turn(step("server-cancel"))
    assert cancel.settled and not stuck.settled
    stuck.settle()
    loopback.blocked("server-recv")
    loopback.session.perform(step("server-cancel"), loopback.args(), turn=cancel)
    loopback.finished("server-recv")


def test_closing_the_session_lets_every_waiting_step_go_on_to_be_refused(loopback):
    never = loopback.session.turn(step("server-socket"))  # asked for, never run
    waiting = _in_turns(loopback, "server-bind")
    assert not never.settled
    assert loopback.session.close()
    waiting[0].join(5)
    assert not waiting[0].is_alive()
    refused = loopback.events.of(StepRefused)
    assert [e.step.id for e in refused] == ["server-bind"] and refused[0].reason == "the session has ended"
