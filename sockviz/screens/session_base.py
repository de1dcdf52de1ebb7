"""What every part of the session screen reads: its widgets by id, the session, and its few shared ways.

The session screen is one Screen built from parts, each a class of its own job's handlers and actions
(running.py: running steps; following.py: what a follower is told; session_keys.py: the view and lesson
keys), and `SessionScreen` (session.py) is made of them all. Each part subclasses this class, so what
they share is written once, typed, here: the widgets (found by query, never by references kept aside;
those a replay shows too are layout.py's `SessionRows`), the session, the recorder and share, and writing
a line that is no event to both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import getters

from sockviz.core import Endpoint, Event, Session, Side
from sockviz.screens.layout import LESSON, WIRE, SessionRows
from sockviz.widgets.endpoint_bar import EndpointBar
from sockviz.widgets.step_pane import StepPane

if TYPE_CHECKING:
    from sockviz.core.engine.view import SessionView
    from sockviz.core.story.recording.format import Record
    from sockviz.core.story.recording.recorder import Recorder
    from sockviz.screens.held_over import HeldOver
    from sockviz.screens.predict import PredictMode
    from sockviz.share.server import ShareServer
    from sockviz.widgets.scenario_panel import ScenarioPanel
    from sockviz.widgets.wire_pane import WirePane


class ScreenBase(SessionRows):
    """The widgets, the session and the state that the session screen's parts share."""

    bar = getters.query_one("#endpoint", EndpointBar)

    @property
    def wire(self) -> WirePane:
        """The wire pane (`w`), made now if it was not (see layout.py: `built(WIRE)` asks without making it)."""
        return self.opened(WIRE)

    @property
    def scenario_panel(self) -> ScenarioPanel:
        """The lesson panel, made now if it was not (`built(LESSON)` asks without making it)."""
        return self.opened(LESSON)

    def lesson_shown(self) -> str:
        """What the lesson panel says while it shows (all but its keys), for the followers; "" when it does not."""
        panel = self.built(LESSON)
        return panel.shown if panel is not None and panel.display else ""

    session: SessionView
    recorder: Recorder | None
    """With --record: the screen hands it every event, narration, refusal and verdict in the order it
    shows them, so that a replay's log is this log, line for line."""
    share: ShareServer | None
    """`--share`: the server that publishes this session; the bar says how many follow."""
    predict_mode: PredictMode
    only: Side | None
    """Split mode: the one side this screen plays; the peer is another sockviz, nc, or any program."""
    following: str | None
    """`sockviz follow`: the lecturer's address. The session is a copy of theirs, and runs nothing."""
    held_over: HeldOver
    """After a reset: what the kernel still holds of the sessions before it, shown above this session's rows."""
    _rebuilding: bool
    """True while a reset empties the widgets for the fresh session: nothing may read them meanwhile."""

    @property
    def live(self) -> Session | None:
        """The session, when it is this app's own; None on a follower's screen, where nothing runs."""
        return self.session if isinstance(self.session, Session) else None

    def pane(self, side: Side) -> StepPane:
        return self.query_one(f"#{side.value}-pane", StepPane)

    def panes(self) -> dict[Side, StepPane]:
        return {side: self.pane(side) for side in Side}

    def endpoint(self, *, quiet: bool = False) -> Endpoint:
        """The host and port of the top bar, checked; raises InputError (shown at its field unless quiet)."""
        return self.bar.endpoint(quiet=quiet)

    def _record(self, record: Record) -> None:
        """A line of the log that is no event (a narration, a refusal, predict mode's question and verdict), for
        the recording and the followers, in the log's order."""
        if self.recorder is not None:
            self.recorder.add(record)
        if self.share is not None:
            self.share.record(record)

    def _told(self, event: Event) -> None:
        """An event the log has just shown, for the recording and the followers, in the log's order."""
        live = self.live
        if live is None:
            return
        if self.recorder is not None:
            self.recorder.told(live, event)
        if self.share is not None:
            self.share.told(live, event)
