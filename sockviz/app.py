"""The sockviz app: the server and client panes, the sockets table and the log.

The app owns no socket logic. It turns clicks and keys into steps for the
core's Session, runs each step in a thread worker, and renders the events
and snapshots that come back.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import ClassVar

from textual import events, on
from textual.actions import ActionParseResult
from textual.app import App, ComposeResult
from textual.await_complete import AwaitComplete
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.dom import DOMNode
from textual.screen import ModalScreen, SystemModalScreen
from textual.widgets import DataTable

from sockviz.commands import LessonCommands
from sockviz.core import (
    DEFAULT_PORT,
    STEPS,
    Action,
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
from sockviz.core.model.addresses import LOOPBACK
from sockviz.core.scenario import lessons
from sockviz.core.scenario.language import ScenarioError, parse
from sockviz.core.story.timeline import Timeline
from sockviz.core.story.transcript import Transcript
from sockviz.ending import end_on_sigterm
from sockviz.faults import Fault, FaultReportingWorkers, guarded, report
from sockviz.messages import SessionEvent
from sockviz.screens.help import HelpScreen
from sockviz.themes import HIGH_CONTRAST
from sockviz.widgets.endpoint_bar import EndpointBar
from sockviz.widgets.event_log import EventLog
from sockviz.widgets.key_bar import KeyBar
from sockviz.widgets.scenario_panel import ScenarioPanel
from sockviz.widgets.socket_detail import SocketDetail
from sockviz.widgets.sockets_table import SocketsTable, activity
from sockviz.widgets.step_pane import DEFAULT_CLIENT_MESSAGE, StepPane
from sockviz.widgets.timeline_view import TimelineView
from sockviz.widgets.wire_pane import WirePane, WireSegments

STEP_THREADS = 256
"""Threads for steps. asyncio's default pool has cpus + 4 (6 on two cores), and
every blocked step holds one: a seventh blocked accept() would wait unseen."""

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


def _step_bindings() -> list[Binding]:
    groups = {
        Side.SERVER: Binding.Group("server", compact=True),
        Side.CLIENT: Binding.Group("client", compact=True),
    }
    return [
        Binding(s.key, f"run_step('{s.id}')", f"{s.side.value} {s.label}", group=groups[s.side], tooltip=s.code)
        for s in STEPS
    ]


class SockvizApp(App[None]):
    """Both ends of a TCP connection, one real call per click."""

    CSS_PATH = "app.tcss"
    TITLE = "sockviz"
    COMMANDS: ClassVar = App.COMMANDS | {LessonCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        *_step_bindings(),
        Binding("6", "toggle_family", "IPv4/IPv6"),
        Binding("t", "toggle_timeline", "timeline"),
        Binding("w", "toggle_wire", "wire"),
        Binding("p", "export_pcap", "save pcap"),
        Binding("f1,question_mark", "help", "help"),
        Binding("f2", "toggle_contrast", "contrast"),
        Binding("f12", "save_picture", "save SVG"),
        Binding("f3", "export_scripts", "export .py"),
        Binding("f4", "export_notebooks", "export .ipynb", show=False),
        Binding("space", "play_pause", "play/pause"),
        Binding("n", "step_scenario", "next line"),
        Binding("plus", "speed(2)", "faster", show=False),
        Binding("minus", "speed(0.5)", "slower", show=False),
        Binding("escape", "leave_field", "leave field", show=False),
    ]

    def __init__(
        self,
        host: str | None = None,
        port: int = DEFAULT_PORT,
        ipv6: bool = False,
        *,
        session: Session | None = None,
        scenario: tuple[str, str] | None = None,
        only: Side | None = None,
    ) -> None:
        super().__init__()
        self._workers = FaultReportingWorkers(self)
        self.faults: list[Fault] = []
        """sockviz's own bugs met so far (each once), each shown in the log: a test of the whole app wants none."""
        self.only = only
        """Split mode: the one side this app plays; the peer is another sockviz, nc, or any program."""
        self._scenario = scenario
        """(title, text) of a scenario to load at start: from --scenario or --lesson."""
        self.family = socket.AF_INET6 if ipv6 else socket.AF_INET
        self.host = host or LOOPBACK[self.family]
        self.port = port
        self.session = session or Session()
        self._blocked: set[int] = set()
        self._refresh_due = False
        self._last_refresh = 0.0
        self._targets_due = True
        """Whether an event may have changed which sockets the panes offer; the timer alone never does."""
        self._unsubscribe = self.session.subscribe(self._from_session)
        self._transcript = Transcript(self.session)
        self._timeline = Timeline()

    # ----- building -------------------------------------------------------

    def compose(self) -> ComposeResult:
        # The app keeps its widgets: a query would search whichever screen is on top (help, say).
        self._bar = EndpointBar(self.host, self.port, self.family, id="endpoint")
        self._panes = {
            Side.SERVER: StepPane(Side.SERVER, id="server-pane"),
            Side.CLIENT: StepPane(Side.CLIENT, message=DEFAULT_CLIENT_MESSAGE, id="client-pane"),
        }
        self._table = SocketsTable(id="sockets")
        self._detail = SocketDetail(id="repr")
        self._log = EventLog(id="log")
        self._wire = WirePane(id="wire")
        self._timeline_view = TimelineView(self._timeline, self.session.now, id="timeline")
        self._scenario_panel = ScenarioPanel(id="narration")
        yield self._bar
        if self.only is not None:
            other = Side.CLIENT if self.only is Side.SERVER else Side.SERVER
            self._panes[other].display = False
            self.sub_title = f"{self.only.value} only"
        with Horizontal(id="main"):
            yield self._panes[Side.SERVER]
            with Vertical(id="middle"):
                yield self._table
                yield self._detail
            yield self._panes[Side.CLIENT]
        with Horizontal(id="bottom") as self._bottom:
            yield self._log
            yield self._scenario_panel
            yield self._timeline_view
            yield self._wire
        yield KeyBar(id="keys")

    def on_load(self) -> None:
        self._step_threads = ThreadPoolExecutor(max_workers=STEP_THREADS, thread_name_prefix="sockviz-step")
        asyncio.get_running_loop().set_default_executor(self._step_threads)

    def on_mount(self) -> None:
        if not self.is_headless:  # a real terminal or a browser tab; never a test's process
            end_on_sigterm(lambda status: self.exit(return_code=status))
        self.register_theme(HIGH_CONTRAST)
        self.watch(self._table, "scroll_y", self.refresh_sockets, init=False)  # rows coming into view
        self.set_interval(REFRESH_SECONDS, self.refresh_sockets)
        self.set_interval(LINGER_SECONDS, self._look_for_lingering)
        self.refresh_sockets()
        self._table.focus()
        if self._scenario is not None:
            self.load_scenario(*self._scenario)

    def on_resize(self, event: events.Resize) -> None:
        # Only the bottom row changes: a class on the screen would restyle every widget, a cost start-up pays.
        self._bottom.set_class(event.size.width < NARROW, "-narrow")

    def on_unmount(self) -> None:
        """Wake every blocked step before Textual waits for its threads: quitting must never hang."""
        self._unsubscribe()
        self._scenario_panel.stop()
        self._wire.stop()
        self.session.close()
        self._step_threads.shutdown(wait=False)  # idle threads end now, not when the event loop does

    async def run_action(
        self,
        action: str | ActionParseResult,
        default_namespace: DOMNode | None = None,
        namespaces: Mapping[str, DOMNode] | None = None,
    ) -> bool:
        """Every key's and click's action, the app's or a Textual widget's (the palette's page-down fails
        while its list is empty): a failure is reported as a fault, never left to end the app."""
        try:
            return await super().run_action(action, default_namespace, namespaces)
        except Exception as error:  # noqa: BLE001 - reported, never left to end the app
            report(self, f"action {action if isinstance(action, str) else action[1]}", error)
            return True

    async def on_event(self, event: events.Event) -> None:
        """Keys and the mouse, as the terminal sends them: a failure while Textual hands one on (a click on
        a widget that is being taken down) is a fault, never the end of the app. A key or click that
        comes once quitting has begun has no screen left to go to, and is dropped."""
        if not isinstance(event, events.Key | events.MouseEvent | events.Paste):
            await super().on_event(event)
            return
        if not self.screen_stack:
            return
        try:
            await super().on_event(event)
        except Exception as error:  # noqa: BLE001 - reported, never left to end the app
            report(self, f"{type(event).__name__} event", error)

    def pop_screen(self) -> AwaitComplete:
        """Only a modal screen (help, the palette) is ever popped. Textual lets a screen dismiss itself
        twice (the palette does, when its background is clicked twice before it has gone), and the
        second pop would take away the screen below it, or fail with ScreenStackError."""
        if not isinstance(self.screen, ModalScreen | SystemModalScreen):
            return AwaitComplete(asyncio.sleep(0))
        return super().pop_screen()

    @on(Fault)
    def _fault(self, fault: Fault) -> None:
        """A bug of sockviz's own: said in the log (on whichever screen has it) and in a notice; the app goes on.
        The same fault met again (a timer's, four times a second) is said once."""
        if any(earlier.key == fault.key for earlier in self.faults):
            return
        self.faults.append(fault)
        fault.keep()
        for screen in self.screen_stack:
            for log in screen.query(EventLog):
                log.fault(fault.text)
        self.notify(fault.text, title="sockviz fault", severity="error", markup=False)

    # ----- running steps ---------------------------------------------------

    def action_run_step(self, step_id: str) -> None:
        self.run_step(step(step_id))

    @on(StepPane.StepPressed)
    def _step_pressed(self, event: StepPane.StepPressed) -> None:
        self.run_step(event.step)

    @guarded
    def run_step(self, chosen: Step) -> None:
        """Check the step's inputs here; run the call itself in a thread worker."""
        if self.only is not None and chosen.side is not self.only:
            return
        try:
            args = self._args_for(chosen)
        except InputError:
            self.bell()
            return
        self.run_worker(
            partial(self.session.perform, chosen, args),
            name=chosen.id,
            group="steps",
            description=chosen.code,
            thread=True,
            exit_on_error=False,
        )

    def _args_for(self, chosen: Step) -> StepArgs:
        """Everything the step needs from the fields; raises InputError, shown at the field at fault."""
        base = StepArgs(family=self._bar.family)
        if chosen.action in (Action.BIND, Action.CONNECT, Action.BURST):
            base.endpoint = self._bar.endpoint()
        pane = self._panes[chosen.side]
        args = pane.args_for(chosen, base)
        if chosen.action is Action.SEND and args.payload is None and args.bulk is None:
            target = self.session.current(chosen.target, chosen.side)
            if target is not None and target.last_received is None:
                pane.refuse("message", f"nothing received on {target.name} yet to echo: type a message")
        return args

    def _hint_args(self, chosen: Step) -> StepArgs:
        """The step's arguments for a hint: like `_args_for`, but a bad field only leaves a value out."""
        base = StepArgs(family=self._bar.family)
        try:
            if chosen.action is Action.CONNECT:
                base.endpoint = self._bar.endpoint(quiet=True)
            return self._panes[chosen.side].args_for(chosen, base, quiet=True)
        except InputError:
            return base

    # ----- what comes back -------------------------------------------------

    def _from_session(self, event: object) -> None:
        """Called in the thread that caused the event; post_message is safe from any thread."""
        self.post_message(SessionEvent(event))  # type: ignore[arg-type]

    @on(SessionEvent)
    @guarded
    def _session_event(self, message: SessionEvent) -> None:
        event = message.event
        if isinstance(event, StepBlocked):
            self._blocked.add(event.call.id)
        elif isinstance(event, StepFinished):
            self._blocked.discard(event.call.id)
        self._log.show(event)
        self._timeline.add(event)
        if self._timeline_view.display:
            self._timeline_view.refresh()
        if isinstance(event, StepCalled):
            self._wire.show_call(event)
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
        if not all(widget.is_attached for widget in (self._table, self._bar, *self._panes.values())):
            return  # the app is closing: its widgets are being taken down
        now = self.session.now()
        sockets = self.session.sockets
        rows = []
        for index in self._table.rows_to_refresh(len(sockets)):
            tracked = sockets[index]
            snap = tracked.snapshot(with_repr=False)
            rows.append((tracked, snap, activity(tuple(tracked.in_flight), self._blocked, now, snap.closed)))
        self._table.show(rows)
        self._bar.show_listening_everywhere(self.session.listening_everywhere())
        self._show_detail()
        if self._targets_due:
            self._targets_due = False
            self._show_targets()
        self._show_hints_and_progress()

    def _show_hints_and_progress(self) -> None:
        sides = {call.id: call.step.side for call in self.session.running()}
        progress = {sides[call_id]: done for call_id, done in self.session.progress().items() if call_id in sides}
        for side, pane in self._panes.items():
            pane.show_hints(
                {s.id: self.session.predict(s, self._hint_args(s)) for s in steps_of(side) if s.blocks_until}
            )
            pane.show_progress(progress.get(side))

    @guarded
    def _look_for_lingering(self) -> None:
        """Once a second, while closed connections may linger in the kernel, ask it about them off the UI thread."""
        if any(t.closed and t.ends is not None and not t.gone for t in self.session.sockets):
            self.run_worker(self.session.read_lingering, thread=True, group="kernel", exclusive=True,
                            exit_on_error=False, description="read the kernel's closing connections")  # fmt: skip

    def _show_detail(self) -> None:
        tracked = self._socket(self._table.socket_id_at_cursor())
        self._detail.show(tracked, tracked.snapshot() if tracked else None)

    def _show_targets(self) -> None:
        """Say on each pane which sockets its steps act on now, and list the ones it can choose."""
        listener = self.session.current(Target.LISTENER)
        conn = self.session.current(Target.CONNECTION)
        client = self.session.current(Target.CLIENT)
        server = self._panes[Side.SERVER]
        names = dict.fromkeys(t.name for t in (listener, conn) if t is not None)
        server.show_target("acts on " + ", ".join(names) if names else "")
        self._panes[Side.CLIENT].show_target(f"acts on {client.name}" if client else "")
        sockets = self.session.sockets
        for role, pane, chosen in ((Role.CONNECTION, server, conn), (Role.CLIENT, self._panes[Side.CLIENT], client)):
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

    # ----- other keys ------------------------------------------------------

    def action_toggle_family(self) -> None:
        self._bar.toggle_family()

    def action_toggle_timeline(self) -> None:
        """Show the timeline and give it the arrow keys; hide it and give them back."""
        view = self._timeline_view
        view.display = not view.display
        self._bottom.set_class(view.display, "-timeline")
        (view if view.display else self._table).focus()

    def action_toggle_wire(self) -> None:
        self._wire.display = not self._wire.display
        if self._wire.display:
            self._wire.start(self.session, self.post_message)

    @on(WireSegments)
    @guarded
    def _wire_segments(self, message: WireSegments) -> None:
        self._wire.show_segments(message.segments)

    def action_export_pcap(self) -> None:
        path = Path.cwd() / time.strftime("sockviz-%Y%m%d-%H%M%S.pcap")
        self.notify(self._wire.export(path), title="wire", markup=False)

    def action_toggle_contrast(self) -> None:
        """For a projector: white on black with saturated colours, and back."""
        self.theme = "textual-dark" if self.theme == HIGH_CONTRAST.name else HIGH_CONTRAST.name

    def action_export_scripts(self) -> None:
        """The session so far as server.py and client.py, in a new folder of the current directory."""
        try:
            endpoint = self._bar.endpoint()
        except InputError as error:
            self.notify(error.reason, title="not exported", severity="error", markup=False)
            return
        folder = Path.cwd() / time.strftime("sockviz-%Y%m%d-%H%M%S")
        paths = self._transcript.export(folder, endpoint)
        self.notify(f"wrote {', '.join(str(p) for p in paths)}: run server.py, then client.py", title="export",
                    markup=False)  # fmt: skip

    def action_export_notebooks(self) -> None:
        """The session so far as server.ipynb and client.ipynb (needs nbformat)."""
        try:
            endpoint = self._bar.endpoint()
            paths = self._transcript.export_notebooks(Path.cwd() / time.strftime("sockviz-%Y%m%d-%H%M%S"), endpoint)
        except InputError as error:
            self.notify(error.reason, title="not exported", severity="error", markup=False)
        except ImportError:
            self.notify("notebooks need nbformat: pip install 'sockviz[notebook]'", title="not exported",
                        severity="error", markup=False)  # fmt: skip
        else:
            self.notify(f"wrote {', '.join(str(p) for p in paths)}", title="export", markup=False)

    def action_save_picture(self) -> None:
        """An SVG of the screen as it is now, in the current directory, for slides and handouts."""
        path = self.save_screenshot(path=str(Path.cwd()))
        self.notify(f"saved {path}", title="picture", markup=False)

    # ----- scenarios ---------------------------------------------------------

    def load_lesson(self, name: str) -> None:
        self.load_scenario(f"lesson: {name}", lessons.text(name))

    def load_scenario(self, title: str, text: str) -> None:
        """Check a scenario and get it ready to play, paused; a bad line is reported and nothing runs."""
        try:
            lines = parse(text)
        except ScenarioError as error:
            self.notify(str(error), title="scenario not loaded", severity="error", markup=False)
            return
        try:
            endpoint = self._bar.endpoint()
        except InputError as error:
            self.notify(error.reason, title="scenario not loaded", severity="error", markup=False)
            return
        self._scenario_panel.load(title, lines, self.session, endpoint)

    def action_play_pause(self) -> None:
        self._scenario_panel.toggle()

    def action_step_scenario(self) -> None:
        self._scenario_panel.step()

    def action_speed(self, factor: float) -> None:
        self._scenario_panel.speed(factor)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The scenario keys exist only while a scenario is loaded (so space stays free otherwise), and
        in split mode only this side's steps have keys."""
        if action in ("play_pause", "step_scenario", "speed"):
            return self._scenario_panel.loaded
        if action == "run_step" and self.only is not None:
            return step(str(parameters[0])).side is self.only
        return True

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_leave_field(self) -> None:
        self._table.focus()
