"""Predict mode: before a step that can block or fail the app asks, one key per answer; the step runs; the log
shows the answer against what the call did and what the kernel said, and the score; a recording keeps it all."""

from __future__ import annotations

import io

from conftest import lecture

from sockviz.app import SockvizApp
from sockviz.core import StepBlocked, StepFailed, StepReturned
from sockviz.core.story.recording.format import Asked, Predicted, Revealed, read_lines
from sockviz.core.story.recording.playback import Playback
from sockviz.screens.predict import PredictQuestion


async def test_predict_then_see_with_the_score(port, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    app = SockvizApp(port=port, predict=True, record=out)
    async with lecture(app) as lect:
        log = app.query_one("#log")
        assert log.border_title == "predict mode · 0 of 0 right"

        async def answer(key: str, answer_key: str, step_id: str, kind) -> None:
            before = len(lect.delivered)
            await lect.pilot.press(key)
            await lect.until(lambda: isinstance(app.screen, PredictQuestion), f"the question before {step_id}")
            await lect.pilot.press(answer_key)
            await lect.until(lambda: not isinstance(app.screen, PredictQuestion), "the answer")
            await lect.until(lambda: any(isinstance(e, kind) and e.call.step.id == step_id
                                         for e in lect.delivered[before:]), f"{step_id} to settle")  # fmt: skip
            await lect.pilot.pause()

        await lect.press("server-socket")  # socket() is never asked: it returns at once
        assert not isinstance(app.screen, PredictQuestion)
        await answer("b", "r", "server-bind", StepReturned)
        await answer("l", "r", "server-listen", StepReturned)
        await lect.until(lambda: not app.session_screen.refresh_due, "a refresh")
        assert app.query_one("#server-accept").hint is None  # the hint would give the answer away

        await lect.pilot.press("a")
        await lect.until(lambda: isinstance(app.screen, PredictQuestion), "the question")
        assert str(app.screen.query_one("#predict-question").render()) == (
            "Will server accept() wait, return at once, or fail?"
        )
        # the words of the question, and of a follower's buttons for it (test_follow_app)
        assert [str(b.label) for b in app.screen.query("Button")] == ["w  wait", "r  return at once", "f  fail"]
        await lect.pilot.press("f12")  # a picture of the question, for slides: the app's key works on it too
        await lect.until(lambda: list(tmp_path.glob("*.svg")), "the picture")
        assert "Will&#160;server&#160;accept()" in next(tmp_path.glob("*.svg")).read_text()
        await lect.pilot.press("w")
        await lect.until(lambda: any(isinstance(e, StepBlocked) for e in lect.delivered), "accept() to block")
        await lect.until(lambda: "3 of 3 right" in lect.log_text(), "the verdict")
        assert (
            "you said server accept() waits: it waits, until a client connects (right). The kernel, just before "
            "the call: no connection is waiting: accept() will block. · 3 of 3 right"
        ) in lect.log_text()
        assert log.border_title == "predict mode · 3 of 3 right"

        await lect.press("client-socket")
        await answer("C", "w", "client-connect", StepReturned)
        await lect.until(lambda: "3 of 4 right" in lect.log_text(), "the wrong one")
        assert "you said client connect() waits: it returned at once" in lect.log_text()
        assert "(wrong). The kernel, just before the call: a listener has room in its queue" in lect.log_text()

        await lect.pilot.press("b")  # bind() again: it can only return or fail, so w is no answer here
        await lect.until(lambda: isinstance(app.screen, PredictQuestion), "the bind question")
        assert [b.id for b in app.screen.query("Button")] == ["predict-at_once", "predict-fails"]
        await lect.pilot.press("w")
        assert isinstance(app.screen, PredictQuestion)
        before = len(lect.delivered)
        await lect.pilot.click("#predict-fails")  # a click answers too
        await lect.until(lambda: any(isinstance(e, StepFailed) for e in lect.delivered[before:]), "bind() to fail")
        await lect.until(lambda: "4 of 5 right" in lect.log_text(), "the verdict on bind()")

        before = len(lect.delivered)
        await lect.pilot.press("r")
        await lect.until(lambda: isinstance(app.screen, PredictQuestion), "the recv question")
        await lect.pilot.press("escape")  # no answer: nothing runs
        await lect.pilot.pause()
        assert not isinstance(app.screen, PredictQuestion)
        assert not [e for e in lect.delivered[before:] if getattr(e, "call", None)]

        await lect.pilot.press("f5")
        await lect.until(lambda: log.border_title == "", "predict mode off")
        await lect.until(lambda: app.query_one("#server-recv").hint is not None, "the hints back")

    records = read_lines(out.getvalue().splitlines())
    assert [type(r).__name__ for r in records if isinstance(r, Asked | Predicted | Revealed)][:3] == [
        "Asked", "Predicted", "Revealed"
    ]  # fmt: skip
    revealed = [r for r in records if isinstance(r, Revealed)]
    assert [(r.step.id, r.guess, r.outcome) for r in revealed] == [
        ("server-bind", "returns at once", "returns at once"),
        ("server-listen", "returns at once", "returns at once"),
        ("server-accept", "waits", "waits"),
        ("client-connect", "waits", "returns at once"),
        ("server-bind", "fails", "fails"),
    ]
    playback = Playback(records)
    shown = [line.text for line in playback.scene(len(playback) - 1).lines if line.kind == "predict"]
    assert shown[-1] == revealed[-1].text and "4 of 5 right" in shown[-1]  # a replay shows the verdicts too


async def test_on_udp_the_question_names_the_call_the_step_really_makes(port):
    """recv() on an unconnected UDP socket is recvfrom(), sendall() is sendto(); once connected recv() and send();
    a UDP listen() never waits, so it is asked only whether it returns or fails."""
    app = SockvizApp(port=port, predict=True, udp=True)
    async with lecture(app) as lect:

        async def asked(key: str) -> str:
            await lect.pilot.press(key)
            await lect.until(lambda: isinstance(app.screen, PredictQuestion), f"the question before {key}")
            return str(app.screen.query_one("#predict-question").render())

        async def answer(key: str, step_id: str, kind) -> None:
            before = len(lect.delivered)
            await lect.pilot.press(key)
            await lect.until(lambda: any(isinstance(e, kind) and e.call.step.id == step_id
                                         for e in lect.delivered[before:]), f"{step_id} to settle")  # fmt: skip

        await lect.press_all("server-socket")
        assert await asked("b") == "Will server bind() return at once or fail?"
        await answer("r", "server-bind", StepReturned)
        assert await asked("l") == "Will server listen() return at once or fail?"
        await answer("f", "server-listen", StepFailed)
        assert await asked("r") == "Will server recvfrom() wait, return at once, or fail?"
        await answer("w", "server-recv", StepBlocked)
        await lect.until(lambda: "you said server recvfrom() waits: it waits, until a datagram arrives (right)"
                         in lect.log_text(), "the verdict in recvfrom()'s words")  # fmt: skip
        assert "you predict: server recvfrom() waits" in lect.log_text()

        await lect.press("client-socket")
        assert await asked("E") == "Will client sendto() wait, return at once, or fail?"
        await answer("r", "client-send", StepReturned)
        await lect.until(lambda: len(lect.events.finished("server-recv")) == 1, "recvfrom() to return")
        # connect() on UDP only records the peer: it can never wait
        assert await asked("C") == "Will client connect() return at once or fail?"
        await answer("r", "client-connect", StepReturned)
        await lect.until(lambda: lect.cell("c", "state") == "ESTAB", "the connected row")
        assert await asked("R") == "Will client recv() wait, return at once, or fail?"
        await lect.pilot.press("escape")
        assert await asked("E") == "Will client send() wait, return at once, or fail?"
