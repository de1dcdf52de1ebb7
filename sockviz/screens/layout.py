"""What both screens of a session share, live and replayed: the main row (server pane | table and print() |
client pane) and the widgets of theirs that each finds by id.

A replay must look like the session it replays, so the row is made in one place; app.tcss lays it
out by these ids for both screens.
"""

from __future__ import annotations

from textual import getters
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical

from sockviz.screens.frames import PaintsWhatChanged
from sockviz.widgets.event_log import EventLog
from sockviz.widgets.socket_detail import SocketDetail
from sockviz.widgets.sockets_table import SocketsTable
from sockviz.widgets.step_pane import StepPane
from sockviz.widgets.timeline_view import TimelineView


def main_row(server: StepPane, client: StepPane) -> ComposeResult:
    """`#main`: the two step panes either side of the sockets table (`#sockets`) and `print(s)` (`#repr`)."""
    with Horizontal(id="main"):
        yield server
        with Vertical(id="middle"):
            yield SocketsTable(id="sockets")
            yield SocketDetail(id="repr")
        yield client


class SessionRows(PaintsWhatChanged):
    """A screen of a session, live or replayed: the widgets both have, found by query (typed), never kept aside."""

    table = getters.query_one("#sockets", SocketsTable)
    detail = getters.query_one("#repr", SocketDetail)
    event_log = getters.query_one("#log", EventLog)
    timeline_view = getters.query_one("#timeline", TimelineView)
    bottom = getters.query_one("#bottom", Horizontal)
