"""What the app shows is what the kernel did: an IPv6 lesson on IPv6, a stopped listener in the table."""

from __future__ import annotations

import socket

from conftest import lecture
from helpers import Background, Recorder, wait_for

from sockviz.app import SockvizApp
from sockviz.core import Session, StepArgs, StepBlocked, Target, endpoint, step
from sockviz.core.scenario import lessons
from sockviz.widgets.socket_rows import row_texts


def narration(app) -> str:
    """What the lesson panel says; nothing while a reset makes the widgets again."""
    found = app.screen.query("#narration")
    return str(found.first().render()) if found else ""


async def test_the_ipv6_lesson_switches_the_app_to_ipv6(port):
    app = SockvizApp(port=port, scenario=("lesson: ipv6", lessons.text("ipv6")))
    async with lecture(app) as lect:
        await lect.until(lambda: "next:" in narration(app), "the lesson to load")
        assert app.query_one("#endpoint").family == socket.AF_INET6
        await lect.play_to_the_end()
        assert "ended: every expect held" in narration(app)
        assert "AF_INET6" in lect.log_text() and "('::1'," in lect.log_text()


def test_the_table_says_a_listener_stopped_by_cancel_no_longer_listens(port):
    session = Session()
    events = Recorder(session)
    background = Background(session)
    args = StepArgs(endpoint=endpoint("127.0.0.1", str(port), socket.AF_INET))
    try:
        for name in ("server-socket", "server-bind", "server-listen"):
            session.perform(step(name), args)
        listener = session.current(Target.LISTENER)
        assert listener is not None
        background.start("server-accept", args)
        wait_for(lambda: events.of(StepBlocked), what="accept() to block")
        session.perform(step("server-cancel"), args)
        wait_for(lambda: events.finished("server-accept"), what="accept() to wake")
        cells = row_texts(listener, listener.snapshot(), "idle")
        assert cells["state"] == "CLOSE" and "not listening" in cells["now"]
        session.perform(step("server-listen"), args)
        cells = row_texts(listener, listener.snapshot(), "idle")
        assert cells["state"] == "LISTEN" and cells["now"] == "idle"
    finally:
        session.close()
        assert not background.join()


async def test_echo_then_blocking_order_in_one_app_on_the_same_port(port):
    """The second lesson binds the port that the first one's TIME_WAIT holds, and passes."""
    app = SockvizApp(port=port, scenario=("lesson: echo", lessons.text("echo")))
    async with lecture(app) as lect:
        await lect.until(lambda: "next:" in narration(app), "echo to load")
        assert "ended: every expect held" in await lect.play_to_the_end(20)
        app.load_lesson("blocking-order")  # into a used session: it resets first
        await lect.until(lambda: "lesson: blocking-order" in narration(app), "blocking-order to load")
        assert "ended: every expect held" in await lect.play_to_the_end(30), narration(app)
        told = lect.log_text()
        assert "failed: OSError EADDRINUSE" not in told  # no bind() failed (both lessons set SO_REUSEADDR)
        assert "The kernel still holds what the session before the reset closed: conn" in told  # the reset said
