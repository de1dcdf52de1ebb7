"""The class predicts: the lecturer's predict question goes to the followers, their answers come back.

The lecturer is the real app with its share (Pilot); the follower is the follower app's own client and reader
on the same event loop, answering as a student's key would.
"""

from __future__ import annotations

import asyncio

from helpers import free_port, until

from sockviz.app import SockvizApp
from sockviz.screens.predict import PredictQuestion
from sockviz.share.client import Connection
from sockviz.share.mirror import Feed
from sockviz.share.protocol import follow_url
from sockviz.share.server import ShareServer
from sockviz.widgets.class_tally import ClassTally


async def test_the_lecturers_question_goes_to_the_class_and_the_reveal_comes_back():
    share = ShareServer("127.0.0.1", 0)
    share.start()
    heard: list[object] = []
    feed = Feed(heard.append)
    follower = Connection(follow_url("127.0.0.1", share.port, share.code), feed.frame)
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
            assert reveal["tally"] == {"waits": 1, "returns at once": 0, "fails": 0}
            assert not app.faults
            await pilot.press("ctrl+q")
        following.cancel()
    finally:
        share.stop()
