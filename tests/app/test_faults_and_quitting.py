"""The app never crashes on its own faults, quits at once in every state, and leaves no fd or thread."""

from __future__ import annotations

import asyncio
import gc
import socket
from pathlib import Path

import pytest
from conftest import lecture, quit_as_a_terminal_does
from helpers import open_fds, sockviz_threads, until, wait_for
from textual import events

from sockviz import cli
from sockviz.app import SockvizApp
from sockviz.core import Endpoint, Session, StepArgs, step
from sockviz.core.scenario import player as player_module


def log_text(app: SockvizApp) -> str:
    return "".join(line.text for line in app.query_one("#log").lines)


async def test_a_failing_worker_is_a_fault_in_the_log_with_its_traceback_and_the_app_goes_on(port):
    async with lecture(SockvizApp(port=port)) as ui:

        def broken() -> None:
            raise RuntimeError("a bug in sockviz")

        ui.app.run_worker(broken, thread=True, exit_on_error=False, name="broken")
        await ui.until(lambda: ui.app.faults, "the fault to be reported")
        fault = ui.app.faults[0]
        await ui.until(lambda: "sockviz fault in worker 'broken'" in log_text(ui.app), "the fault in the log")
        assert fault.path is not None and str(fault.path) in log_text(ui.app).replace("\n", "")
        assert "RuntimeError: a bug in sockviz" in Path(fault.path).read_text()
        await ui.press("server-socket")  # the app goes on
        assert ui.app.is_running


async def test_a_timer_that_fails_four_times_a_second_is_one_fault_and_the_app_goes_on(port, monkeypatch):
    async with lecture(SockvizApp(port=port)) as ui:
        calls: list[None] = []

        def broken() -> list[str]:
            calls.append(None)
            raise ZeroDivisionError("division by zero")

        monkeypatch.setattr(ui.app.session, "listening_everywhere", broken)
        await ui.until(lambda: ui.app.faults, "the refresh's fault")
        failed = len(calls)
        await ui.until(lambda: len(calls) >= failed + 2, "two more refreshes that fail the same way")
        await ui.pilot.pause()  # their faults reach the app
        assert len(ui.app.faults) == 1
        assert "ZeroDivisionError" in log_text(ui.app)
        monkeypatch.undo()
        await ui.press("server-socket")
        assert ui.app.is_running


async def test_a_long_byte_preview_is_folded_in_the_log_never_cropped(port):
    async with lecture(SockvizApp(port=port), size=(100, 40)) as ui:
        endpoint = Endpoint(socket.AF_INET, "127.0.0.1", port)
        session = ui.app.session
        payload = bytes(range(48, 58)) * 103  # 1,030 bytes of digits

        def steps() -> None:
            args = StepArgs(endpoint=endpoint)
            for step_id in ("server-socket", "server-bind", "server-listen", "client-socket", "client-connect",
                            "server-accept"):  # fmt: skip
                session.perform(step(step_id), args)
            session.perform(step("client-send"), StepArgs(payload=payload))
            session.perform(step("server-recv"), StepArgs(bufsize=2048))

        await asyncio.to_thread(steps)
        preview = repr(payload[:200])[2:-1]
        await ui.until(lambda: preview in log_text(ui.app).replace(" ", ""), "the whole preview in the log")


def test_an_app_that_ends_on_an_error_exits_with_its_status(monkeypatch):
    def run(self: SockvizApp) -> None:
        self._return_code = 1  # what Textual sets when an exception ended the app

    monkeypatch.setattr(SockvizApp, "run", run)
    with pytest.raises(SystemExit) as ended:
        cli.main(["--port", "40123"])
    assert ended.value.code == 1


# ----- quitting in every state, and what is left after ---------------------------


@pytest.fixture
def nothing_left():
    """Fails the test if an fd or a sockviz thread outlives the app."""
    fds, threads = open_fds(), sockviz_threads()
    yield
    wait_for(lambda: open_fds() <= fds, 5, "every fd of the app to close")
    wait_for(lambda: sockviz_threads() == threads, 5, "every sockviz thread to end")


async def test_quitting_while_a_large_burst_runs_leaves_nothing(port, nothing_left):
    app = SockvizApp(port=port)
    async with app.run_test(size=(130, 40)) as pilot:
        endpoint = Endpoint(socket.AF_INET, "127.0.0.1", port)
        args = StepArgs(endpoint=endpoint)
        for step_id in ("server-socket", "server-bind"):
            app.session.perform(step(step_id), args)
        app.session.perform(step("server-listen"), StepArgs(backlog=8))
        app.run_worker(lambda: app.session.perform(step("client-burst"), StepArgs(endpoint=endpoint, count=1000)),
                       thread=True, exit_on_error=False)  # fmt: skip
        await until(pilot, lambda: len(app.session.sockets) > 200, "the burst to be under way")
        quit_as_a_terminal_does(app)
    assert not app.faults
    assert all(tracked.closed for tracked in app.session.sockets)


async def test_quitting_while_a_scenario_waits_leaves_nothing(port, monkeypatch, nothing_left):
    """`client burst count=1000` then `pause 30`: quit took 10 s, the player waiting out its timeouts.
    With the timeouts an hour long, a quit that does not stop the player would hang the test."""
    monkeypatch.setattr(player_module, "_SETTLE_SECONDS", 3600.0)
    monkeypatch.setattr(player_module, "_EXPECT_SECONDS", 3600.0)
    scenario = "server socket\nserver bind\nserver listen backlog=8\nclient burst count=1000\npause 30\n"
    app = SockvizApp(port=port, scenario=("waits", scenario))
    async with app.run_test(size=(130, 40)) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: len(app.session.sockets) > 200, "the burst to be under way")
        quit_as_a_terminal_does(app)
    assert not app.faults


async def test_quitting_with_64_calls_blocked_leaves_nothing(port, nothing_left):
    session = Session()
    app = SockvizApp(port=port, session=session)
    async with app.run_test(size=(130, 40)) as pilot:
        endpoint = Endpoint(socket.AF_INET, "127.0.0.1", port)
        for step_id in ("server-socket", "server-bind"):
            session.perform(step(step_id), StepArgs(endpoint=endpoint))
        session.perform(step("server-listen"), StepArgs(backlog=100))
        session.perform(step("client-burst"), StepArgs(endpoint=endpoint, count=64))
        await until(pilot, lambda: not session.running(), "64 clients to connect")
        for _ in range(64):
            session.perform(step("server-accept"))
        for conn in [t for t in session.sockets if t.role.value == "connection"]:
            app.run_worker(lambda conn=conn: session.perform(step("server-recv"), target=conn), thread=True,
                           exit_on_error=False)  # fmt: skip
        await until(pilot, lambda: len(session.running()) == 64, "64 blocked recv() calls")
        quit_as_a_terminal_does(app)  # Pilot's press then waits for a screen that is going away
    assert not app.faults
    assert not session.running() and all(tracked.closed for tracked in session.sockets)


async def test_the_collector_waits_for_the_first_frame_and_is_back_as_it_was_after_the_app(port):
    """Start-up runs without the collector (everything it makes is frozen at the first frame anyway); once that
    frame is drawn the collector runs again, and when the app ends the process has its settings back."""
    collecting_at_mount: list[bool] = []

    def hear(message: object) -> None:
        if isinstance(message, events.Mount) and not gc.get_freeze_count():
            collecting_at_mount.append(gc.isenabled())

    assert gc.isenabled()
    threshold = gc.get_threshold()
    app = SockvizApp(port=port)
    async with app.run_test(size=(100, 30), message_hook=hear) as pilot:
        await until(pilot, lambda: gc.get_freeze_count() > 0, "start-up's objects to be frozen")
        assert collecting_at_mount and not any(collecting_at_mount)  # the screen's widgets mounted without it
        assert gc.isenabled()
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == threshold


async def test_pilot_waits_for_the_screen_with_the_patience_of_every_other_wait(port, monkeypatch):
    """Textual gives up waiting for the widgets' messages after a fixed 30 s (WaitForScreenTimeout): the
    `patient_pilot` fixture makes it PATIENCE times that, so a loaded machine is no failure by itself."""
    import textual.pilot
    from helpers import PATIENCE

    asked: list[float | None] = []
    waits = asyncio.wait

    async def wait(tasks, *, timeout=None, return_when=asyncio.ALL_COMPLETED):
        asked.append(timeout)
        return await waits(tasks, timeout=timeout, return_when=return_when)

    monkeypatch.setattr(textual.pilot.asyncio, "wait", wait)
    async with SockvizApp(port=port).run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("t")
    assert asked and set(asked) == {30.0 * PATIENCE}
