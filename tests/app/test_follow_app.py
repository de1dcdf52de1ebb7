"""The follower app under Pilot, following a real share of a real session in the same process.

The session runs its steps in the test's threads, its share serves from its own thread, and the
follower app connects over loopback: what a student sees, with the lecturer's screen left out.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from dataclasses import replace

import pytest
from helpers import until

from sockviz.core import Side, step
from sockviz.core.story.transcript import Transcript
from sockviz.follow import FollowApp
from sockviz.screens.class_question import ClassQuestion
from sockviz.share.mirror import FOLLOWING


def log_text(app: FollowApp) -> str:
    """The log's words, however they wrap."""
    return " ".join(" ".join(strip.text.split()) for strip in app.session_screen.event_log.lines)


def notices(app: FollowApp) -> str:
    """Every notice the app has shown (they outlast the screen being made again)."""
    return " ".join(str(notice.message) for notice in app._notifications)


async def lecturer_listens(pilot, app: FollowApp, shared) -> None:
    """The follower joins, the lecturer makes a listener, and the follower's table and log show it."""
    session, share, args = shared
    await until(pilot, lambda: share.followers == 1, "the follower to join")
    for name in ("server-socket", "server-bind", "server-listen"):
        await asyncio.to_thread(session.perform, step(name), args)
    await until(pilot, lambda: app.session_screen.table.row_count == 1, "the listener's row")
    await until(pilot, lambda: "listen() returned" in log_text(app), "the lecturer's calls in the log")


async def test_a_follower_sees_the_session_runs_nothing_and_answers_the_class_question(shared, tmp_path, monkeypatch):
    session, share, _ = shared
    monkeypatch.chdir(tmp_path)
    app = FollowApp("127.0.0.1", share.port, share.code)
    async with app.run_test(size=(160, 50)) as pilot:
        await lecturer_listens(pilot, app, shared)
        screen = app.session_screen
        assert screen.pane(step("server-accept").side).step_button("server-accept").refusal == FOLLOWING
        assert "following 127.0.0.1:" in screen.bar.sharing[0]

        await pilot.press("a", "S", "C")  # a follower's step keys run nothing, and say why
        await until(pilot, lambda: log_text(app).count("not run: you follow") == 3, "the refusals")
        assert [t.name for t in session.sockets] == ["s"] and not session.running()

        share.ask("server-accept", "Will server accept() wait, return at once, or fail?",
                  ("waits", "returns at once", "fails"), hidden=True)  # fmt: skip
        await until(pilot, lambda: isinstance(app.screen, ClassQuestion) and app.screen.is_mounted, "the question")
        await pilot.pause()
        assert not app.screen.query_one("#class-tally").display  # hidden until the reveal
        # the lecturer's buttons say the same (test_predict): they said "returns at once / fails" here
        assert [str(b.label) for b in app.screen.query("Button")] == ["w  wait", "r  return at once", "f  fail"]
        await pilot.press("f12")  # a picture of the question (a modal screen hears none of the app's own keys)
        await until(pilot, lambda: list(tmp_path.glob("*.svg")), "the picture")
        assert isinstance(app.screen, ClassQuestion)
        await pilot.press("w")
        await until(pilot, lambda: share.tally() == ({"waits": 1, "returns at once": 0, "fails": 0}, 1), "the tally")
        assert not isinstance(app.screen, ClassQuestion)
        share.reveal("waits", "no client has connected yet: 0/128 queued")
        await until(pilot, lambda: "you said waits: right" in log_text(app), "the verdict in the log")
        assert "The class: 1 waits, 0 returns at once, 0 fails." in log_text(app)
        assert not app.faults


@pytest.mark.skipif(os.geteuid() != 0, reason="ss -K destroys a socket only for root")
async def test_a_follower_that_loses_the_lecturer_says_so_and_joins_again_by_itself(shared):
    session, share, args = shared
    app = FollowApp("127.0.0.1", share.port, share.code)
    async with app.run_test(size=(160, 50)) as pilot:
        await lecturer_listens(pilot, app, shared)
        cut = ["ss", "-K", "-t", "state", "established", "sport", "=", f":{share.port}"]
        assert (await asyncio.to_thread(subprocess.run, cut, capture_output=True)).returncode == 0
        await asyncio.to_thread(session.perform, step("client-socket"), args)  # while the follower is away
        await until(pilot, lambda: "lost the lecturer" in notices(app), "the loss said")
        await until(pilot, lambda: "following again" in notices(app), "the join again said")
        screen = app.session_screen  # made again from the state so far: read once it is whole
        await until(pilot, lambda: not screen._rebuilding and screen.table.row_count == 2, "the table so far")
        await until(pilot, lambda: "listen() returned" in log_text(app), "the log so far again")
        assert "following 127.0.0.1:" in app.session_screen.bar.sharing[0] and not app.faults


async def test_a_follower_exports_the_lecturers_session_as_the_lecturer_would(shared, tmp_path, monkeypatch):
    """f3 and f4 on a follower write the lecturer's session so far, from the follower's copy of its events: the
    same scripts the lecturer's own export writes; one who joins late gets the same; before any call, it says why."""
    session, share, args = shared
    monkeypatch.chdir(tmp_path)
    lecturers = Transcript(session)
    early = FollowApp("127.0.0.1", share.port, share.code)
    async with early.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: share.followers == 1 and early.mirror.started is not None, "the follower to join")
        await pilot.press("f3")
        await until(pilot, lambda: "not exported: nothing has happened" in log_text(early), "why not yet")
        assert not list(tmp_path.iterdir())
        for name in ("server-socket", "server-bind", "server-listen", "client-socket", "client-connect",
                     "server-accept", "client-send", "server-recv"):  # fmt: skip
            await asyncio.to_thread(session.perform, step(name), replace(args, payload=b"Hello"))
        await until(pilot, lambda: "recv() returned" in log_text(early), "the lecturer's calls")
        await pilot.press("f3")
        await until(pilot, lambda: len(list(tmp_path.glob("*/server.py"))) == 1, "the scripts")
        folder = next(tmp_path.glob("*/server.py")).parent
        for side in Side:
            assert (folder / f"{side.value}.py").read_text() == lecturers.script(
                side, args.endpoint, "The lecturer's sockviz session"
            )
        assert "cannot bind" in log_text(early) and "on this machine now" in log_text(early)  # s listens here
        await pilot.press("f4")
        await until(pilot, lambda: len(list(tmp_path.glob("*/server.ipynb"))) == 1, "the notebooks")
        assert not early.faults
    shutil.rmtree(folder)
    late = FollowApp("127.0.0.1", share.port, share.code)
    async with late.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: "recv() returned" in log_text(late), "the session so far")
        await pilot.press("f3")
        await until(pilot, lambda: len(list(tmp_path.glob("*/client.py"))) == 1, "the late follower's scripts")
        exported = next(tmp_path.glob("*/client.py")).read_text()
        assert exported == lecturers.script(Side.CLIENT, args.endpoint, "The lecturer's sockviz session")
        assert "c.sendall(b'" in exported
