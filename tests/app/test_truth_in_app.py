"""What the app shows is what the kernel did: an IPv6 lesson on IPv6, a stopped listener in the table."""

from __future__ import annotations

import socket
import threading

from conftest import lecture
from helpers import Background, Recorder, wait_for

from sockviz.app import SockvizApp
from sockviz.core import Action, Session, StepArgs, StepBlocked, Target, endpoint, step
from sockviz.core.engine.calls import CALLS
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


async def test_keys_typed_together_run_and_are_told_in_the_order_they_were_typed(port, monkeypatch):
    """`s b l a` sent at once, as tmux or a fast typist sends them: socket() returns before bind() begins (bind
    was refused with "there is no server socket yet", or its lines came before socket()'s), and accept()
    blocks on a listener bound to the bar's port. socket() is held until every key is in, as a busy machine
    holds a thread that has not started yet."""
    keys_in = threading.Event()
    make_socket = CALLS[Action.SOCKET]

    def held_socket(context):
        keys_in.wait(5)
        return make_socket(context)

    monkeypatch.setitem(CALLS, Action.SOCKET, held_socket)
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.pilot.press("s", "b", "l", "a")
        keys_in.set()
        await lect.until(lambda: "accept() blocks" in lect.log_text(), "accept() to block, in the log")
        told = lect.log_text()
        lines = ["s = socket.socket(", "socket() returned", "s.bind((", "bind() returned", "s.listen()",
                 "listen() returned", "s.accept()", "accept() blocks"]  # fmt: skip
        places = [told.find(line) for line in lines]
        assert -1 not in places and places == sorted(places), told
        assert "not run" not in told
        await lect.until(lambda: lect.cell("s", "laddr") == f"127.0.0.1:{port}", "the table to show s bound")


async def test_the_guide_after_a_failed_bind_names_the_port_to_set_and_following_it_works(port):
    """Another program holds the top bar's port: bind() fails, listen() takes an ephemeral port, and accept()
    waits. The log's guide says to set the port first (S C would go to the holder); set, S C wakes accept()."""
    with socket.create_server(("127.0.0.1", port)) as holder:
        app = SockvizApp(port=port)
        async with lecture(app) as lect:
            log = app.screen.query_one("#log")
            await lect.press_all("server-socket", "server-bind", "server-listen")
            await lect.press("server-accept", wait_for="block")
            real = app.session.current(Target.LISTENER).bound_port
            assert real != port
            wanted = f"next: set the port to {real} (s is at 0.0.0.0:{real}), then S C a client connects"
            await lect.until(lambda: str(log.border_subtitle).startswith(wanted), "the guide to name the port")
            app.screen.query_one("#port").value = str(real)
            await lect.until(lambda: str(log.border_subtitle).startswith("next: S C a client connects"), "as it was")
            await lect.press_all("client-socket", "client-connect")
            await lect.until(lambda: lect.events.finished("server-accept"), "accept() to wake")
        holder.close()
