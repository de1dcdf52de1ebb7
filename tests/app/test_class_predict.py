"""The class predicts: the lecturer's predict question goes to the followers, their answers come back.

The lecturer is the real app with its share (Pilot); the follower is the follower app's own client and reader
on the same event loop, answering as a student's key would.
"""

from __future__ import annotations

import asyncio
import io
import time

from conftest import Lecture, quit_as_a_terminal_does
from helpers import Recorder, free_port, until

from sockviz.app import SockvizApp
from sockviz.core import StepBlocked, StepCalled
from sockviz.core.scenario import lessons
from sockviz.core.story.recording.format import Revealed, Said, read_lines
from sockviz.screens.predict import PredictQuestion
from sockviz.share.client import Connection
from sockviz.share.mirror import Feed
from sockviz.share.protocol import follow_url
from sockviz.share.server import ShareServer
from sockviz.widgets.class_tally import ClassTally
from sockviz.widgets.scenario_panel import NO_ANSWER


async def test_the_lecturers_question_goes_to_the_class_and_the_reveal_comes_back():
    share = ShareServer("127.0.0.1", 0)
    share.start()
    heard: list[object] = []
    feed = Feed(heard.append)
    feed.mirror.subscribe(heard.append)  # the lecturer's events, in their place among the share's messages
    follower = Connection(follow_url("127.0.0.1", share.port, share.code), feed.frame)
    written = share._line

    def behind(text: str) -> None:
        """The recorder's thread a moment behind the screen at accept()'s block (as on a busy machine)."""
        if '"type":"StepBlocked"' in text:
            time.sleep(0.3)
        written(text)

    share._line = behind  # type: ignore[method-assign]
    app = SockvizApp(port=free_port(), share=share, predict=True)
    try:
        async with app.run_test(size=(160, 50)) as pilot:
            following = asyncio.get_running_loop().create_task(follower.run())
            await until(pilot, lambda: share.followers == 1, "the follower to join")
            await pilot.press("s", "b")  # bind() is asked too: it returns at once
            await until(pilot, lambda: isinstance(app.screen, PredictQuestion), "the question about bind()")
            await pilot.press("r")
            await pilot.press("l")
            await until(pilot, lambda: isinstance(app.screen, PredictQuestion), "the question about listen()")
            await pilot.press("r")
            await until(pilot, lambda: len(app.session.sockets) == 1 and not app.session.running(), "listen()")

            def messages(kind: str) -> list[dict]:
                return [m for m in heard if isinstance(m, dict) and m.get("share") == kind]

            await pilot.press("a")
            await until(pilot, lambda: isinstance(app.screen, PredictQuestion), "the question about accept()")
            await until(pilot, lambda: any(m["step"] == "server-accept" for m in messages("question")), "the class")
            question = next(m for m in messages("question") if m["step"] == "server-accept")
            assert question["text"] == "Will server accept() wait, return at once, or fail?"
            follower.answer(question["question"], "waits")
            tally = app.screen.query_one(ClassTally)
            await until(pilot, lambda: "1 of 1 answered" in str(tally.render()), "the lecturer's tally")
            assert "waits" in str(tally.render()) and "█" in str(tally.render())
            await pilot.press("h")  # peer instruction: the bars wait for the reveal
            await until(pilot, lambda: "hidden until the step runs" in str(tally.render()), "the hidden tally")
            await pilot.press("w")  # the lecturer answers too: the step runs, and accept() waits
            await until(pilot, lambda: any(m["question"] == question["question"] for m in messages("reveal")),
                        "the reveal")  # fmt: skip
            reveal = next(m for m in messages("reveal") if m["question"] == question["question"])
            assert reveal["answer"] == "waits" and reveal["yours"] == "waits"
            blocked = next(i for i, e in enumerate(heard) if isinstance(e, StepBlocked))
            assert heard.index(reveal) > blocked  # the verdict comes after the accept() it is about
            assert reveal["tally"] == {"waits": 1, "returns at once": 0, "fails": 0}
            assert not app.faults
            await pilot.press("ctrl+q")
        following.cancel()
    finally:
        share.stop()


async def test_a_lesson_in_predict_mode_asks_before_each_step_that_can_block_or_fail_and_waits_for_the_answer():
    share = ShareServer("127.0.0.1", 0)
    share.start()
    heard: list[object] = []
    feed = Feed(heard.append)
    follower = Connection(follow_url("127.0.0.1", share.port, share.code), feed.frame)
    written = share._line

    def behind(text: str) -> None:
        """The recorder's thread a moment behind at listen()'s verdict: the lesson asks about accept() meanwhile."""
        if text.startswith('{"record":"revealed"') and '"server-listen"' in text:
            time.sleep(0.3)
        written(text)

    share._line = behind  # type: ignore[method-assign]
    out = io.StringIO()
    app = SockvizApp(port=free_port(), share=share, predict=True, scenario=("lesson: echo", lessons.text("echo")),
                     record=out)  # fmt: skip
    gives_away = "accept() has no connection to take yet, so it waits."

    def log_lines() -> list[str]:
        return [" ".join(strip.text.split()) for strip in app.session_screen.event_log.lines]

    def messages(kind: str) -> list[dict]:
        return [m for m in heard if isinstance(m, dict) and m.get("share") == kind]

    events = Recorder(app.session)

    def called(step_id: str) -> bool:
        return any(event.call.step.id == step_id for event in events.of(StepCalled))

    try:
        async with app.run_test(size=(160, 50)) as pilot:
            following = asyncio.get_running_loop().create_task(follower.run())
            panel = app.session_screen.scenario_panel
            await until(pilot, lambda: share.followers == 1 and panel.loaded, "the follower and the lesson")

            async def question(what: str) -> str:
                deadline = asyncio.get_running_loop().time() + 20
                while not isinstance(app.screen, PredictQuestion):
                    assert asyncio.get_running_loop().time() < deadline, f"no question before {what}"
                    if "paused after" in str(panel.render()):
                        await pilot.press("space")
                    await pilot.pause(0.02)
                    assert "ended" not in str(panel.render()), f"the lesson ended before {what}"
                return str(app.screen.query_one("#predict-question").render())

            await pilot.press("space")
            assert await question("bind()") == "Will server bind() return at once or fail?"
            assert "waiting for the prediction" in str(panel.render())
            assert len(app.session.sockets) == 1 and not called("server-bind")  # the line waits for the answer
            await until(pilot, lambda: any(m["step"] == "server-bind" for m in messages("question")), "the class")
            await pilot.press("escape")  # no answer: the line does not run, and the lesson waits before it
            await until(pilot, lambda: NO_ANSWER.split(";")[0] in str(panel.render()), "the lesson held")
            await until(pilot, lambda: messages("withdrawn"), "the class's question withdrawn")
            assert not called("server-bind")
            await pilot.press("space")  # asked again
            assert await question("bind() again") == "Will server bind() return at once or fail?"
            await pilot.press("r")
            assert await question("listen()") == "Will server listen() return at once or fail?"
            assert called("server-bind")
            await pilot.press("r")
            assert await question("accept()") == "Will server accept() wait, return at once, or fail?"
            # The lesson's line before accept() tells what it will do: it waits until the step has run.
            assert not any("so it waits" in line for line in log_lines())
            await until(pilot, lambda: any(m["step"] == "server-accept" for m in messages("question")), "the class")
            asked = next(m for m in messages("question") if m["step"] == "server-accept")
            # listen()'s reveal, which the recorder wrote late, must not close accept()'s question: the answer
            # goes once the class has heard that reveal (a loaded machine's order; once, this answer was dropped).
            listen = next(m["question"] for m in messages("question") if m["step"] == "server-listen")
            await until(pilot, lambda: any(m["question"] == listen for m in messages("reveal")), "listen()'s reveal")
            follower.answer(asked["question"], "waits")
            tally = app.screen.query_one(ClassTally)
            await until(pilot, lambda: "1 of 1 answered" in str(tally.render()), "the class's answer")
            await pilot.press("w")
            await until(pilot, lambda: any(m["question"] == asked["question"] for m in messages("reveal")),
                        "the reveal")  # fmt: skip
            reveal = next(m for m in messages("reveal") if m["question"] == asked["question"])
            assert (reveal["answer"], reveal["yours"]) == ("waits", "waits")  # accept()'s, not listen()'s answer
            await until(pilot, lambda: any("so it waits" in line for line in log_lines()), "the narration")
            verdict = next(
                i for i, line in enumerate(log_lines()) if "you said server accept() waits: it waits" in line
            )
            assert verdict < next(i for i, line in enumerate(log_lines()) if "so it waits" in line)
            await until(pilot, lambda: any(isinstance(m, Said) and m.text == gives_away for m in heard), "the class")
            assert heard.index(reveal) < next(
                i for i, m in enumerate(heard) if isinstance(m, Said) and m.text == gives_away
            )
            assert await question("connect()") == "Will client connect() wait, return at once, or fail?"
            await pilot.press("r")
            await pilot.press("f5")  # predict mode off: the rest plays without questions
            await until(pilot, lambda: not app.session_screen.predict_mode.on, "predict mode off")
            deadline = asyncio.get_running_loop().time() + 20
            while "ended" not in str(panel.render()):
                assert asyncio.get_running_loop().time() < deadline, str(panel.render())
                assert not isinstance(app.screen, PredictQuestion)
                if "paused" in str(panel.render()):
                    await pilot.press("space")
                await pilot.pause(0.02)
            assert "ended: every expect held" in str(panel.render())
            assert not app.faults
            await pilot.press("ctrl+q")
        following.cancel()
    finally:
        share.stop()
    records = list(read_lines(out.getvalue().splitlines()))  # and so in a replay, which plays them in order
    revealed = next(i for i, r in enumerate(records) if isinstance(r, Revealed) and r.step.id == "server-accept")
    assert revealed < next(i for i, r in enumerate(records) if isinstance(r, Said) and r.text == gives_away)


async def test_while_the_lecturers_lesson_has_lines_to_run_the_followers_next_is_its_next_line():
    """The followers' `next:` was the session's own (`next: s the server's socket()`, a step key a follower cannot
    run) while the lecturer's screen said the lesson's next line: it is the lesson's now, and the session's again
    once the lesson has ended."""
    from sockviz.screens.session import FOLLOWERS_LESSON_GUIDE

    share = ShareServer("127.0.0.1", 0)
    share.start()
    feed = Feed(lambda message: None)
    follower = Connection(follow_url("127.0.0.1", share.port, share.code), feed.frame)
    app = SockvizApp(port=free_port(), share=share, scenario=("lesson: echo", lessons.text("echo")))
    try:
        async with app.run_test(size=(160, 50)) as pilot:
            following = asyncio.get_running_loop().create_task(follower.run())
            await until(pilot, lambda: share.followers == 1, "the follower to join")
            await until(pilot, lambda: feed.mirror.guide() == FOLLOWERS_LESSON_GUIDE, "the lesson's next line")
            app.session_screen.scenario_panel.speed(64)
            assert "ended" in await Lecture(app, pilot, []).play_to_the_end(timeout=30)  # as a lecturer plays it
            await until(pilot, lambda: feed.mirror.guide() not in ("", FOLLOWERS_LESSON_GUIDE), "the session's own")
            assert feed.mirror.guide().startswith("next: ")
            assert not app.faults
            quit_as_a_terminal_does(app)
        following.cancel()
    finally:
        share.stop()
