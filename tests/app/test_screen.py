"""The session screen: one way from threads to the screen, and no failure in silence."""

from __future__ import annotations

from conftest import lecture
from textual.widgets import Button

from sockviz.app import SockvizApp
from sockviz.core import STEPS, Side, steps_of
from sockviz.screens.session import SessionScreen


async def test_the_screen_is_the_sessions_and_queries_work_on_it(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        assert isinstance(app.screen, SessionScreen) and app.screen is app.session_screen
        assert app.screen.table is app.query_one("#sockets")
        await lect.press("server-socket")
        assert "s = socket.socket(" in lect.log_text()


async def test_a_worker_that_fails_is_told_in_the_log_and_the_app_goes_on(port, monkeypatch):
    """A fault of sockviz itself (here: the session's perform raising) must never vanish."""
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        perform = app.session.perform

        def broken(*args: object) -> None:
            raise RuntimeError("a bug for the test")

        monkeypatch.setattr(app.session, "perform", broken)
        await lect.pilot.press("s")
        await lect.until(lambda: "sockviz fault" in lect.log_text(), "the fault in the log")
        assert "RuntimeError: a bug for the test" in lect.log_text()
        monkeypatch.setattr(app.session, "perform", perform)
        await lect.press("server-socket")
        assert app.session.sockets


async def test_every_step_is_a_one_line_button_with_the_steps_id(port):
    app = SockvizApp(port=port)
    async with lecture(app, size=(130, 40)):
        for chosen in STEPS:
            button = app.query_one(f"#{chosen.id}", Button)
            assert button.compact and button.region.height == 1
            assert button.label.plain.startswith(f"{chosen.key}  ") and chosen.label in button.label.plain
        assert [b.id for b in app.query_one("#server-steps").query(Button)] == [s.id for s in steps_of(Side.SERVER)]


async def test_a_step_that_cannot_run_now_looks_so_and_says_why_when_pressed(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        bind = app.query_one("#server-bind", Button)
        assert bind.has_class("-cannot-run") and "run server socket() first" in str(bind.tooltip)
        await lect.click("server-bind")
        assert "bind() not run: there is no server socket yet" in lect.log_text()
        assert not app.session.sockets
        await lect.click("server-socket")
        await lect.until(lambda: not bind.has_class("-cannot-run"), "bind() to be runnable")
        app.query_one("#port").value = "70000"
        await lect.until(lambda: bind.has_class("-cannot-run"), "a refused port to stop bind()")
        assert "the port field:" in str(bind.tooltip)
