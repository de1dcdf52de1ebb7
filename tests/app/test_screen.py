"""The session screen: one way from threads to the screen, and no failure in silence."""

from __future__ import annotations

from functools import partial

import pytest
from conftest import lecture
from rich.cells import cell_len
from textual.errors import NoWidget
from textual.widget import Widget
from textual.widgets import Button, Input

from sockviz.app import SockvizApp
from sockviz.core import STEPS, Side, steps_of
from sockviz.screens.session import SessionScreen
from sockviz.widgets.event_log import EventLog
from sockviz.widgets.step_button import StepButton
from sockviz.widgets.step_pane import StepPane


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

        def broken(*args: object, **kwargs: object) -> None:
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
            assert button.label.plain.startswith(f"{chosen.key} ") and chosen.label in button.label.plain
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


SIZES = [(80, 24), (100, 30), (130, 40), (200, 56)]


def seen(app: SockvizApp, widget: Widget) -> bool:
    """Whether the screen shows the widget (or a part of it) at the widget's top-left corner."""
    try:
        under, _ = app.screen.get_widget_at(*widget.region.offset)
    except NoWidget:
        return False
    return under is widget or widget in under.ancestors


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
async def test_every_control_can_be_reached_and_seen(port, size):
    """Tab reaches every control, the settings opened too, and each one focused is on screen: its pane
    scrolls it into view. A control is seen when the screen shows it (or a part of it) at its top-left."""
    app = SockvizApp(port=port)
    async with lecture(app, size=size) as lect:
        for side in ("server", "client"):
            await app.query_one(f"#{side}-pane", StepPane).open_settings()
        await lect.pilot.pause()
        controls = set(app.screen.query("StepButton, Input, Select, FamilyToggle, CollapsibleTitle, #sockets, #log"))
        assert len(controls) > 30
        reached = set()
        for _ in range(len(controls) + 1):
            app.screen.focus_next()
            focused = app.focused
            assert focused is not None
            reached.add(focused)
            await lect.until(partial(seen, app, focused), f"{focused} to be seen at {size}")  # its pane scrolls
        assert controls <= reached


async def test_the_projector_layout_gives_the_table_and_the_log_the_room(port):
    app = SockvizApp(port=port)
    async with lecture(app, size=(100, 30)) as lect:
        table, log = app.query_one("#sockets"), app.query_one("#log")
        before = (table.region.width, log.region.height)
        await lect.pilot.press("v")
        assert not app.query_one("#server-pane").region and not app.query_one("#client-pane").region
        assert table.region.width > before[0] and log.region.height > before[1]
        await lect.press("server-socket")  # the steps still run by their keys
        await lect.pilot.press("v")
        assert app.query_one("#server-pane").region.width >= 24


async def test_the_projector_layout_is_in_the_palette(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.pilot.press("ctrl+p")
        await lect.until(lambda: app.screen.query("CommandInput"), "the palette")
        await lect.pilot.press(*"projector")

        def offered() -> bool:
            return "Projector layout" in str(app.screen.query_one("CommandList").get_option_at_index(0).prompt)

        await lect.until(offered, "the projector command")
        await lect.pilot.press("enter")
        await lect.until(lambda: app.session_screen.has_class("-projector"), "the projector layout")


async def test_at_80x24_each_steps_hint_and_each_fields_placeholder_is_whole(port):
    """The narrowest panes (26 cells, a scrollbar beside the steps): `C  6 connect() refused?` before anyone
    listens, `1 ready` on accept() and select() once a client waits, and every field's placeholder with the
    settings open are whole, not cut with "…"."""
    app = SockvizApp(port=port)
    async with lecture(app, size=(80, 24)) as lect:

        def cut() -> list[str]:
            found = [
                str(b.label) for b in app.screen.query(StepButton) if cell_len(str(b.label)) > b.content_size.width
            ]
            inputs = app.screen.query("StepPane Input").results(Input)
            return found + [i.placeholder for i in inputs if cell_len(i.placeholder) > i.content_size.width]

        await lect.press("client-socket")
        await lect.until(lambda: str(app.query_one("#client-connect", StepButton).label).endswith("refused?"), "hint")
        await lect.press_all("server-socket", "server-bind", "server-listen", "client-connect")
        await lect.until(lambda: str(app.query_one("#server-select", StepButton).label).endswith("1 ready"), "hint")
        assert str(app.query_one("#server-accept", StepButton).label).endswith("1 ready")
        for side in ("server", "client"):
            await app.query_one(f"#{side}-pane", StepPane).open_settings()
        await lect.pilot.pause()
        assert len(app.screen.query("StepPane Input")) >= 10
        assert not cut(), cut()


async def test_a_line_waiting_for_the_logs_pace_waits_for_a_longer_pace_set_meanwhile(port):
    """A line told right after a write waits its turn; when a transfer's bytes begin to move meanwhile, the pace
    they set counts for it too (it is written with the transfer's end, `flush`), not the one it was told at."""
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        log = app.query_one("#log", EventLog)
        await lect.press("server-socket")
        log.note(app.session.now(), "start", "a line written at once")
        log.flush()
        written = len(log.lines)
        log.note(app.session.now(), "start", "a line right after it")
        log.write_gap = 600.0  # far longer than this test's pause, whatever the load
        await lect.pilot.pause(0.3)
        assert len(log.lines) == written
        log.flush()
        assert len(log.lines) > written
