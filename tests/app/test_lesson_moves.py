"""The newcomer's order: the echo by hand, then the echo lesson on the same port, in the same app."""

from __future__ import annotations

import re

from conftest import LISTENING, lecture
from test_lecture import narration

from sockviz.app import SockvizApp


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
        await lect.until(lambda: "echo is loaded" in lect.log_text(), "the lesson's welcome in the log")
        moved = re.search(r"this lesson runs on port (\d+) instead", lect.log_text())
        assert moved, lect.log_text()
        assert re.search(rf"127\.0\.0\.1:{port} ⇄ 127\.0\.0\.1:\d+ in TIME_WAIT", lect.log_text())
        assert app.screen.query_one("#port").value == moved[1]
        assert "ended: every expect held" in await lect.play_to_the_end()
        assert f"bind() returned: laddr is now ('127.0.0.1', {moved[1]})" in lect.log_text()
