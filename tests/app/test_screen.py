"""The session screen: one way from threads to the screen, and no failure in silence."""

from __future__ import annotations

from conftest import lecture

from sockviz.app import SockvizApp
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
