"""The sockviz app: a session of its own, its threads, its lessons, starting over, and its exports.

The app is thin, as Frogmouth's and Toolong's are: it owns the Session and the pool
of threads that run its steps, and shows one screen, `SessionScreen`, which
composes the panes, table, log, timeline, wire and scenario panel and keeps them
up to date. The app owns no socket logic. What every sockviz app does (never crash,
help, themes, notices) is `SockvizBase` in base_app.py, which a follower's app shares;
the process's tuning is tuning.py, and the exports' files are written by exports.py.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING, ClassVar, TextIO

from textual import on, work
from textual.app import App, SystemCommand
from textual.css.query import NoMatches
from textual.screen import Screen

from sockviz.base_app import SockvizBase
from sockviz.core import DEFAULT_PORT, Endpoint, InputError, Session, Side, Step
from sockviz.core import endpoint as checked_endpoint
from sockviz.core.model.addresses import LOOPBACK
from sockviz.core.model.transport import Transport
from sockviz.core.story.transcript import Transcript
from sockviz.screens.layout import LESSON, WIRE
from sockviz.screens.session import SessionScreen
from sockviz.tuning import Tuning

if TYPE_CHECKING:
    from textual.command import Provider

    from sockviz.core.story.recording.recorder import Recorder
    from sockviz.share.server import ShareServer  # only with --share: it brings aiohttp, which start-up need not load

# Start-up imports only what the first screen needs: the lessons and the scenario language load with the
# first lesson, the recorder with --record, the exports with the first export, the palette's lessons when
# the palette opens (benchmarks/README.md).


def _lesson_commands() -> type[Provider]:
    """The palette's lessons, loaded when the palette first opens (Textual takes a callable in COMMANDS)."""
    from sockviz.commands import LessonCommands

    return LessonCommands


__all__ = ["SockvizApp", "SockvizBase"]


class SockvizApp(SockvizBase):
    """Both ends of a TCP connection, one real call per click."""

    COMMANDS: ClassVar = App.COMMANDS | {_lesson_commands}

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
        share: ShareServer | None = None,
    ) -> None:
        super().__init__()
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
        self._tuning = Tuning()
        self.recorder: Recorder | None = None
        """`--record FILE`: every session of the app (a reset starts the next) in the session format."""
        if record is not None:
            from sockviz.core.story.recording.recorder import Recorder

            self.recorder = Recorder.to_file(record, source="app")
            self.recorder.start(self.session, self.host, self.port, self.family, listen=False)  # the screen's order
        self.share = share
        """`--share`: the server that publishes this session to followers, from its own thread."""
        self.session_screen = SessionScreen(self.session, self.host, self.port, self.family, only=only,
                                            transport=Transport.UDP if udp else Transport.TCP, predict=predict,
                                            recorder=self.recorder, share=share)  # fmt: skip
        if share is not None:
            share.share(self.session, self._share_endpoint(), listen=False)  # the screen hands it on, in its order

    def _share_endpoint(self) -> Endpoint:
        """The address the top bar holds (or the one it began with), which followers' connect() hints ask about."""
        try:
            return self.session_screen.endpoint(quiet=True)
        except (InputError, NoMatches):  # not composed yet, or a field the lecturer is still typing
            try:
                return checked_endpoint(self.host, str(self.port), self.family)
            except InputError:
                return Endpoint(self.family, LOOPBACK[self.family], self.port)

    def on_load(self) -> None:
        self._tuning.start()

    @on(SessionScreen.Ready)
    def _screen_ready(self) -> None:
        """A scenario from the command line (or one a reset made room for) loads once its screen is there."""
        self.call_after_refresh(self._tuning.first_frame)
        if self._scenario is not None:
            scenario, self._scenario = self._scenario, None
            self.load_scenario(*scenario)

    def on_unmount(self) -> None:
        """Wake every blocked step before Textual waits for its threads: quitting must never hang."""
        if self.recorder is not None:
            self.recorder.closing()
        if self.share is not None:
            self.share.closing()
        self.session.close()
        if self.recorder is not None:
            self.recorder.stop()  # after the close, so what it closed is read after the end
        self._tuning.stop()

    # ----- for scripts and the palette --------------------------------------

    def run_step(self, chosen: Step) -> None:
        """Run a step as its button or key would: its inputs come from the screen's fields."""
        self.session_screen.run_step(chosen)

    def load_lesson(self, name: str) -> None:
        from sockviz.core.scenario import lessons

        self.load_scenario(f"lesson: {name}", lessons.text(name))

    def load_scenario(self, title: str, text: str) -> None:
        """Check a scenario and get it ready to play, paused; a bad line is reported and nothing runs."""
        from sockviz.core.scenario.language import ScenarioError, family_of, parse, transport_of

        if self.session_screen._rebuilding:  # a reset is emptying the widgets: load once they are ready
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
        self.session_screen.load_scenario(title, lines, endpoint)  # its worker finds the port it runs on first

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
        """Close every socket and start over: a new Session, for which the screen empties its widgets, so the
        table, log, timeline and panes start empty. A lesson waiting in `_scenario` then loads."""
        screen, old_session = self.session_screen, self.session
        if (panel := screen.built(LESSON)) is not None:
            panel.stop()
        screen.stop_listening()  # no more reading of sockets that are about to close under its feet
        if self.recorder is not None:
            self.recorder.closing()
        if self.share is not None:
            self.share.closing()
        await asyncio.to_thread(old_session.close)  # wakes blocked calls; may wait up to a second for them
        self.session = Session()
        self._transcript = Transcript(self.session)
        self._loaded = None
        if self.recorder is not None:
            host, port, family = screen.start_values()
            self.recorder.start(self.session, host, port, family, listen=False)
        if self.share is not None:
            self.share.share(self.session, self._share_endpoint(), listen=False)  # followers start afresh too
        screen.post_message(SessionScreen.StartOver(self.session, lesson=self._scenario is not None))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Restart exists while a lesson is loaded; reset and restart act on the session screen only."""
        if action in ("reset_session", "restart_lesson") and self.screen is not self.session_screen:
            return False
        if action == "restart_lesson":
            return self._loaded is not None
        return True

    # ----- exports ----------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "Predict mode",
            "Before each step that can block or fail, say what it will do; then see, and keep the score (f5)",
            self.session_screen.action_toggle_predict,
        )

    def action_export_pcap(self, plain: bool = False) -> None:
        from sockviz.exports import export_pcap

        export_pcap(self, self.session_screen.built(WIRE), plain=plain)

    def action_export_scripts(self) -> None:
        from sockviz.exports import export_scripts

        export_scripts(self, self._transcript, self.session_screen.endpoint)

    def action_export_notebooks(self) -> None:
        from sockviz.exports import export_notebooks

        export_notebooks(self, self._transcript, self.session_screen.endpoint)
