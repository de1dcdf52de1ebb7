"""The session screen: both panes, the sockets table, the log, the timeline, the wire and a scenario.

The screen composes the widgets and keeps them up to date; it finds them by query
(typed descriptors below), never by references kept aside. Everything that comes
from a thread reaches it one way: the session's events as `SessionEvent` messages,
posted from whichever thread caused them, and any worker that fails anyway is told
in the log by one handler, so no failure is silent.
"""

from __future__ import annotations

import itertools
import socket
import time
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from textual import events, getters, on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Input, RichLog, Select

from sockviz.core import (
    Action,
    Endpoint,
    Event,
    InputError,
    Role,
    Session,
    Side,
    Step,
    StepArgs,
    StepBlocked,
    StepCalled,
    StepFinished,
    Target,
    TrackedSocket,
    step,
    steps_of,
)
from sockviz.core.engine.refusals import nothing_to_echo
from sockviz.core.scenario.language import Line
from sockviz.core.story.next_steps import WELCOME, next_line
from sockviz.core.story.timeline import Timeline
from sockviz.faults import guarded
from sockviz.keys import LESSON_ACTIONS, SCREEN_BINDINGS
from sockviz.messages import Narrated, SessionEvent
from sockviz.widgets.endpoint_bar import EndpointBar
from sockviz.widgets.event_log import EventLog
from sockviz.widgets.key_bar import KeyBar
from sockviz.widgets.scenario_panel import ScenarioPanel
from sockviz.widgets.socket_detail import SocketDetail
from sockviz.widgets.sockets_table import SocketsTable, activity
from sockviz.widgets.step_pane import DEFAULT_CLIENT_MESSAGE, StepPane
from sockviz.widgets.timeline_view import TimelineView
from sockviz.widgets.wire_pane import WirePane, WireSegments

if TYPE_CHECKING:
    from pathlib import Path

REFRESH_SECONDS = 0.25
"""How often the table re-reads the sockets, so blocked times and kernel queues stay live."""

EVENT_REFRESH_GAP = 0.1
"""The least time between two refreshes that events ask for: quick to see, and ten table redraws a second at most."""

LINGER_SECONDS = 1.0
"""How often the kernel is asked about closed connections it still holds (TIME_WAIT counts down in seconds)."""

NARROW = 110
"""Below this many columns the log makes room for the timeline: side by side, both would be too narrow to read."""

MAX_CHOICES = 200
"""The newest sockets a pane's list offers; after a burst of a thousand, the table still has every row."""


class SessionScreen(Screen[None]):
    """Both ends of a TCP connection, one real call per click, and what the kernel says of them."""

    BINDINGS: ClassVar[list[BindingType]] = list(SCREEN_BINDINGS)

    @dataclass
    class Ready(Message):
        """The screen and its widgets are mounted: a scenario can be loaded on it."""

        screen: SessionScreen

        @property
        def control(self) -> SessionScreen:
            return self.screen

    bar = getters.query_one("#endpoint", EndpointBar)
    table = getters.query_one("#sockets", SocketsTable)
    detail = getters.query_one("#repr", SocketDetail)
    event_log = getters.query_one("#log", EventLog)
    wire = getters.query_one("#wire", WirePane)
    timeline_view = getters.query_one("#timeline", TimelineView)
    scenario_panel = getters.query_one("#narration", ScenarioPanel)
    bottom = getters.query_one("#bottom", Horizontal)

    def __init__(
        self,
        session: Session,
        host: str,
        port: int,
        family: socket.AddressFamily,
        *,
        only: Side | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self.only = only
        """Split mode: the one side this screen plays; the peer is another sockviz, nc, or any program."""
        self._start = (host, port, family)
        self.timeline = Timeline()
        self._blocked: set[int] = set()
        self._refresh_due = False
        self._last_refresh = 0.0
        self._targets_due = True
        """Whether an event may have changed which sockets the panes offer; the timer alone never does."""
        self._unsubscribe = self.session.subscribe(self._from_session)
        self._rebuilding = False
        """True while a reset makes the widgets again: nothing may look for them meanwhile."""

    # ----- building -------------------------------------------------------

    def compose(self) -> ComposeResult:
        host, port, family = self._start
        yield EndpointBar(host, port, family, id="endpoint")
        server = StepPane(Side.SERVER, id="server-pane")
        client = StepPane(Side.CLIENT, message=DEFAULT_CLIENT_MESSAGE, id="client-pane")
        if self.only is not None:
            (client if self.only is Side.SERVER else server).display = False
            self.sub_title = f"{self.only.value} only"
        with Horizontal(id="main"):
            yield server
            with Vertical(id="middle"):
                yield SocketsTable(id="sockets")
                yield SocketDetail(id="repr")
            yield client
        with Horizontal(id="bottom"):
            yield EventLog(id="log")
            yield ScenarioPanel(id="narration")
            yield TimelineView(self.timeline, self.session.now, id="timeline")
            yield WirePane(id="wire")
        yield KeyBar(id="keys")

    def pane(self, side: Side) -> StepPane:
        return self.query_one(f"#{side.value}-pane", StepPane)

    def on_mount(self) -> None:
        self.set_interval(REFRESH_SECONDS, self.refresh_sockets)
        self.set_interval(LINGER_SECONDS, self._look_for_lingering)
        self._started()

    def _started(self) -> None:
        """The widgets are there (at mount, or made again for a fresh session): say hello, draw, get ready."""
        self.watch(self.table, "scroll_y", self.refresh_sockets, init=False)  # rows coming into view
        self.event_log.note(self.session.now(), "start", WELCOME)
        self.refresh_sockets()
        self.table.focus()
        self.post_message(self.Ready(self))

    @dataclass
    class StartOver(Message):
        """Show a fresh session: posted to the screen, so the old session's events still queued go first."""

        session: Session

    def stop_listening(self) -> None:
        """Hear no more of this session and read none of its sockets: a reset is closing them."""
        self._rebuilding = True
        self._unsubscribe()
        self._unsubscribe = lambda: None

    @on(StartOver)
    async def _start_over(self, message: StartOver) -> None:
        """Make every widget again for the new session: the table, log, timeline, wire and panes start empty;
        the fields keep what the user typed."""
        self._start = self.start_values()
        self._unsubscribe()
        self._rebuilding = True
        self.session = message.session
        self.timeline = Timeline()
        self._blocked.clear()
        self._targets_due = True
        await self.recompose()
        self.call_after_refresh(self._rebuilt)  # the panes' and the table's own children mount meanwhile

    def _rebuilt(self) -> None:
        self._rebuilding = False
        self._unsubscribe = self.session.subscribe(self._from_session)
        self._started()

    def on_resize(self, event: events.Resize) -> None:
        # Only the bottom row changes: a class on the screen would restyle every widget, a cost start-up pays.
        self.bottom.set_class(event.size.width < NARROW, "-narrow")

    def on_unmount(self) -> None:
        """The scenario player and the capture stop with their widgets; the app then closes the session,
        which wakes every blocked call."""
        self._unsubscribe()

    # ----- running steps ---------------------------------------------------

    def action_run_step(self, step_id: str) -> None:
        self.run_step(step(step_id))

    @on(StepPane.StepPressed)
    def _step_pressed(self, event: StepPane.StepPressed) -> None:
        self.run_step(event.step)

    @guarded
    def run_step(self, chosen: Step) -> None:
        """Check the step's inputs here; run the call itself in a thread worker."""
        if (self.only is not None and chosen.side is not self.only) or self._rebuilding:
            return  # not this side's step, or a reset is starting a fresh session
        try:
            args = self._args_for(chosen)
        except InputError as error:
            self.app.bell()
            self.event_log.note(self.session.now(), chosen.side.value, f"{chosen.label} not run: {error.reason}",
                                kind="refused")  # fmt: skip
            return
        self.run_worker(
            partial(self.session.perform, chosen, args),
            name=chosen.id,
            group="steps",
            description=chosen.code,
            thread=True,
            exit_on_error=False,
        )

    def start_values(self) -> tuple[str, int, socket.AddressFamily]:
        """Host, port and family for a fresh screen: the fields' values where they are valid, else the start's."""
        host, port, _ = self._start
        try:
            chosen = self.bar.endpoint(quiet=True)
        except InputError:
            return host, port, self.bar.family
        return chosen.host, chosen.port, self.bar.family

    @on(Narrated)
    def _narrated(self, message: Narrated) -> None:
        """The lesson's narration stays in the log, as its own kind of line, between the calls it explains."""
        self.event_log.note(self.session.now(), "lesson", message.text, kind="lesson")

    def endpoint(self, *, quiet: bool = False) -> Endpoint:
        """The host and port of the top bar, checked; raises InputError (shown at its field unless quiet)."""
        return self.bar.endpoint(quiet=quiet)

    def _args_for(self, chosen: Step) -> StepArgs:
        """Everything the step needs from the fields; raises InputError, shown at the field at fault."""
        base = StepArgs(family=self.bar.family)
        if chosen.action in (Action.BIND, Action.CONNECT, Action.BURST):
            base.endpoint = self.bar.endpoint()
        pane = self.pane(chosen.side)
        args = pane.args_for(chosen, base)
        if chosen.action is Action.SEND:
            reason = nothing_to_echo(args, self.session.current(chosen.target, chosen.side))
            if reason:
                pane.refuse("message", reason)
        return args

    def _hint_args(self, chosen: Step, pane: StepPane) -> StepArgs:
        """The step's arguments for a hint: like `_args_for`, but a bad field only leaves a value out."""
        base = StepArgs(family=self.bar.family)
        try:
            if chosen.action is Action.CONNECT:
                base.endpoint = self.bar.endpoint(quiet=True)
            return pane.args_for(chosen, base, quiet=True)
        except InputError:
            return base

    # ----- what comes back -------------------------------------------------

    def _from_session(self, event: Event) -> None:
        """Called in the thread that caused the event; post_message is safe from any thread."""
        self.post_message(SessionEvent(event))

    @on(SessionEvent)
    @guarded
    def _session_event(self, message: SessionEvent) -> None:
        if self._closing or self.app._exit or not self.app.is_running:
            # Quitting: a burst's thousands of events still queued would each be drawn before the
            # screen closes, which once held quitting for seconds. Nobody will see them.
            return
        event = message.event
        if isinstance(event, StepBlocked):
            self._blocked.add(event.call.id)
        elif isinstance(event, StepFinished):
            self._blocked.discard(event.call.id)
        self.event_log.show(event)
        self.timeline.add(event)
        timeline_view = self.timeline_view
        if timeline_view.display:
            timeline_view.refresh()
        if isinstance(event, StepCalled):
            self.wire.show_call(event)
        self._targets_due = True
        if not self._refresh_due:
            # Events come by the hundred a second (a burst, connections coming and going): they cost one
            # refresh per EVENT_REFRESH_GAP at most, since each one redraws the table.
            self._refresh_due = True
            wait = self._last_refresh + EVENT_REFRESH_GAP - time.monotonic()
            if wait > 0:
                self.set_timer(wait, self.refresh_sockets)
            else:
                self.call_after_refresh(self.refresh_sockets)

    @guarded
    def refresh_sockets(self) -> None:
        """Re-read every socket (a few microseconds each) and update what changed."""
        self._refresh_due = False
        self._last_refresh = time.monotonic()
        if not self.is_attached or self._rebuilding:
            return  # the app is closing, or a reset is making the widgets again
        table = self.table
        now = self.session.now()
        sockets = self.session.sockets
        rows = []
        for index in table.rows_to_refresh(len(sockets)):
            tracked = sockets[index]
            snap = tracked.snapshot(with_repr=False)
            rows.append((tracked, snap, activity(tuple(tracked.in_flight), self._blocked, now, snap.closed)))
        table.show(rows)
        self.bar.show_listening_everywhere(self.session.listening_everywhere())
        self._show_detail()
        if self._targets_due:
            self._targets_due = False
            self._show_targets()
            self._show_refusals()
        self._show_hints_and_progress()
        guide = next_line(self.session)
        if self.event_log.border_subtitle != guide:
            self.event_log.border_subtitle = guide

    def _show_hints_and_progress(self) -> None:
        for side in Side:
            pane = self.pane(side)
            pane.show_hints(
                {s.id: self.session.predict(s, self._hint_args(s, pane)) for s in steps_of(side) if s.blocks_until}
            )
            pane.show_progress(self.session.last_transfer(side))

    def _show_refusals(self) -> None:
        """Mark the steps that cannot run now, each with its reason."""
        for side in Side:
            pane = self.pane(side)
            pane.show_refusals({s.id: self._why_not(s, pane) for s in steps_of(side)})

    def _why_not(self, chosen: Step, pane: StepPane) -> str | None:
        """Why the step would not run now: a field it reads is refused, or the session would refuse it."""
        base = StepArgs(family=self.bar.family)
        try:
            if chosen.action in (Action.BIND, Action.CONNECT, Action.BURST):
                base.endpoint = self.bar.endpoint(quiet=True)
            args = pane.args_for(chosen, base, quiet=True)
        except InputError as error:
            return f"the {error.field} field: {error.reason}"
        no_bytes = chosen.action is Action.SEND and args.payload is None and args.bulk is None
        if no_bytes and chosen.side is Side.CLIENT and self.session.current(chosen.target, chosen.side) is not None:
            return "type the bytes to send in the message field"
        return self.session.refusal(chosen, args)

    @on(Input.Changed)
    @on(Select.Changed)
    @guarded
    def _field_changed(self) -> None:
        """A field a step reads changed: whether the step can run may have changed too."""
        if self.is_attached:
            self._show_refusals()

    @guarded
    def _look_for_lingering(self) -> None:
        """Once a second, while closed connections may linger in the kernel, ask it about them off the UI thread."""
        if self._rebuilding:
            return
        if any(t.closed and t.ends is not None and not t.gone for t in self.session.sockets):
            self.run_worker(self.session.read_lingering, thread=True, group="kernel", exclusive=True,
                            exit_on_error=False, description="read the kernel's closing connections")  # fmt: skip

    def _show_detail(self) -> None:
        tracked = self._socket(self.table.socket_id_at_cursor())
        self.detail.show(tracked, tracked.snapshot() if tracked else None)

    def _show_targets(self) -> None:
        """Say on each pane which sockets its steps act on now, and list the ones it can choose."""
        listener = self.session.current(Target.LISTENER)
        conn = self.session.current(Target.CONNECTION)
        client = self.session.current(Target.CLIENT)
        server_pane, client_pane = self.pane(Side.SERVER), self.pane(Side.CLIENT)
        names = dict.fromkeys(t.name for t in (listener, conn) if t is not None)
        server_pane.show_target("acts on " + ", ".join(names) if names else "")
        client_pane.show_target(f"acts on {client.name}" if client else "")
        sockets = self.session.sockets
        for role, pane, chosen in ((Role.CONNECTION, server_pane, conn), (Role.CLIENT, client_pane, client)):
            newest = list(itertools.islice((t for t in reversed(sockets) if t.role is role), MAX_CHOICES))
            choices = [(self._choice_label(t), t.id) for t in reversed(newest)]
            pane.show_sockets(choices, chosen.id if chosen is not None and chosen.role is role else None)

    @staticmethod
    def _choice_label(tracked: TrackedSocket) -> str:
        if tracked.closed:
            return f"{tracked.name} closed"
        return f"{tracked.name} ↔ :{tracked.ends[1][1]}" if tracked.ends else tracked.name

    def _socket(self, socket_id: int | None) -> TrackedSocket | None:
        return next((t for t in self.session.sockets if t.id == socket_id), None)

    # ----- choosing sockets -----------------------------------------------

    @on(DataTable.RowHighlighted, "#sockets")
    @guarded
    def _row_highlighted(self) -> None:
        self._show_detail()

    @on(DataTable.RowSelected, "#sockets")
    @guarded
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        tracked = self._socket(int(event.row_key.value or 0))
        if tracked is not None:
            self.session.select(tracked)
            self._show_targets()

    @on(StepPane.SocketChosen)
    @guarded
    def _socket_chosen(self, event: StepPane.SocketChosen) -> None:
        tracked = self._socket(event.socket_id)
        if tracked is not None:
            self.session.select(tracked)
            self._show_targets()

    # ----- views -----------------------------------------------------------

    def action_toggle_family(self) -> None:
        self.bar.toggle_family()

    def action_toggle_timeline(self) -> None:
        """Show the timeline and give it the arrow keys; hide it and give them back."""
        view = self.timeline_view
        view.display = not view.display
        self.bottom.set_class(view.display, "-timeline")
        (view if view.display else self.table).focus()

    def action_toggle_projector(self) -> None:
        """For the back row: the panes give their room to the table and the log; the step keys still work."""
        projector = not self.has_class("-projector")
        self.set_class(projector, "-projector")
        focused = self.focused
        if projector and focused is not None and any(isinstance(node, StepPane) for node in focused.ancestors):
            self.table.focus()  # the focus was in a pane that is hidden now

    def action_toggle_wire(self) -> None:
        wire = self.wire
        wire.display = not wire.display
        if wire.display:
            wire.start(self.session, self.post_message)
            self.call_after_refresh(self._tell_size, wire)

    def _tell_size(self, log: RichLog) -> None:
        """Tell a log its size once a change of layout settles. A RichLog holds every line until its first
        Resize, and Textual 8 can lay out a widget that a refresh shows or narrows without sending it one
        (seen here about two times in three): the wire, or the log beside a lesson, stayed empty."""
        if log.display and log.size.width:
            log.post_message(events.Resize(log.size, log.virtual_size, log.container_size))

    @on(WireSegments)
    @guarded
    def _wire_segments(self, message: WireSegments) -> None:
        self.wire.show_delivery(message.delivery)

    def export_pcap(self, path: Path, *, plain: bool = False) -> str:
        """Save what the wire view captured; the sentence that says what was saved, or why nothing was."""
        return self.wire.export(path, plain=plain)

    def action_leave_field(self) -> None:
        self.table.focus()

    # ----- scenarios ---------------------------------------------------------

    def load_scenario(self, title: str, lines: list[Line], endpoint: Endpoint) -> None:
        """Get a checked scenario ready to play, paused. On a session with no sockets yet (a lesson always
        loads on one), the log's welcome is written again once the panel has taken its room beside the log
        (a log line keeps the width it was written at), and says how to play the lesson."""
        self.scenario_panel.load(title, lines, self.session, endpoint)
        if not self.session.sockets:
            self.call_after_refresh(self._welcome_to_lesson, title)

    def _welcome_to_lesson(self, title: str) -> None:
        # Once the lecturer has played a line, its narration is in the log: clearing it would lose it.
        if self._rebuilding or self.session.sockets or self.scenario_panel.started:
            return
        log = self.event_log
        log.clear()
        log.note(self.session.now(), "start", WELCOME)
        keys = self.scenario_panel.keys_line()
        log.note(self.session.now(), "lesson", f"{title} is loaded. It pauses after each narration until you go on. "
                 f"Keys: {keys}", kind="guide")  # fmt: skip

    def action_play_pause(self) -> None:
        self.scenario_panel.toggle()

    def action_step_scenario(self) -> None:
        self.scenario_panel.step()

    def action_speed(self, factor: float) -> None:
        self.scenario_panel.speed(factor)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The scenario keys exist only while a scenario is loaded (so space stays free otherwise), and
        in split mode only this side's steps have keys."""
        if action in LESSON_ACTIONS:
            try:
                return self.scenario_panel.loaded
            except NoMatches:  # a reset is making the widgets again (the key panel asks meanwhile): none loaded yet
                return False
        if action == "run_step" and self.only is not None:
            return step(str(parameters[0])).side is self.only
        return True
