"""Frames repaint only what changed (a border's subtitle line, a table's new rows, a pane's hidden list, steps
scrolled out of sight): what the screen shows after a lesson's frames must be what a repaint of every widget
shows, or a line of an earlier frame was left standing."""

from __future__ import annotations

from conftest import lecture
from helpers import until
from rich.style import Style
from textual._compositor import ChopsUpdate, LayoutUpdate
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget

from sockviz.app import SockvizApp
from sockviz.core.scenario import lessons
from sockviz.widgets.kept_lines import KeepsLines
from sockviz.widgets.sockets_table import SocketsTable
from sockviz.widgets.step_button import StepButton


def narration(app: SockvizApp) -> str:
    found = app.screen.query("#narration")
    return str(found.first().render()) if found else ""


def looks(strip: Strip) -> list[tuple[str, Style | None]]:
    """What a line shows, cell by cell: its characters and their styles, without the click data they carry."""
    return [
        (char, segment.style and segment.style.clear_meta_and_links()) for segment in strip for char in segment.text
    ]


def repaint_all(screen: Screen) -> None:
    """Every widget drawn again from nothing at the next frame, none from the lines it keeps for a look (a look
    that left out something its lines depend on would draw them again as they were)."""
    for widget in screen.walk_children(with_self=True):
        if isinstance(widget, KeepsLines | SocketsTable):
            widget.forget_lines()
        widget.refresh()
    for widget in screen._compositor.visible_widgets:  # the scrollbars, which are not the screen's children
        if isinstance(widget, KeepsLines):
            widget.forget_lines()
            widget.refresh()


def stale_lines(screen: Screen) -> list[int]:
    """The screen's lines that a repaint of every widget draws otherwise: both drawn now, in one turn of the loop,
    so nothing changes between them."""
    shown = [looks(strip) for strip in screen._compositor.render_strips()]
    repaint_all(screen)
    screen.refresh()
    again = [looks(strip) for strip in screen._compositor.render_strips()]
    return [y for y, (before, after) in enumerate(zip(shown, again, strict=True)) if before != after]


class Terminal:
    """What a terminal shows once it has been sent each of a screen's frames: the whole screen, or the changed
    spans of its lines (as Textual writes them, `ChopsUpdate.render_segments`)."""

    def __init__(self, screen: Screen) -> None:
        self.screen = screen
        width, height = screen.size
        self.lines: list[list[tuple[str, Style | None]]] = [[(" ", None)] * width for _ in range(height)]
        render_update = screen._compositor.render_update

        def sent(*args, **kwargs):
            update = render_update(*args, **kwargs)
            self._show(update)
            return update

        screen._compositor.render_update = sent

    def _show(self, update: object) -> None:
        if isinstance(update, LayoutUpdate):
            self.lines = [[cell for strip in line for cell in looks(strip)] for line in update.strips]
        elif isinstance(update, ChopsUpdate):
            for y, x1, x2 in update.spans:
                for end, (x, strip) in zip(update.chop_ends[y], update.chops[y].items(), strict=False):
                    if strip is not None and x < x2 and end > x1:
                        for at, cell in enumerate(looks(strip), x):
                            if x1 <= at < min(end, x2):
                                self.lines[y][at] = cell

    def stale_lines(self) -> list[int]:
        """The lines this terminal shows otherwise than the screen's widgets draw now (any frame still due is
        drawn first), every widget drawn from nothing."""
        self.screen._on_timer_update()
        repaint_all(self.screen)
        drawn = [looks(strip) for strip in self.screen._compositor.render_strips()]
        return [y for y, (shown, now) in enumerate(zip(self.lines, drawn, strict=True)) if shown != now]


async def test_a_frame_that_repaints_one_step_asks_no_other_step_for_its_lines(port, monkeypatch):
    """Textual's compositor asked every widget whose container crosses the box around a frame's changes (every
    step of the pane, for one step repainted), for all its lines on the changed rows."""
    app = SockvizApp(port=port)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        screen = app.screen
        frames: list[set[Widget]] = []
        asked: set[Widget] = set()
        render_partial_update = screen._compositor.render_partial_update

        def asking(render_lines):
            def lines_of(widget, crop):
                asked.add(widget)
                return render_lines(widget, crop)

            return lines_of

        def partial_update():
            asked.clear()
            update = render_partial_update()
            frames.append(set(asked))
            return update

        for owner in (Widget, KeepsLines):  # a step answers from the lines it keeps, without Widget's
            monkeypatch.setattr(owner, "render_lines", asking(owner.render_lines))
        monkeypatch.setattr(screen._compositor, "render_partial_update", partial_update)
        step = screen.query_one("#server-bind", StepButton)
        step.refresh()
        await until(pilot, lambda: any(step in frame for frame in frames), "the step's frame")
        (frame,) = [frame for frame in frames if step in frame]
        assert [widget for widget in frame if isinstance(widget, StepButton)] == [step]


async def test_a_played_and_restarted_lesson_leaves_no_stale_line(port):
    app = SockvizApp(port=port, scenario=("lesson: echo", lessons.text("echo")))
    async with lecture(app, size=(160, 50)) as lect:
        terminal = Terminal(app.screen)
        app.screen.refresh()  # the whole screen, once more: the terminal starts from it
        await lect.until(lambda: "line 1 of" in narration(app), "the lesson to load")
        await lect.play_to_the_end()
        await lect.pilot.pause()
        assert terminal.stale_lines() == []
        assert stale_lines(app.screen) == []
        await lect.pilot.press("ctrl+r")
        await lect.until(lambda: not app.session_screen._rebuilding and "line 1 of" in narration(app), "the restart")
        await lect.pilot.pause()
        assert terminal.stale_lines() == []
        assert stale_lines(app.screen) == []
        screen = app.session_screen
        for focused in (screen.table, screen.event_log, screen.query_one("#client-message"), screen.first_focus()):
            screen.set_focus(focused)  # each looks otherwise with the focus (a border, a tint, a cursor)
            await lect.pilot.pause()
            assert stale_lines(app.screen) == [], f"with the focus on {focused}"
        for line in range(12):  # the lesson's first sockets again: the panes' lists come back, rows are added
            await lect.pilot.press("n")
            await lect.until(lambda: app.session_screen.scenario_panel.waiting, "the line to run")
            await lect.pilot.pause(0.3)  # a refresh of the table (four a second) and its frame
            assert terminal.stale_lines() == [], f"the terminal after line {line + 1}"
            assert stale_lines(app.screen) == [], f"after line {line + 1}"
        assert app.session_screen.table.row_count >= 3
