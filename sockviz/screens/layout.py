"""The main row both screens of a session show, live and replayed: server pane | table and print() | client pane.

A replay must look like the session it replays, so the row is made in one place; app.tcss lays it
out by these ids for both screens.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical

from sockviz.widgets.socket_detail import SocketDetail
from sockviz.widgets.sockets_table import SocketsTable
from sockviz.widgets.step_pane import StepPane


def main_row(server: StepPane, client: StepPane) -> ComposeResult:
    """`#main`: the two step panes either side of the sockets table (`#sockets`) and `print(s)` (`#repr`)."""
    with Horizontal(id="main"):
        yield server
        with Vertical(id="middle"):
            yield SocketsTable(id="sockets")
            yield SocketDetail(id="repr")
        yield client
