"""The newcomer's order: the echo by hand, then the echo lesson on the same port, in the same app."""

from __future__ import annotations

import asyncio
import io
import re
import threading
from dataclasses import replace

from conftest import LISTENING, lecture
from helpers import PATIENCE
from test_lecture import narration

from sockviz.app import SockvizApp
from sockviz.core.story.recording.format import read_lines
from sockviz.core.story.recording.playback import Playback
from sockviz.core.story.recording.records import Moved
from sockviz.share.client import Connection
from sockviz.share.mirror import Feed, StartedAfresh
from sockviz.share.protocol import follow_url
from sockviz.share.server import ShareServer


async def test_a_lesson_after_the_echo_by_hand_moves_off_the_port_its_time_wait_holds(port):
    """By hand the server closes first and nothing sets SO_REUSEADDR, so its TIME_WAIT holds the port against
    the lesson's own SO_REUSEADDR: the lesson runs on the next port, the top bar shows it, the log says why."""
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.press_all(*LISTENING, "client-socket", "client-connect", "server-accept")
        await lect.press_all("server-close-conn", "client-close", "server-close")
        await lect.until(lambda: lect.cell("conn", "state") == "TIME_WAIT", "the server's side in TIME_WAIT")
        app.load_lesson("echo")
        await lect.until(lambda: "line 1 of" in narration(app), "the lesson to load after the reset")
        # Where the lesson runs comes later than its welcome (the lesson's worker asks the kernel): wait for it.
        await lect.until(lambda: "lesson runs on port" in lect.log_text(), "the note of where the lesson runs")
        moved = re.search(r"this lesson runs on port (\d+) instead", lect.log_text())
        assert moved, lect.log_text()
        assert "echo is loaded" in lect.log_text()
        assert re.search(rf"127\.0\.0\.1:{port} ⇄ 127\.0\.0\.1:\d+ in TIME_WAIT", lect.log_text())
        await lect.until(lambda: app.screen.query_one("#port").value == moved[1], "the top bar's port")
        assert "ended: every expect held" in await lect.play_to_the_end()
        assert f"bind() returned: laddr is now ('127.0.0.1', {moved[1]})" in lect.log_text()


async def test_why_a_lesson_moved_port_is_recorded_and_shared_as_the_lecturers_log_says_it(port):
    """The sentence is the lecturer's, not a note in its log only: the recording holds it as a `moved` record
    (a replay shows it) and the share sends it, so a follower's log says the same."""
    share = ShareServer("127.0.0.1", 0)
    share.start()
    heard: list[object] = []

    def show(shown: object) -> None:
        heard.append(shown)
        if isinstance(shown, StartedAfresh):
            feed.release()  # as the follower app does once its screen is made again

    feed = Feed(show)
    follower = Connection(follow_url("127.0.0.1", share.port, share.code), feed.frame)
    out = io.StringIO()
    app = SockvizApp(port=port, share=share, record=out)
    try:
        async with lecture(app) as lect:
            following = asyncio.get_running_loop().create_task(follower.run())
            await lect.until(lambda: share.followers == 1, "the follower to join")
            await lect.press_all(*LISTENING, "client-socket", "client-connect", "server-accept")
            await lect.press_all("server-close-conn", "client-close", "server-close")
            await lect.until(lambda: lect.cell("conn", "state") == "TIME_WAIT", "the server's side in TIME_WAIT")
            app.load_lesson("echo")
            await lect.until(lambda: "echo is loaded" in lect.log_text(), "the lesson's welcome in the log")
            await lect.until(lambda: any(isinstance(m, Moved) for m in heard), "the follower to hear why")
            told = next(m for m in heard if isinstance(m, Moved))
            # In the machine's own namespace the lecturer's log was once read empty at this moment: wait for it.
            said = " ".join(told.text.split())
            await lect.until(lambda: said in " ".join(lect.log_text().split()), "the lecturer's log to say it too")
            assert f"this lesson runs on port {told.port} instead" in told.text
            following.cancel()
    finally:
        share.stop()
    records = read_lines(out.getvalue().splitlines())
    recorded = [r for r in records if isinstance(r, Moved)]
    assert recorded == [told]
    playback = Playback(records)
    replayed = [line.text for moment in range(len(playback.moments)) for line in playback.scene(moment).lines]
    assert told.text in replayed


async def test_where_a_lesson_runs_is_found_off_the_event_loop(port, monkeypatch):
    """place() binds up to 21 ports and asks sock_diag: a thread does it, and its answer still moves the lesson.
    The kernel's answer is held back here until the app has drawn a frame meanwhile: the loop never waited."""
    from sockviz.core.scenario import lesson_port

    found = lesson_port.place
    asked_from: list[threading.Thread] = []
    answer = threading.Event()

    def place(lines, endpoint):
        asked_from.append(threading.current_thread())
        answer.wait(10 * PATIENCE)
        return replace(found(lines, endpoint), moved="this lesson runs on port 1 instead (the test says so)")

    monkeypatch.setattr(lesson_port, "place", place)
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        app.load_lesson("echo")
        await lect.until(lambda: asked_from, "the lesson's place to be asked")
        assert asked_from[0] is not threading.main_thread()
        await lect.until(lambda: "echo is loaded" in lect.log_text(), "the welcome, while the kernel is asked")
        assert "the test says so" not in lect.log_text()
        answer.set()
        await lect.until(lambda: "runs on port 1 instead (the test says so)" in lect.log_text(), "the lesson's note")
        assert "echo is loaded" in lect.log_text()
