"""Many clients in the app: the serve modes by their keys, a working burst, and the lessons played to the end."""

from __future__ import annotations

import asyncio

import pytest
from conftest import lecture, quit_as_a_terminal_does
from helpers import sockviz_threads, wait_for

from sockviz.app import SockvizApp
from sockviz.core import Role, Side, StepReturned
from sockviz.core.scenario import lessons


@pytest.mark.parametrize("name", ["one-at-a-time", "select", "nonblocking", "threads"])
async def test_the_many_clients_lessons_play_in_the_app(port, name):
    app = SockvizApp(port=port, scenario=(f"lesson: {name}", lessons.text(name)))
    async with lecture(app) as lect:
        ended = await lect.play_to_the_end()
        assert "ended: every expect held" in ended


async def test_a_serve_mode_serves_a_working_burst_and_cancel_stops_it(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.press_all("server-socket", "server-bind", "server-listen")
        await lect.pilot.press("j")  # serve threads: it runs until cancelled
        await lect.until(lambda: lect.cell("s", "now").startswith("serving (threads): 1 thread"), "the table to say")
        await app.session_screen.pane(Side.CLIENT).open_settings()
        await lect.pilot.pause()
        app.query_one("#client-burst-send").value = "ping"
        app.query_one("#client-burst-hold").value = "0"
        await lect.pilot.pause()
        burst = await lect.press("client-burst")
        assert isinstance(burst, StepReturned)
        await lect.until(lambda: "10 of 10 served (their 4 bytes came back); latency per client" in lect.log_text(),
                         "the burst's summary")  # fmt: skip
        for tracked in app.session.sockets:
            if tracked.role is Role.CLIENT:
                conn = app.session.peer_of(tracked)
                assert conn is not None and conn.bytes_received == tracked.bytes_sent == 4
        await lect.press("server-cancel")
        await lect.until(lambda: "serve_threads() returned" in lect.log_text(), "the serve mode to end")
        assert app.session.serve_status() == {}


def test_quitting_while_a_serve_mode_waits_in_every_thread_does_not_hang(port):
    """ctrl+q with serve threads waiting in accept() and in each connection's recv(): every one is woken with
    shutdown(), and no thread of the session outlives the app."""

    async def lesson() -> SockvizApp:
        app = SockvizApp(port=port)
        async with lecture(app) as lect:
            await lect.press_all("server-socket", "server-bind", "server-listen")
            await lect.pilot.press("j")
            await lect.press_all("client-socket", "client-connect", "client-socket", "client-connect")
            await lect.until(lambda: "3 threads" in lect.cell("s", "now"), "a thread waiting in each connection")
            quit_as_a_terminal_does(app)
        assert not app.session.running() and all(t.closed for t in app.session.sockets)
        return app

    asyncio.run(lesson())
    wait_for(lambda: not sockviz_threads(), what="threads to end")


async def test_select_reads_its_timeout_and_write_list_from_the_server_pane(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.press_all("server-socket", "server-bind", "server-listen", "client-socket", "client-connect")
        await lect.press("server-accept")
        await app.session_screen.pane(Side.SERVER).open_settings()
        await lect.pilot.pause()
        app.query_one("#server-select-write").value = True
        app.query_one("#server-select-timeout").value = "0"
        await lect.pilot.pause()
        ready = await lect.press("server-select")
        assert isinstance(ready, StepReturned) and ready.writable == ("conn",)
        assert "select.select([s, conn], [conn], [], 0.0)" in ready.call.code


async def test_keys_work_during_and_after_a_1000_client_burst(port):
    """A thousand clients, every one queued by the kernel (a backlog of 1024): the screen is handed their
    events a batch at a time (one message per wait, however many events came meanwhile), so Pilot's keys,
    which wait for every widget's queue, go through during the burst and after it; each message once
    carried one event, and a press waited 30 s for three thousand of them on a loaded machine."""
    app = SockvizApp(port=port)
    async with lecture(app, size=(130, 40)) as lect:
        for side in Side:
            await app.session_screen.pane(side).open_settings()
        await lect.pilot.pause()
        app.query_one("#server-backlog").value = "1024"
        app.query_one("#client-burst-count").value = "1000"
        await lect.pilot.pause()
        await lect.press_all("server-socket", "server-bind", "server-listen")
        await lect.pilot.press("B")
        await lect.until(lambda: len(app.session.sockets) > 200, "the burst under way")
        await lect.pilot.press("t")  # during the burst
        timeline = app.query_one("#timeline")
        assert timeline.display
        await lect.until(lambda: "burst done:" in lect.log_text(), "the burst's summary", timeout=30)
        await lect.pilot.press("t")  # after it
        assert not timeline.display
        told = len(lect.delivered)
        assert len(lect._messages) < told * 0.8, (len(lect._messages), told)  # coalesced: far fewer messages
        assert not app.faults
