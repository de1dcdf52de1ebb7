"""The sockets table at the sizes a lecture meets: what the screen shows of each row's cells.

Read from the screen itself (the compositor's lines), not from the table's data: a cell counts as shown
only when all of its text is on screen at its column's place, so a cut `57 s l` or `connect` fails.
"""

from __future__ import annotations

import pytest
from conftest import CONNECTED, lecture

from sockviz.app import SockvizApp
from sockviz.widgets.sockets_table import SocketsTable

FIRST = ("name", "fd", "state", "laddr", "raddr", "now")
EVERY = (*FIRST, "queues", "open", "role", "family", "type", "proto")
SHOWN = {(80, 24): FIRST[:3], (100, 30): FIRST[:4], (130, 40): FIRST, (200, 56): EVERY}
"""The columns every row shows whole at each size, with the table scrolled to its left end."""


def screen_lines(app: SockvizApp) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


def shown_cells(app: SockvizApp, table: SocketsTable) -> dict[str, dict[str, str]]:
    """Each row's cells as the screen shows them: the text at the cell's place, cut where the table ends."""
    lines = screen_lines(app)
    area = table.scrollable_content_region
    places: list[tuple[str, int, int]] = []
    x = area.x - int(table.scroll_x)
    for number, column in enumerate(table.ordered_columns):
        width = column.get_render_width(table)
        start = x  # every column has one space after it
        if number < table.fixed_columns:
            start += int(table.scroll_x)
        places.append((str(column.key.value), start, column.content_width))
        x += width
    shown: dict[str, dict[str, str]] = {}
    for index in range(table.row_count):
        y = area.y + table.header_height + index - int(table.scroll_y)  # the header is the region's first line
        if not area.y + table.header_height <= y < area.bottom:
            continue
        line = lines[y]
        row = table.get_row_at(index)
        name = row[0]
        cells = {}
        for key, start, width in places:
            left, right = max(start, area.x), min(start + width, area.right)
            cells[key] = line[left:right].rstrip() if left < right else ""
        shown[name] = cells
    return shown


@pytest.mark.parametrize("size", list(SHOWN), ids=[f"{w}x{h}" for w, h in SHOWN])
async def test_every_row_shows_what_the_lesson_points_at(port, size):
    """An echo whose server closed first (its conn in TIME_WAIT, `59 s left`), a client closed, and the listener
    blocked in accept() again: at each size the columns of SHOWN are whole on every row, closed rows too; and
    scrolled sideways to the end, every row still shows its name, and the last columns come into view."""
    app = SockvizApp(port=port)
    async with lecture(app, size=size) as lect:
        await lect.press_all(*CONNECTED, "server-accept", "client-send", "server-recv", "server-send", "client-recv")
        await lect.press_all("server-close-conn", "client-close")
        await lect.press("server-accept", wait_for="block")
        await lect.until(lambda: lect.cell("conn", "state") == "TIME_WAIT", "the server's side in TIME_WAIT")
        await lect.until(lambda: lect.cell("s", "now").startswith("accept() blocked "), "the blocked accept")
        table = app.query_one("#sockets", SocketsTable)
        await lect.pilot.pause()
        wanted = SHOWN[size]
        texts = {lect.cell(name, "name"): {key: lect.cell(name, key) for key in EVERY} for name in ("s", "c", "conn")}
        assert texts["conn"]["laddr"] == f"127.0.0.1:{port}" and texts["c"]["raddr"] == f"127.0.0.1:{port}"
        shown = shown_cells(app, table)
        for name, cells in texts.items():
            assert {key: shown[name][key] for key in wanted} == {key: cells[key] for key in wanted}, f"{name} at {size}"
        if set(wanted) != set(EVERY):
            table.scroll_to(x=table.max_scroll_x, animate=False)
            await lect.pilot.pause()
            shown = shown_cells(app, table)
            for name, cells in texts.items():
                assert shown[name]["name"] == name and shown[name]["proto"] == cells["proto"], f"{name} scrolled"
        else:
            assert table.max_scroll_x == 0  # nothing to scroll to: the width is used


@pytest.mark.parametrize("size", [(130, 40), (200, 56)], ids=["130x40", "200x56"])
async def test_the_panes_show_the_longest_hint_whole(port, size):
    """The panes are as narrow as their steps allow, so the table gets the rest; the longest hint a step shows
    (`C  6 connect() refused?`, a client socket and nobody listening) is still whole on screen."""
    app = SockvizApp(port=port)
    async with lecture(app, size=size) as lect:
        await lect.press("client-socket")
        button = app.query_one("#client-connect")
        await lect.until(lambda: str(button.label).endswith("refused?"), "connect()'s hint")
        await lect.pilot.pause()
        region = button.region
        shown = screen_lines(app)[region.y][region.x : region.right]
        assert shown.rstrip().endswith("connect() refused?"), shown


async def test_a_column_narrows_again_when_its_long_cell_gets_short(port):
    """A serve mode's `now` (`serving (threads): ...`) widens its column and pushes the last columns off at 200
    columns; once it is cancelled and s listens again (it set SO_REUSEADDR, so an accepted connection does not
    refuse that), `now` is `idle` again and every column is back, whole on every row."""
    app = SockvizApp(port=port)
    async with lecture(app, size=(200, 56)) as lect:
        table = app.query_one("#sockets", SocketsTable)
        await lect.press_all("server-socket", "server-option", "server-bind", "server-listen", *CONNECTED[3:])
        await lect.press("server-accept")  # a connection: raddr and ESTABLISHED take room too
        await lect.pilot.press("j")  # serve threads: it runs until cancelled
        await lect.until(lambda: lect.cell("s", "now").startswith("serving"), "the serve mode's long `now`")
        await lect.until(lambda: table.max_scroll_x > 0, "the long cell to push the last columns off")
        await lect.press("server-cancel")
        await lect.press("server-listen")
        await lect.until(lambda: lect.cell("s", "now") == "idle", "s listening again")
        await lect.until(lambda: table.max_scroll_x == 0, "the columns to fit again")
        await lect.pilot.pause()
        shown = shown_cells(app, table)
        for name in ("s", "c", "conn"):
            assert shown[name] == {key: lect.cell(name, key) for key in EVERY}, name
