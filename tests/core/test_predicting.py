"""Predict, then see: each guess is matched with its real call and scored against what the call did."""

from __future__ import annotations

from sockviz.core import step
from sockviz.core.story.predicting import Guess, Predictions, asks, choices, question


def test_the_question_offers_only_what_the_call_can_do():
    assert question(step("server-accept")) == "Will server accept() wait, return at once, or fail?"
    assert question(step("server-bind")) == "Will server bind() return at once or fail?"
    assert choices(step("server-bind")) == (Guess.AT_ONCE, Guess.FAILS)
    assert asks(step("client-connect")) and asks(step("server-listen")) and not asks(step("server-socket"))


def test_guesses_are_scored_against_the_calls_on_real_sockets(loopback):
    predictions = Predictions()
    verdicts = []
    loopback.session.subscribe(lambda event: verdicts.append(v) if (v := predictions.hear(event)) else None)
    loopback.server_listening()

    predictions.expect(step("server-accept"), Guess.WAITS)
    loopback.start("server-accept")
    loopback.blocked("server-accept")
    assert verdicts[-1].outcome is Guess.WAITS and verdicts[-1].right
    assert verdicts[-1].kernel == "no connection is waiting: accept() will block"  # the hint read before the call

    loopback.run("client-socket")
    predictions.expect(step("client-connect"), Guess.WAITS)
    loopback.run("client-connect")
    loopback.finished("server-accept")
    assert verdicts[-1].outcome is Guess.AT_ONCE and verdicts[-1].right is False
    assert "a listener has room in its queue" in verdicts[-1].text(predictions.score)

    predictions.expect(step("server-recv"), Guess.AT_ONCE)
    loopback.start("server-recv")
    loopback.blocked("server-recv")
    assert verdicts[-1].outcome is Guess.WAITS and not verdicts[-1].right
    loopback.run("client-send", payload=b"ping")
    loopback.finished("server-recv")

    predictions.expect(step("server-bind"), Guess.FAILS)
    loopback.session.perform(step("server-bind"), loopback.args())  # bound already: EINVAL
    assert verdicts[-1].outcome is Guess.FAILS and verdicts[-1].right
    assert "EINVAL" in verdicts[-1].happened

    assert predictions.score == "2 of 4 right" and not predictions.pending


def test_a_step_that_is_not_run_is_not_scored(loopback):
    predictions = Predictions()
    verdicts = []
    loopback.session.subscribe(lambda event: verdicts.append(v) if (v := predictions.hear(event)) else None)
    predictions.expect(step("client-recv"), Guess.WAITS)
    loopback.session.perform(step("client-recv"), loopback.args())  # no client socket: refused, no call
    assert verdicts[-1].outcome is None and verdicts[-1].right is None
    assert "not scored" in verdicts[-1].text(predictions.score) and predictions.score == "0 of 0 right"
    predictions.expect(step("server-bind"), Guess.WAITS)
    predictions.forget(step("server-bind"))  # a field refused the value: the step never reached the session
    assert not predictions.pending
