"""Frames repaint only what changed (a border's subtitle line, a table's new rows, a pane's hidden list, steps
scrolled out of sight): what the screen shows after a lesson's frames must be what a repaint of every widget
shows, or a line of an earlier frame was left standing."""

from __future__ import annotations

from conftest import lecture
from rich.style import Style
from textual.screen import Screen
from textual.strip import Strip

from sockviz.app import SockvizApp
from sockviz.core.scenario import lessons


def narration(app: SockvizApp) -> str:
    found = app.screen.query("#narration")
    return str(found.first().render()) if found else ""


def looks(strip: Strip) -> list[tuple[str, Style | None]]:
    """What a line shows, cell by cell: its characters and their styles, without the click data they carry."""
    return [
        (char, segment.style and segment.style.clear_meta_and_links()) for segment in strip for char in segment.text
    ]


def stale_lines(screen: Screen) -> list[int]:
    """The screen's lines that a repaint of every widget draws otherwise: both drawn now, in one turn of the loop,
    so nothing changes between them."""
    shown = [looks(strip) for strip in screen._compositor.render_strips()]
    for widget in screen.walk_children(with_self=True):
        widget.refresh()
    screen.refresh()
    again = [looks(strip) for strip in screen._compositor.render_strips()]
    return [y for y, (before, after) in enumerate(zip(shown, again, strict=True)) if before != after]


async def test_a_played_and_restarted_lesson_leaves_no_stale_line(port):
    app = SockvizApp(port=port, scenario=("lesson: echo", lessons.text("echo")))
    async with lecture(app, size=(160, 50)) as lect:
        await lect.until(lambda: "line 1 of" in narration(app), "the lesson to load")
        await lect.play_to_the_end()
        await lect.pilot.pause()
        assert stale_lines(app.screen) == []
        await lect.pilot.press("ctrl+r")
        await lect.until(lambda: not app.session_screen._rebuilding and "line 1 of" in narration(app), "the restart")
        await lect.pilot.pause()
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
            assert stale_lines(app.screen) == [], f"after line {line + 1}"
        assert app.session_screen.table.row_count >= 3
