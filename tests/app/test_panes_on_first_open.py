"""The bottom row's hidden panes are made when first opened, not at start, and show the state so far.

The lesson panel, the timeline and the wire cost start-up nothing until a lesson loads or `t` or `w` opens
them (screens/layout.py); a pane opened late must show what came before it as if it had been there all
along: the timeline the lanes of every call already made, a follower's wire the lecturer's lines already
sent, an export of a wire never opened the reason there is nothing to export.
"""

from __future__ import annotations

import asyncio

from conftest import LISTENING, lecture
from helpers import until

from sockviz.app import SockvizApp
from sockviz.core import step
from sockviz.core.story.recording.records import WireShown
from sockviz.follow import FollowApp
from sockviz.widgets.wire_pane import NOTHING_CAPTURED

LATE = ("#narration", "#timeline", "#wire")


async def test_the_timeline_opened_late_shows_every_call_made_before_it(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        assert not any(app.screen.query(pane) for pane in LATE)  # none of them made at start
        await lect.press_all(*LISTENING, "client-socket")
        await lect.pilot.press("p")  # an export of a wire never opened says why there is nothing
        await lect.until(lambda: any(NOTHING_CAPTURED in str(n.message) for n in app._notifications), "the notice")
        assert not any(app.screen.query(pane) for pane in LATE)  # and still makes none of them

        await lect.pilot.press("t")
        await lect.pilot.pause()
        timeline = app.query_one("#timeline")
        assert timeline.display and app.focused is timeline
        picture = timeline.render().plain.splitlines()
        lanes = {line[:8].strip(): line[9:] for line in picture[1 : -len(timeline.story_lines)] if line[:8].strip()}
        assert set(lanes) == {"s", "c"}  # the server's listener and the client's socket, made before the view
        assert "l" in lanes["s"], picture  # listen()'s mark
        assert [pane.id for pane in app.screen.query_one("#bottom").children] == ["log", "timeline"]

        await lect.pilot.press("t")
        assert not timeline.display and app.focused is app.query_one("#sockets")


async def test_a_followers_wire_opened_late_shows_the_lecturers_lines_sent_before(shared):
    session, share, args = shared
    app = FollowApp("127.0.0.1", share.port, share.code)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: share.followers == 1, "the follower to join")
        await asyncio.to_thread(session.perform, step("server-socket"), args)
        for number in range(3):
            share.record(WireShown(session.now(), ((f"line {number} ", "aside"), ("s → c SYN", "flags"))))
        await until(pilot, lambda: len(app.session_screen.wire_waiting) == 3, "the lines to come, pane unmade")
        assert not app.screen.query("#wire")

        await pilot.press("w")
        await pilot.pause()
        wire = app.query_one("#wire")
        shown = " ".join(strip.text for strip in wire.lines)
        assert wire.display and all(f"line {number} s → c SYN" in shown for number in range(3)), shown
        assert not app.session_screen.wire_waiting
        # A line sent after it was made goes straight in.
        share.record(WireShown(session.now(), (("line 3 ", "aside"), ("c → s ACK", "flags"))))
        await until(pilot, lambda: "line 3 c → s ACK" in " ".join(s.text for s in wire.lines), "a later line")
