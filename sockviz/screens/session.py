"""The session screen: both panes, the sockets table, the log, the timeline, the wire and a scenario.

The screen composes the widgets and keeps them up to date; it finds them by query
(typed descriptors below), never by references kept aside. Everything that comes
from a thread reaches it one way: the session's events as `SessionEvents` messages,
posted from whichever thread caused them, and any worker that fails anyway is told
in the log by one handler, so no failure is silent.

The screen is made of parts, each a class of one job's handlers and actions beside this module (see
session_base.py): `running` (a step's key or button to its call, predict mode's question),
`following` (what a follower is told by the lecturer's share) and `session_keys` (the view, switch and
lesson keys). What is left here is the screen's own life: compose, the reset that makes the widgets
again, the session's events as they come, and the refresh. The work the handlers hand on has plain
functions of its own too: `step_fields` (fields into `StepArgs`, hints, why a step would not run),
`targets` (which sockets the panes act on and offer), `live` (the table's rows and the pace of its
refreshes), `views` (the timeline, wire and projector toggles), `layout` (the rows this screen and
the replay's share) and `lesson_control` (a loaded scenario's welcome and keys).
"""

from __future__ import annotations

import asyncio
import socket
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import DataTable

from sockviz.core import Event, InputError, Session, Side, StepBlocked, StepFinished, step
from sockviz.core.model.lazy_dataclass import lazy_dataclass
from sockviz.core.model.transport import Transport
from sockviz.core.story.next_steps import welcome
from sockviz.core.story.timeline import Timeline
from sockviz.faults import guarded
from sockviz.keys import LESSON_ACTIONS, SCREEN_BINDINGS
from sockviz.messages import EventBatches, Narrated, SessionEvents, TransportChosen
from sockviz.screens import classroom, fresh, held_over, lesson_control, step_fields, targets, views
from sockviz.screens.following import Following
from sockviz.screens.layout import LESSON, TIMELINE, WIRE, LatePane, main_row
from sockviz.screens.live import RefreshPacer, TransferWatch, table_rows
from sockviz.screens.predict import PredictMode
from sockviz.screens.running import StepRunning
from sockviz.screens.session_keys import LessonKeys, ViewKeys
from sockviz.widgets.endpoint_bar import EndpointBar
from sockviz.widgets.event_log import EventLog
from sockviz.widgets.key_bar import KeyBar
from sockviz.widgets.step_pane import DEFAULT_CLIENT_MESSAGE, StepPane

if TYPE_CHECKING:
    from sockviz.core.engine.view import SessionView
    from sockviz.core.model.addresses import Endpoint
    from sockviz.core.story.recording.recorder import Recorder
    from sockviz.share.server import ShareServer
    from sockviz.widgets.wire_pane import WireSegments

REFRESH_SECONDS = 0.25
"""How often the table re-reads the sockets, so blocked times and kernel queues stay live."""

LINGER_SECONDS = 1.0
"""How often the kernel is asked about closed connections it still holds (TIME_WAIT counts down in seconds)."""

FOLLOWERS_LESSON_GUIDE = "next: the lesson panel's next line (the lecturer runs it)"
"""A follower's `next:` while the lecturer's lesson has lines to run (its keys are the lecturer's)."""


class SessionScreen(StepRunning, ViewKeys, LessonKeys, Following):
    """Both ends of a TCP connection, one real call per click, and what the kernel says of them."""

    BINDINGS: ClassVar[list[BindingType]] = list(SCREEN_BINDINGS)
    LATE = (LESSON, TIMELINE, WIRE)
    AUTO_FOCUS = None
    """The first focus is set once the widgets are there (`first_focus`), at mount and after a reset."""

    @dataclass
    class Ready(Message):
        """The screen and its widgets are mounted: a scenario can be loaded on it."""

        screen: SessionScreen

        @property
        def control(self) -> SessionScreen:
            return self.screen

    @lazy_dataclass
    class StartOver(Message):
        """Show a fresh session: posted to the screen, so the old session's events still queued go first."""

        session: SessionView
        lesson: bool = False
        """A lesson loads as soon as the screen is ready: its panel stays shown meanwhile."""

    def __init__(
        self,
        session: SessionView,
        host: str,
        port: int,
        family: socket.AddressFamily,
        *,
        only: Side | None = None,
        transport: Transport = Transport.TCP,
        predict: bool = False,
        recorder: Recorder | None = None,
        share: ShareServer | None = None,
        following: str | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self.recorder = recorder
        """With --record: the screen hands it every event, narration, refusal and verdict in the order it
        shows them, so that a replay's log is this log, line for line."""
        self.share = share
        """`--share`: the server that publishes this session; the bar says how many follow."""
        self.predict_mode = PredictMode(self._record, on=predict)
        """Predict mode (f5): the question before a step, the verdict after it, the score."""
        self.only = only
        """Split mode: the one side this screen plays; the peer is another sockviz, nc, or any program."""
        self.following = following
        """`sockviz follow`: the lecturer's address. The session is a copy of theirs, and runs nothing."""
        self.unused_keys: frozenset[str] = classroom.UNUSED_BY_FOLLOWERS if following is not None else frozenset()
        """Keys kept bound but left off the key line (the key bar reads it): a follower can never use them."""
        self._start = (host, port, family)
        self._transport = transport
        """What socket() makes when the screen is made (again, after a reset: what the switch said then)."""
        self.timeline = Timeline()
        self._blocked: set[int] = set()
        self.pacer = RefreshPacer()
        self._batches = EventBatches(self.post_message)
        self.held_over = held_over.HeldOver()
        self.transfers = TransferWatch()
        self._paced: Timer | None = None
        """The timer of the refresh that events asked for, while it waits."""
        self._targets_due = True
        """Whether an event may have changed which sockets the panes offer; the timer alone never does."""
        self._unsubscribe = self.session.subscribe(self._from_session)
        self._rebuilding = False
        """True while a reset empties the widgets for the fresh session: nothing may read them meanwhile."""
        self.wire_waiting = deque()

    # ----- building -------------------------------------------------------

    def compose(self) -> ComposeResult:
        host, port, family = self._start
        yield EndpointBar(host, port, family, self._transport, read_only=self.following is not None, id="endpoint")
        server = StepPane(Side.SERVER, transport=self._transport, id="server-pane")
        client = StepPane(Side.CLIENT, message=DEFAULT_CLIENT_MESSAGE, transport=self._transport, id="client-pane")
        if self.only is not None:
            (client if self.only is Side.SERVER else server).display = False
            self.sub_title = f"{self.only.value} only"
        yield from main_row(server, client)
        with Horizontal(id="bottom"):
            yield EventLog(id="log")  # the lesson panel, the timeline and the wire come when first opened
        yield KeyBar(id="keys")

    def make_pane(self, pane: LatePane[Any]) -> Widget:
        """The lesson panel, the timeline or the wire, made on first open from the session so far: the timeline
        model has heard every event since the start (or the last reset), and a follower's wire lines that came
        before the pane are written into it, hidden, for its `w` to show."""
        if pane is LESSON:
            from sockviz.widgets.scenario_panel import ScenarioPanel

            return ScenarioPanel(id=LESSON.pane_id)
        if pane is TIMELINE:
            from sockviz.widgets.timeline_view import TimelineView

            return TimelineView(self.timeline, self.session.now, id=TIMELINE.pane_id)
        if pane is WIRE:
            from sockviz.widgets.wire_pane import WirePane

            return WirePane(id=WIRE.pane_id)
        return super().make_pane(pane)

    def on_mount(self) -> None:
        self.set_interval(REFRESH_SECONDS, self.refresh_sockets)
        self.set_interval(LINGER_SECONDS, self._look_for_lingering)
        self.watch(self.table, "scroll_y", self.refresh_sockets, init=False)  # rows coming into view
        self.watch(self.bar, "transport", self._transport_switched, init=False)
        self._started()

    def _started(self) -> None:
        """The widgets are there (at mount, or emptied for a fresh session): say hello, draw, get ready."""
        hello = (welcome(self.bar.transport, self.only) if self.following is None
                 else classroom.follow_welcome(self.following))  # fmt: skip
        self.event_log.note(self.session.now(), "start", hello)
        held_over.tell(self.held_over, self.event_log, self.session.now(), self._record)
        self.held_over.session_began()
        self.event_log.border_title = self.predict_mode.title()
        self.refresh_sockets()
        if self.size.width:  # made again by a reset: the new bottom row learns the width no Resize will tell it
            views.fit_width(self.bottom, self.size.width)
        self.first_focus().focus()
        self.post_message(self.Ready(self))

    def first_focus(self) -> Widget:
        """Where a newcomer starts: the first step of the server (of the client alone in `sockviz client`), as
        the welcome says, so Enter runs socket() and Tab goes on through that pane, the table, the other pane
        and the log. A follower runs no steps: the table."""
        if self.following is not None:
            return self.table
        return self.query_one(f"#{(self.only or Side.SERVER).value}-socket")

    def stop_listening(self) -> None:
        """Hear no more of this session and read none of its sockets: a reset is closing them."""
        self._rebuilding = True
        self._unsubscribe()
        self._unsubscribe = lambda: None

    @on(StartOver)
    async def _start_over(self, message: StartOver) -> None:
        """Show the new session in the same widgets, emptied: the table, log, timeline, wire and panes start
        empty; the fields keep what the user typed; the timeline and wire views close, as on a fresh screen.

        Emptied, not made again: making the screen's 70 widgets again (as this did) cost the event loop 40 to
        60 ms at once for their layout and as much for their first frame, each time a lesson was restarted."""
        self._start = self.start_values()
        self._transport = self.bar.transport
        self._unsubscribe()
        self._rebuilding = True
        if isinstance(self.session, Session):  # what the kernel still holds of it keeps its rows
            await asyncio.to_thread(self.held_over.keep, self.session)
        self.session = message.session
        self.timeline = Timeline()
        self._blocked.clear()
        self.transfers = TransferWatch()
        self.predict_mode.predictions.drop_pending()
        self._targets_due = True
        await fresh.empty(self, lesson=message.lesson or (self.following is not None and bool(self.lesson_shown())))
        self.refresh_bindings()  # the app's restart key goes with the lesson the reset unloaded
        self.call_after_refresh(self._rebuilt)

    def _rebuilt(self) -> None:
        self._rebuilding = False
        self._unsubscribe = self.session.subscribe(self._from_session)
        self._started()

    def start_values(self) -> tuple[str, int, socket.AddressFamily]:
        """Host, port and family for a fresh screen: the fields' values where they are valid, else the start's."""
        host, port, _ = self._start
        try:
            chosen = self.bar.endpoint(quiet=True)
        except InputError:
            return host, port, self.bar.family
        return chosen.host, chosen.port, self.bar.family

    def on_resize(self, event: events.Resize) -> None:
        views.fit_width(self.bottom, event.size.width)

    def on_unmount(self) -> None:
        """The scenario player and the capture stop with their widgets; the app then closes the session,
        which wakes every blocked call."""
        self._unsubscribe()

    # ----- what comes back -------------------------------------------------

    def post_message(self, message: Message) -> bool:
        """Every other message (a narration bubbling up from the lesson panel, a lecturer's note) keeps its place
        among the session's events: the events after it go in a batch of their own, behind it."""
        batches: EventBatches | None = self.__dict__.get("_batches")
        if batches is not None and not isinstance(message, SessionEvents):
            batches.seal()
        return super().post_message(message)

    def _from_session(self, event: Event) -> None:
        """Called in the thread that caused the event; post_message is safe from any thread."""
        self._batches.add(event)

    @on(SessionEvents)
    def _session_events(self, message: SessionEvents) -> None:
        events = self._batches.take(message)
        if self._closing or self.app._exit or not self.app.is_running:
            # Quitting: a burst's thousands of events still queued would each be drawn before the
            # screen closes, which once held quitting for seconds. Nobody will see them.
            return
        for event in events:
            self._session_event(event)

    @guarded
    def _session_event(self, event: Event) -> None:
        if isinstance(event, StepBlocked):
            self._blocked.add(event.call.id)
        elif isinstance(event, StepFinished):
            self._blocked.discard(event.call.id)
        self.transfers.pace_before_telling(event, self.session, self.event_log, self.built(WIRE))
        self.event_log.show(event)
        self._told(event)
        self.predict_mode.hear(event, self.event_log)
        self.timeline.add(event)
        timeline_view = self.built(TIMELINE)  # one never opened draws the timeline so far when it opens
        if timeline_view is not None and timeline_view.display:
            timeline_view.refresh()
        self._targets_due = True
        self.transfers.hear(event)
        self.transfers.pace_drawing(self.session, self.event_log, self.built(WIRE))
        wait = self.pacer.ask()  # one table redraw per EVENT_REFRESH_GAP at most, however many events
        if wait:
            self._paced = self.set_timer(wait, self._refresh_if_due)
        elif wait is not None:
            self.call_after_refresh(self._refresh_if_due)

    def _refresh_if_due(self) -> None:
        """The refresh an event asked for, unless another came first. A refresh also stops the timer of one
        that events asked for: left running, those timers refreshed the table every 30 to 50 ms while
        connections came and went, three times the pace."""
        if self.pacer.due:
            self.refresh_sockets()

    @property
    def refresh_due(self) -> bool:
        """An event has asked for a refresh that has not happened yet (tests wait for it)."""
        return self.pacer.due

    @guarded
    def refresh_sockets(self) -> None:
        """Re-read every socket on screen (a few microseconds each) and update what changed."""
        self.pacer.refreshed()
        if self._paced is not None:
            self._paced.stop()
            self._paced = None
        if not self.is_attached or self._rebuilding:
            return  # the app is closing, or a reset is making the widgets again
        if not self.transfers.whole_refresh_due(self.session):
            if self.transfers.bars_due():  # bytes are moving: only the bars move, four times a second
                step_fields.show_progress(self.session, self.panes())
            return
        held_over.show(self, self.table)
        self.table.show(table_rows(self.session, self.table, self._blocked, self.session.now()))
        self.bar.show_listening_everywhere(self.session.listening_everywhere())
        self._show_detail()
        panes = self.panes()
        if self._targets_due:
            self._targets_due = False
            targets.show_targets(self.session, panes[Side.SERVER], panes[Side.CLIENT])
            if self.live is not None:
                step_fields.show_refusals(self.session, self.bar, panes)
            else:
                classroom.show_following(panes)
        step_fields.show_hints_and_progress(self.session, self.bar, panes, hints=not self.predict_mode.on)
        classroom.show_sharing(self.bar, self.share, self.following)
        if self.share is not None:
            self.share.lesson(self.lesson_shown())
            self.share.predicting = self.predict_mode.on
            # while a lesson has lines to run, the followers' next: is its next line too (the session's own named a
            # step key that a follower cannot run, and that the lecturer was not about to press)
            self.share.guide = FOLLOWERS_LESSON_GUIDE if self.scenario_panel.ahead else None
        try:
            target: Endpoint | None = self.bar.endpoint(quiet=True)  # where the client's connect() goes
        except InputError:
            target = None  # a refused field: the guide says where the server socket is instead
        if self.following_over:
            guide = self.guide_when_over()
        elif (panel := self.built(LESSON)) is not None and panel.ahead:  # the lesson's `next`, as its panel
            guide = panel.guide()
        else:
            guide = classroom.guide(self.session, self.only, target, telling=not self.predict_mode.on)
        self.event_log.show_guide(guide)  # the bottom border only, not the log's every line

    @guarded
    def _look_for_lingering(self) -> None:
        """Once a second, while closed connections may linger in the kernel, ask it about them off the UI thread."""
        if self._rebuilding or self.live is None:
            return  # a follower's lingering connections are the lecturer's, read by the lecturer's kernel
        if self.held_over.holding:
            self.run_worker(self.held_over.read, thread=True, group="held", exclusive=True, exit_on_error=False)
        if any(t.closed and t.ends is not None and not t.gone for t in self.session.sockets):
            self.run_worker(self.session.read_lingering, thread=True, group="kernel", exclusive=True,
                            exit_on_error=False, description="read the kernel's closing connections")  # fmt: skip

    def _show_detail(self) -> None:
        tracked = targets.socket_by_id(self.session, self.table.socket_id_at_cursor())
        self.detail.show(tracked, tracked.snapshot() if tracked else None)

    @guarded
    def on_wire_segments(self, message: WireSegments) -> None:
        """The capture's lines (`WireSegments`, by its handler's name: wire_pane.py loads with the wire view)."""
        from sockviz.core.story.recording.records import WireShown  # loaded with the wire view

        wire = self.built(WIRE)
        if wire is None:
            return  # cannot be: only an opened wire pane captures
        for at, parts in wire.show_delivery(message.delivery, message.source):
            self._record(WireShown(at, parts))  # the line, not the frame: for the recording and the followers

    @on(TransportChosen)
    def _transport_chosen(self, message: TransportChosen) -> None:
        """A lesson's `transport` line: the switch shows what its socket() calls make from now on."""
        self.transport = message.transport

    @on(Narrated)
    def _narrated(self, message: Narrated) -> None:
        """The lesson's narration stays in the log, as its own kind of line, between the calls it explains."""
        from sockviz.core.story.recording.records import Said  # loaded with the first narration

        said = Said(at=self.session.now(), line=message.line, text=message.text)
        self.event_log.note(said.at, "lesson", said.text, kind="lesson")
        self._record(said)

    # ----- choosing sockets -----------------------------------------------

    @on(DataTable.RowHighlighted, "#sockets")
    @guarded
    def _row_highlighted(self) -> None:
        self._show_detail()

    @on(DataTable.RowSelected, "#sockets")
    @guarded
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        chosen = self.table.socket_id(event.row_key.value)
        targets.select(self.session, chosen, self.pane(Side.SERVER), self.pane(Side.CLIENT))

    @on(StepPane.SocketChosen)
    @guarded
    def _socket_chosen(self, event: StepPane.SocketChosen) -> None:
        targets.select(self.session, event.socket_id, self.pane(Side.SERVER), self.pane(Side.CLIENT))

    # ----- views and scenarios ---------------------------------------------

    def action_toggle_predict(self) -> None:
        if self.live is None:  # a follower's predict key opens the lecturer's question to the class again
            self.app.call_later(self.app.run_action, "app.ask_again")
            return
        self.notify(self.predict_mode.toggle(self.event_log), title="predict", markup=False)
        self.refresh_sockets()  # the hints go, or come back

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The scenario keys exist only while a scenario is loaded (so space stays free otherwise), and
        in split mode only this side's steps have keys."""
        if action in LESSON_ACTIONS:
            return lesson_control.lesson_loaded(lambda: self.built(LESSON))
        if action == "run_step" and self.only is not None:
            return step(str(parameters[0])).side is self.only
        return True
