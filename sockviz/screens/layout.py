"""What both screens of a session share, live and replayed: the main row (server pane | table and print() |
client pane), the widgets of theirs that each finds by id, and the bottom row's panes made on first open.

A replay must look like the session it replays, so the row is made in one place; app.tcss lays it
out by these ids for both screens.

The bottom row starts with the log alone. Its other panes, the lesson panel (`#narration`), the timeline
(`#timeline`) and the wire (`#wire`), are hidden until a lesson loads or a key opens them, and making them
at start cost every start-up their widgets, their CSS rules and their styling (about 57M instructions of
2,250M, measured with `benchmarks/run.py startup`) for views most sessions never open. Each is made the
first time it is opened, in its place in the row, from what the screen holds so far (the timeline of every
event already heard, the wire lines a follower was sent), so it shows the state so far as if it had been
there all along. Every read of them goes through `built` (the pane, or None if never opened: a question
about a pane never opened answers without making it) or `opened` (made now if it was not).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from textual import getters
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget

from sockviz.screens.frames import PaintsWhatChanged
from sockviz.widgets.event_log import EventLog
from sockviz.widgets.socket_detail import SocketDetail
from sockviz.widgets.sockets_table import SocketsTable
from sockviz.widgets.step_pane import StepPane

if TYPE_CHECKING:
    from sockviz.widgets.scenario_panel import ScenarioPanel
    from sockviz.widgets.timeline_view import TimelineView
    from sockviz.widgets.wire_pane import WirePane

P = TypeVar("P", bound=Widget)


class LatePane(Generic[P]):
    """One of the bottom row's panes made on first open: its id, and where its class is (its module is imported
    when the pane is first made, or when help lists its keys: start-up loads none of the three)."""

    __slots__ = ("_module", "_name", "pane_id")

    def __init__(self, pane_id: str, module: str, name: str) -> None:
        self.pane_id = pane_id
        self._module, self._name = module, name

    def kind(self) -> type[P]:
        return getattr(import_module(self._module), self._name)

    def __repr__(self) -> str:
        return f"LatePane({self.pane_id!r})"


LESSON: LatePane[ScenarioPanel] = LatePane("narration", "sockviz.widgets.scenario_panel", "ScenarioPanel")
TIMELINE: LatePane[TimelineView] = LatePane("timeline", "sockviz.widgets.timeline_view", "TimelineView")
WIRE: LatePane[WirePane] = LatePane("wire", "sockviz.widgets.wire_pane", "WirePane")
LATE_PANES = (LESSON, TIMELINE, WIRE)
"""The bottom row's panes after the log, in the row's order."""


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
    bottom = getters.query_one("#bottom", Horizontal)

    LATE: tuple[LatePane[Any], ...] = ()
    """The late panes this screen has (each screen's `make_pane` makes them)."""

    def __init__(self, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name, id, classes)
        self._late_panes: dict[str, Widget] = {}
        """The panes of LATE_PANES made so far, by their id."""

    def make_pane(self, pane: LatePane[Any]) -> Widget:
        """One of this screen's LATE panes, made from what the screen holds now. Called once per pane, by
        `opened`."""
        raise NotImplementedError(f"{type(self).__name__} has no {pane!r}")

    def built(self, pane: LatePane[P]) -> P | None:
        """The pane if it has been opened (made) on this screen, else None."""
        return cast("P | None", self._late_panes.get(pane.pane_id))

    def opened(self, pane: LatePane[P]) -> P:
        """The pane, made now and mounted in its place in the bottom row if it was not yet (its styles are
        applied as it mounts, so it can be shown and written to at once)."""
        found = self.built(pane)
        if found is not None:
            return found
        made = self.make_pane(pane)
        kind = pane.kind()
        if not isinstance(made, kind) or made.id != pane.pane_id:
            raise TypeError(f"{type(self).__name__}.make_pane made {made!r} for {pane!r}")
        bottom = self.bottom  # NoMatches before the screen is composed, as a query of the pane was
        order = [late.pane_id for late in LATE_PANES]
        place = order.index(pane.pane_id)
        earlier = [order.index(pane_id) for pane_id in self._late_panes if order.index(pane_id) < place]
        after = self._late_panes[order[max(earlier)]] if earlier else self.event_log  # the row keeps its order
        self._late_panes[pane.pane_id] = made
        bottom.mount(made, after=after)
        self.pane_opened(made)
        return made

    def pane_opened(self, pane: Widget) -> None:
        """A pane has just been made and mounted (styled, not yet laid out): what came for it before is given
        to it here, before whatever opened it shows it."""

    def panes_to_come(self) -> list[type[Widget]]:
        """The classes of this screen's panes not opened yet (help lists their keys too)."""
        return [pane.kind() for pane in self.LATE if self.built(pane) is None]

    @property
    def timeline_view(self) -> TimelineView:
        """The timeline pane (`t`), made now if it was not: for what opens it, and for tests and scripts."""
        return self.opened(TIMELINE)
