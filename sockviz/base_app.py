"""What every sockviz app does, whoever's session it shows: never crash, help, themes, pictures, notices.

Two apps share it: `SockvizApp` (app.py), which runs a session of its own, and a follower's
`FollowApp` (follow.py), which shows a lecturer's. What only a session of one's own needs (its steps'
threads, lessons, reset, exports) is in app.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import ClassVar

from textual import events, messages, on
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

from sockviz.ending import end_after_deadline, end_on_sigterm, served
from sockviz.faults import Fault, FaultReportingWorkers, report
from sockviz.keys import APP_BINDINGS
from sockviz.screens.session import SessionScreen
from sockviz.themes import HIGH_CONTRAST, NO_DIM_FILTER
from sockviz.widgets.event_log import EventLog

FAULT_TITLE = "sockviz fault"
"""The title of a fault's notice: the fault is written in the log on its own, so the notice is not kept there."""


class SockvizBase(App[None]):
    """What every sockviz app does, whoever's session it shows: never crash, help, themes, pictures.

    `SockvizApp` runs a session of its own; a follower (`sockviz.follow.FollowApp`) shows a lecturer's."""

    CSS_PATH = "app.tcss"
    TITLE = "sockviz"
    BINDINGS: ClassVar[list[BindingType]] = list(APP_BINDINGS)

    session_screen: SessionScreen
    """The one screen of a session; help and the palette open over it."""

    def __init__(self) -> None:
        super().__init__()
        self._workers = FaultReportingWorkers(self)
        self.faults: list[Fault] = []
        """sockviz's own bugs met so far (each once), each shown in the log: a test of the whole app wants none."""

    def get_default_screen(self) -> SessionScreen:
        return self.session_screen

    def on_mount(self) -> None:
        if not self.is_headless:  # a real terminal or a browser tab; never a test's process
            end_on_sigterm(lambda status: self.exit(return_code=status))
        self.register_theme(HIGH_CONTRAST)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
        in_log: bool = True,
    ) -> None:
        """A notice goes after a few seconds: the log keeps what it said (where an export went and what to wait
        for before running it, why a scenario did not load) for a lecturer or student who looked away. Not
        `in_log`: the caller writes it in the log itself, in its place."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)
        if title == FAULT_TITLE or not in_log:  # a fault is in the log already, with its why
            return
        kind = "refused" if severity == "error" else "guide"
        text = Content.from_markup(message).plain if markup else message  # the log never parses markup
        screen = getattr(self, "session_screen", None)
        if screen is None:
            return
        from sockviz.core.story.recording.records import Note  # the records load with the first notice

        note = Note(screen.session.now(), "note", f"{title}: {text}" if title else text, kind)
        for log in screen.query(EventLog):
            log.note(note.at, note.who, note.text, kind=note.kind)
        recorder = getattr(self, "recorder", None)
        if recorder is not None:  # a replay's log keeps it too
            recorder.add(note)

    @on(messages.ExitApp)
    def _quitting(self) -> None:
        """A browser tab's app ends within `HARD_DEADLINE` of being asked to (its tab closed, or its server
        stopped), whatever it is doing: no terminal waits to be restored, and no process may linger."""
        if served():
            end_after_deadline(0)

    # ----- never crash -------------------------------------------------------

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

    # ----- app-wide keys: help, themes, pictures ----------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "Projector layout",
            "The table and the log take the room of the step panes (v); the step keys still work",
            self.session_screen.action_toggle_projector,
        )

    def action_help(self) -> None:
        from sockviz.screens.help import HelpScreen  # made when first asked for, not at start-up

        self.push_screen(HelpScreen(self.screen))

    def get_line_filters(self) -> Sequence[LineFilter]:
        """Textual's filters, and in the high-contrast theme one that draws nothing dim."""
        filters = super().get_line_filters()
        return [NO_DIM_FILTER, *filters] if self.theme == HIGH_CONTRAST.name else filters  # before dim turns grey

    def action_toggle_contrast(self) -> None:
        """For a projector: white on black with saturated colours, and back."""
        self.theme = "textual-dark" if self.theme == HIGH_CONTRAST.name else HIGH_CONTRAST.name

    def action_save_picture(self) -> None:
        """An SVG of the screen as it is now, in the current directory, for slides and handouts."""
        path = self.save_screenshot(path=str(Path.cwd()))
        self.notify(f"saved {path}", title="picture", markup=False)
