"""The sockviz app: the session, its threads, app-wide keys, themes and exports.

The app is thin, as Frogmouth's and Toolong's are: it owns the Session and the pool
of threads that run its steps, and shows one screen, `SessionScreen`, which
composes the panes, table, log, timeline, wire and scenario panel and keeps them
up to date. The app owns no socket logic.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import socket
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import ClassVar, TextIO

from textual import events, messages, on, work
from textual.actions import ActionParseResult
from textual.app import App, SystemCommand
from textual.await_complete import AwaitComplete
from textual.binding import BindingType
from textual.content import Content
from textual.css.query import NoMatches
from textual.dom import DOMNode
from textual.filter import LineFilter
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen, SystemModalScreen

from sockviz.commands import LessonCommands
from sockviz.core import DEFAULT_PORT, InputError, Session, Side, Step
from sockviz.core.model.addresses import LOOPBACK
from sockviz.core.model.transport import Transport
from sockviz.core.scenario import lessons
from sockviz.core.scenario.language import ScenarioError, family_of, parse, transport_of
from sockviz.core.story.recording.format import Note
from sockviz.core.story.recording.recorder import Recorder
from sockviz.core.story.transcript import Transcript
from sockviz.ending import end_after_deadline, end_on_sigterm, served
from sockviz.faults import Fault, FaultReportingWorkers, report
from sockviz.keys import APP_BINDINGS
from sockviz.screens.help import HelpScreen
from sockviz.screens.session import SessionScreen
from sockviz.themes import HIGH_CONTRAST, NO_DIM_FILTER
from sockviz.widgets.event_log import EventLog

STEP_THREADS = 256
"""Threads for steps. asyncio's default pool has cpus + 4 (6 on two cores), and
every blocked step holds one: a seventh blocked accept() would wait unseen."""

SWITCH_SECONDS = 0.0005
"""How long the UI thread may keep the GIL from a step thread that wants it (Python's default is 5 ms).

A step thread whose send() or recv() returned waits for the GIL while the UI draws a frame; at 5 ms a
wait, a 256 MiB transfer through the app moved about a quarter of raw sockets' speed. Beside a raw
transfer, a thread that holds the GIL 30 ms in every 50 left it 52 to 64% of its speed at 5 ms and 95
to 100% at 0.5 ms (medians of five rounds, 2026-12-01; README, "A bulk transfer through the app")."""


YOUNG_OBJECTS = 10_000
"""Allocations between two collections of the youngest objects (Python's default is 700).

A frame makes and drops thousands of small objects (Textual's lines, segments and their caches). At 700,
a collection ran several times within each frame, so objects that live one frame were kept on to older
generations, and those filled fast enough to set off a full collection one to two times a second while
connections came and went, each a pause of 20 to 50 ms. At 10,000 they mostly die young: in 10 s of
churn there was no full collection, and the young collections took 0.18 s instead of 0.48 s."""


def export_path(suffix: str = "") -> Path:
    """Where an export goes: `sockviz-20261201-101500` (a folder) or with `suffix` a file, in the current directory."""
    return Path.cwd() / time.strftime(f"sockviz-%Y%m%d-%H%M%S{suffix}")


FAULT_TITLE = "sockviz fault"
"""The title of a fault's notice: the fault is written in the log on its own, so the notice is not kept there."""


class SockvizApp(App[None]):
    """Both ends of a TCP connection, one real call per click."""

    CSS_PATH = "app.tcss"
    TITLE = "sockviz"
    COMMANDS: ClassVar = App.COMMANDS | {LessonCommands}
    BINDINGS: ClassVar[list[BindingType]] = list(APP_BINDINGS)

    def __init__(
        self,
        host: str | None = None,
        port: int = DEFAULT_PORT,
        ipv6: bool = False,
        *,
        session: Session | None = None,
        scenario: tuple[str, str] | None = None,
        only: Side | None = None,
        udp: bool = False,
        record: TextIO | None = None,
        predict: bool = False,
    ) -> None:
        super().__init__()
        self._workers = FaultReportingWorkers(self)
        self.faults: list[Fault] = []
        """sockviz's own bugs met so far (each once), each shown in the log: a test of the whole app wants none."""
        self.only = only
        """Split mode: the one side this app plays; the peer is another sockviz, nc, or any program."""
        self._scenario = scenario
        """(title, text) of the scenario to load once the session screen is ready: from --scenario or
        --lesson at start, or the lesson that a reset makes room for."""
        self._loaded: tuple[str, str] | None = None
        """(title, text) of the scenario loaded last, which `restart_lesson` loads again."""
        self.family = socket.AF_INET6 if ipv6 else socket.AF_INET
        self.host = host or LOOPBACK[self.family]
        self.port = port
        self.session = session or Session()
        self._transcript = Transcript(self.session)
        self.recorder = Recorder.to_file(record, source="app") if record is not None else None
        """`--record FILE`: every session of the app (a reset starts the next) in the session format."""
        if self.recorder is not None:
            self.recorder.start(self.session, self.host, self.port, self.family, listen=False)  # the screen's order
        transport = Transport.UDP if udp else Transport.TCP
        self.session_screen = SessionScreen(self.session, self.host, self.port, self.family, only=only,
                                            transport=transport, predict=predict, recorder=self.recorder)  # fmt: skip
        """The one screen of a session; help and the palette open over it."""

    def on_load(self) -> None:
        self._switch_before = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_SECONDS)
        self._collect_before = gc.get_threshold()
        gc.set_threshold(YOUNG_OBJECTS, *self._collect_before[1:])
        self._step_threads = ThreadPoolExecutor(max_workers=STEP_THREADS, thread_name_prefix="sockviz-step")
        asyncio.get_running_loop().set_default_executor(self._step_threads)

    def get_default_screen(self) -> SessionScreen:
        return self.session_screen

    def on_mount(self) -> None:
        if not self.is_headless:  # a real terminal or a browser tab; never a test's process
            end_on_sigterm(lambda status: self.exit(return_code=status))
        self.register_theme(HIGH_CONTRAST)

    @on(SessionScreen.Ready)
    def _screen_ready(self) -> None:
        """A scenario from the command line (or one a reset made room for) loads once its screen is there."""
        if not gc.get_freeze_count():
            self.call_after_refresh(self._keep_from_collections)
        if self._scenario is not None:
            scenario, self._scenario = self._scenario, None
            self.load_scenario(*scenario)

    @staticmethod
    def _keep_from_collections() -> None:
        """Once the first screen is drawn, what start-up made (modules, classes, the screen's widgets and styles:
        about 70,000 objects that may hold others) lives as long as the app. Python's full garbage collection
        walks every such object, and with these it paused the event loop 70 to 200 ms at a time, one to two
        times a second while connections came and went. Frozen, they are left out of every collection; what
        the session makes afterwards is still collected. Freezing is instant; a collection first would pause
        the first frame's loop for 50 to 200 ms to free about 6,000 objects of start-up's garbage, which wait
        for the end instead (as the first screen's widgets do when a reset makes new ones)."""
        gc.freeze()

    def on_unmount(self) -> None:
        """Wake every blocked step before Textual waits for its threads: quitting must never hang."""
        if self.recorder is not None:
            self.recorder.closing()
        self.session.close()
        if self.recorder is not None:
            self.recorder.stop()  # after the close, so what it closed is read after the end
        self._step_threads.shutdown(wait=False)  # idle threads end now, not when the event loop does
        sys.setswitchinterval(self._switch_before)
        gc.set_threshold(*self._collect_before)
        gc.unfreeze()  # the next collection may take all of it (a test's process makes many apps)

    # ----- never crash -------------------------------------------------------

    @on(messages.ExitApp)
    def _quitting(self) -> None:
        """A browser tab's app ends within `HARD_DEADLINE` of being asked to (its tab closed, or its server
        stopped), whatever it is doing: no terminal waits to be restored, and no process may linger."""
        if served():
            end_after_deadline(0)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """A notice goes after a few seconds: the log keeps what it said (where an export went and what to wait
        for before running it, why a scenario did not load) for a lecturer or student who looked away."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)
        if title == FAULT_TITLE:  # a fault is in the log already, with its why
            return
        kind = "refused" if severity == "error" else "guide"
        text = Content.from_markup(message).plain if markup else message  # the log never parses markup
        note = Note(self.session.now(), "note", f"{title}: {text}" if title else text, kind)
        for log in self.session_screen.query(EventLog):
            log.note(note.at, note.who, note.text, kind=note.kind)
        if self.recorder is not None:  # a replay's log keeps it too
            self.recorder.add(note)

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
        self.notify(fault.text, title=FAULT_TITLE, severity="error", markup=False)

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

    def _handle_exception(self, error: Exception) -> None:
        """Once quitting has begun, a widget mounted just before (a socket list, as a burst's first
        connection came in) may no longer find its own parts: Textual fails with NoMatches on it.
        Nothing is wrong but the timing, and the app is ending anyway: it must not end with a
        traceback and the exit status of an error for that. Every other exception goes on to Textual."""
        if (self._exit or not self.is_running) and isinstance(error, NoMatches):
            return
        super()._handle_exception(error)

    def pop_screen(self) -> AwaitComplete:
        """Only a modal screen (help, the palette) is ever popped. Textual lets a screen dismiss itself
        twice (the palette does, when its background is clicked twice before it has gone), and the
        second pop would take away the session's screen below it."""
        if not isinstance(self.screen, ModalScreen | SystemModalScreen):
            return AwaitComplete(asyncio.sleep(0))
        return super().pop_screen()

    # ----- for scripts and the palette --------------------------------------

    def run_step(self, chosen: Step) -> None:
        """Run a step as its button or key would: its inputs come from the screen's fields."""
        self.session_screen.run_step(chosen)

    def load_lesson(self, name: str) -> None:
        self.load_scenario(f"lesson: {name}", lessons.text(name))

    def load_scenario(self, title: str, text: str) -> None:
        """Check a scenario and get it ready to play, paused; a bad line is reported and nothing runs."""
        if self.session_screen._rebuilding:  # a reset is making the widgets again: load once they are there
            self.set_timer(0.05, partial(self.load_scenario, title, text))
            return
        try:
            lines = parse(text)
        except ScenarioError as error:
            self.notify(str(error), title="scenario not loaded", severity="error", markup=False)
            return
        if (family := family_of(lines)) is not None and family != self.session_screen.bar.family:
            self.session_screen.bar.family = family  # a lesson about IPv6 runs on IPv6 (loopback follows the switch)
        # A scenario runs on TCP until a `transport` line says otherwise: the switch shows what it starts on.
        self.session_screen.transport = transport_of(lines) or Transport.TCP
        try:
            endpoint = self.session_screen.endpoint()
        except InputError as error:
            self.notify(error.reason, title="scenario not loaded", severity="error", markup=False)
            return
        if self.session.sockets:  # a used session: the lesson would meet its sockets, so start afresh
            self._scenario = (title, text)
            self.reset_session()
            return
        self._loaded = (title, text)
        self.session_screen.load_scenario(title, lines, endpoint)

    # ----- starting over -----------------------------------------------------

    def action_reset_session(self) -> None:
        self.reset_session()

    def action_restart_lesson(self) -> None:
        """The loaded lesson again from its first line, on a fresh session."""
        if self._loaded is not None:
            self._scenario = self._loaded
            self.reset_session()

    @work(exclusive=True, group="reset")
    async def reset_session(self) -> None:
        """Close every socket and start over: a new Session, for which the screen makes its widgets again,
        so the table, log, timeline and panes start empty. A lesson waiting in `_scenario` then loads."""
        screen, old_session = self.session_screen, self.session
        screen.scenario_panel.stop()
        screen.stop_listening()  # no more reading of sockets that are about to close under its feet
        if self.recorder is not None:
            self.recorder.closing()
        await asyncio.to_thread(old_session.close)  # wakes blocked calls; may wait up to a second for them
        self.session = Session()
        self._transcript = Transcript(self.session)
        self._loaded = None
        if self.recorder is not None:
            host, port, family = screen.start_values()
            self.recorder.start(self.session, host, port, family, listen=False)
        screen.post_message(SessionScreen.StartOver(self.session))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Restart exists while a lesson is loaded; reset and restart act on the session screen only."""
        if action in ("reset_session", "restart_lesson") and self.screen is not self.session_screen:
            return False
        if action == "restart_lesson":
            return self._loaded is not None
        return True

    # ----- app-wide keys: help, themes, exports ------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "Projector layout",
            "The table and the log take the room of the step panes (v); the step keys still work",
            self.session_screen.action_toggle_projector,
        )
        yield SystemCommand(
            "Predict mode",
            "Before each step that can block or fail, say what it will do; then see, and keep the score (f5)",
            self.session_screen.action_toggle_predict,
        )

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.screen))

    def get_line_filters(self) -> Sequence[LineFilter]:
        """Textual's filters, and in the high-contrast theme one that draws nothing dim."""
        filters = super().get_line_filters()
        return [NO_DIM_FILTER, *filters] if self.theme == HIGH_CONTRAST.name else filters  # before dim turns grey

    def action_toggle_contrast(self) -> None:
        """For a projector: white on black with saturated colours, and back."""
        self.theme = "textual-dark" if self.theme == HIGH_CONTRAST.name else HIGH_CONTRAST.name

    def action_export_pcap(self, plain: bool = False) -> None:
        """`p`: pcapng with the calls as packet comments; `P`: plain pcap, for tools that need it.

        The capture's reader process writes the file, which can take a moment (up to 32 MiB of frames), so
        the wait is a thread's, never the event loop's.
        """
        path = export_path(".pcap" if plain else ".pcapng")
        wire = self.session_screen.wire

        def export() -> None:
            said = wire.export(path, plain=plain)
            with contextlib.suppress(RuntimeError):  # the app quit meanwhile: nobody to tell
                self.call_from_thread(self.notify, said, title="wire", markup=False)

        self.run_worker(export, thread=True, group="export")

    def action_export_scripts(self) -> None:
        """The session so far as server.py and client.py, in a new folder of the current directory."""
        try:
            endpoint = self.session_screen.endpoint()
        except InputError as error:
            self.notify(error.reason, title="not exported", severity="error", markup=False)
            return
        folder = export_path()
        paths = self._transcript.export(folder, endpoint)
        how = self._transcript.how_to_run(endpoint)  # what holds the port now, if anything
        self.notify(f"wrote {', '.join(str(p) for p in paths)}: {how}", title="export", markup=False)

    def action_export_notebooks(self) -> None:
        """The session so far as server.ipynb and client.ipynb (needs nbformat)."""
        try:
            endpoint = self.session_screen.endpoint()
            paths = self._transcript.export_notebooks(export_path(), endpoint)
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
