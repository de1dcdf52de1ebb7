"""A scenario played in the app: its narration beside the log, and the controls that pace it.

The player runs in a thread worker and asks, before each line, whether it may go on:
it waits while the panel is paused, goes one line per step, and stops when the panel
does (a quit in the middle of a ten-minute pause returns at once). A lesson is
played at a lecture's pace: after each `say` it pauses until the lecturer goes on
(space plays on, `n` runs one line), unless the lesson keeps a `pace` of its own.
The panel shows where the lesson is ("line 7 of 31") and the keys that drive it,
read from the app's bindings. However little room it has (80x24 leaves it seven
lines), the counter, the next line and the player's state stay: a long narration
is cut to the lines left, ending in "…" (the log keeps it whole), and the keys,
which the key bar shows too, go first.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from functools import partial
from typing import TYPE_CHECKING, ClassVar, Unpack

from rich.text import Text
from textual import events, on
from textual.binding import BindingType
from textual.message import Message
from textual.widgets import Static

from sockviz.core import Endpoint, Session
from sockviz.core.model.lazy_dataclass import lazy_dataclass
from sockviz.keys import rows
from sockviz.messages import Narrated, ScenarioState, TransportChosen
from sockviz.widgets.inks import ink
from sockviz.widgets.options import WidgetOptions

if TYPE_CHECKING:
    from sockviz.core import StepArgs
    from sockviz.core.engine.tracked import TrackedSocket
    from sockviz.core.model.transport import Transport
    from sockviz.core.scenario.language import Line, StepLine
    from sockviz.core.scenario.player import Player

NO_ANSWER = "paused: no prediction, so the line did not run; space or n asks again"


class ScenarioPanel(Static):
    """Shown while a scenario is loaded."""

    @lazy_dataclass
    class BeforeStep(Message):
        """Predict mode: a step line is about to run. The screen asks what it will do and sets `answer`: True runs
        the line, False (the question closed unanswered) holds the lesson before it. Posted from the player's
        thread, which waits for the answer (or for the panel to stop)."""

        panel: ScenarioPanel
        line: StepLine
        args: StepArgs
        target: TrackedSocket | None
        """The socket an `on=` line names; None: the one the step acts on by default."""
        answer: Future[bool]

        @property
        def control(self) -> ScenarioPanel:
            return self.panel

    @lazy_dataclass
    class Placed(Message):
        """Where the loaded lesson runs, found by its worker before its first line (lesson_port.place: up to 21
        loopback binds and a sock_diag dump, kept off the event loop). `moved` says why, when that is not the
        endpoint it was loaded with (the top bar's); None: it runs there."""

        panel: ScenarioPanel
        endpoint: Endpoint
        moved: str | None
        player: Player | None = None
        """The player it is for: a lesson loaded again meanwhile has its own answer coming."""

        @property
        def control(self) -> ScenarioPanel:
            return self.panel

    COMPONENT_CLASSES: ClassVar[set[str]] = {"scenario-panel--title", "scenario-panel--said", "scenario-panel--aside"}
    """
    | Class | Description |
    | :- | :- |
    | `scenario-panel--title` | The scenario's title. |
    | `scenario-panel--said` | The narration last said. |
    | `scenario-panel--aside` | The next line, the player's state and speed, and the keys. |
    """
    DEFAULT_CSS = """
    ScenarioPanel {
        display: none;
        height: 100%;
        border: round $accent;
        padding: 0 1;
    }
    ScenarioPanel > .scenario-panel--title {
        text-style: bold;
    }
    ScenarioPanel > .scenario-panel--said {
        text-style: italic;
    }
    ScenarioPanel > .scenario-panel--aside {
        color: $text-muted;
    }
    """

    def __init__(self, **kwargs: Unpack[WidgetOptions]) -> None:
        super().__init__("", **kwargs)
        self._player: Player | None = None
        self._gate = threading.Condition()
        self._playing = False
        self._steps_allowed = 0
        self._started = False
        self._waiting = False
        """The player's thread is in the gate's wait (set and read under the gate)."""
        self._title = ""
        self._said = ""
        self._next_line = ""
        self._state = "paused"
        self._over_told_at = float("-inf")
        """When space or n last said that the lesson is over (monotonic): the notice is on screen for the app's
        NOTIFICATION_TIMEOUT, and a lecturer's keys pressed again meanwhile stacked one more over the screen each."""
        self._lines: list[Line] = []
        self._position: dict[int, int] = {}
        """A line's number in the file to its place among the lines that run (1 is the first)."""
        self._at = 0
        """The place of the line that runs next; 0 before the first, len(lines) + 1 at the end."""
        self.shown = ""
        """What the panel says of the lesson (all but its keys): what a follower's panel shows."""
        self._drawn: Text | None = None
        """What the panel shows now: a repaint (1.4 ms at 160x50) only when it changes."""
        self._keys: str | None = None
        """The keys line, made the first time the panel shows (reading the bindings cost 0.3 ms a line)."""
        self.predicting: Callable[[], bool] = lambda: False
        """Whether to ask before each step line (predict mode): read in the player's thread before each one."""

    @property
    def loaded(self) -> bool:
        return self._player is not None

    @property
    def waiting(self) -> bool:
        """Whether the player is held before its next line, until the lecturer plays on (or steps)."""
        with self._gate:
            return self._waiting and not self._playing and self._steps_allowed == 0

    @property
    def player(self) -> Player | None:
        """The loaded scenario's player; None when none is loaded."""
        return self._player

    @property
    def lesson_title(self) -> str:
        """The loaded scenario's title ("lesson: echo")."""
        return self._title

    @property
    def started(self) -> bool:
        """Whether the lecturer has let any of the loaded scenario run (play, or one line with `n`)."""
        return self._started

    def load(self, title: str, lines: list[Line], session: Session, endpoint: Endpoint) -> None:
        """Get the scenario ready to play, paused; any scenario playing before is stopped."""
        from sockviz.core.scenario.player import Player  # with the first lesson: start-up has none to play

        self.stop()

        def narrate(line: int, said: str) -> None:
            self.post_message(Narrated(line, said, player))

        def choose(transport: Transport) -> None:
            self.post_message(TransportChosen(transport, player))

        player = self._player = Player(session, endpoint, narrate, on_transport=choose)
        self._playing, self._steps_allowed, self._started = False, 0, False
        self._title, self._said, self._next_line, self._state = title, "", "", "paused"
        self._lines = lines
        self._position = {line.line: place for place, line in enumerate(lines, start=1)}
        self._at = 1 if lines else 0
        self.display = True
        self._show()
        self.run_worker(partial(self._play, self._player, lines), thread=True, group="scenario",
                        exit_on_error=False, description=title)  # fmt: skip
        self.refresh_bindings()  # the lesson's keys (space, n, +, -) come to the key bar

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, _theme: object) -> None:
        """A new theme (high contrast for a projector) has new colours for the panel's text."""
        if self.loaded:
            self._show()

    def on_unmount(self) -> None:
        """A quit in the middle of a scenario stops its player before the session closes."""
        self.stop()

    def show_lecturers(self, shown: str) -> None:
        """A follower's panel: the lecturer's lesson as the lecturer's panel says it (the keys are theirs)."""
        self.display = bool(shown)
        self._drawn = Text(shown)
        self.update(self._drawn, layout=False)  # its size is the screen's (see _show)

    def start_over(self, *, shown: bool) -> None:
        """A fresh session: no scenario loaded; still shown only if one is about to load (hidden and shown
        again, it would lay the screen out twice)."""
        self.stop()
        self._title, self._said, self._next_line, self._state = "", "", "", "paused"
        self._lines, self._position, self._at, self.shown = [], {}, 0, ""
        self.display = shown

    def stop(self) -> None:
        with self._gate:
            player, self._player = self._player, None
            self._gate.notify_all()
        if player is not None:
            player.stop()
            self.refresh_bindings()  # its keys leave the key bar: after a reset, space played nothing

    @property
    def ahead(self) -> bool:
        """Whether a loaded lesson has lines still to run (it has not ended or stopped)."""
        return self.loaded and not self._state.startswith(("ended", "stopped"))

    def guide(self) -> str:
        """The log's `next:` line while a lesson has lines to run: the lesson's next line, not the guide's own
        idea, which would name other steps than the panel (`b bind()` beside `server option SO_REUSEADDR=1`)."""
        found = {row.action: row.shown_keys for row in rows(self._lesson_bindings())}
        keys = [f"{found[action]} {what}" for action, what in (("play_pause", "plays it"),
                ("step_scenario", "runs just that line")) if action in found]  # fmt: skip
        return "next: the lesson panel's next line" + (f" ({', '.join(keys)})" if keys else "")

    def _over(self) -> bool:
        """Whether the lesson has ended or stopped: then space and n have nothing left to run, and say so (the
        keys line may be cut at 80 columns, and a key that does nothing silently looks broken)."""
        if not self._state.startswith(("ended", "stopped")):
            return False
        restart = next((row.shown_keys for row in rows(self._lesson_bindings()) if row.action == "restart_lesson"), "")
        again = f": {restart} plays it again from its first line" if restart else ""
        now = time.monotonic()
        if now - self._over_told_at < self.app.NOTIFICATION_TIMEOUT:
            return True  # the same notice is still on screen
        self._over_told_at = now
        self.notify(f"the lesson has {self._state.split(':')[0]}{again}", title="nothing left to play")
        return True

    def toggle(self) -> None:
        if self._over():
            return
        with self._gate:
            self._playing = not self._playing
            self._started = True
            self._gate.notify_all()
        if not self._state.startswith(("ended", "stopped")):
            self._state = "playing" if self._playing else "paused"
        self._show()

    def step(self) -> None:
        if self._over():
            return
        with self._gate:
            self._steps_allowed += 1
            self._started = True
            self._gate.notify_all()

    def speed(self, factor: float) -> None:
        if self._player is not None:
            self._player.speed = min(16.0, max(0.25, self._player.speed * factor))
            self._show()

    # ----- in the player's thread ------------------------------------------

    def _play(self, player: Player, lines: list[Line]) -> None:
        from sockviz.core.scenario import lesson_port

        place = lesson_port.place(lines, player.endpoint)  # a held port moves the lesson rather than stop it at bind()
        player.endpoint = place.endpoint  # before its first line, which waits for this thread
        self.post_message(self.Placed(self, place.endpoint, place.moved, player))
        outcome = player.play(lines, before=self._wait_for_turn, holds=self._asks_about)
        end = 0 if outcome.stopped else len(lines) + 1  # a lesson stopped midway keeps its line on show
        self.post_message(ScenarioState(outcome.summary, "", end, player))

    def _asks_about(self, line: StepLine) -> bool:
        """Whether predict mode will ask before this step line: the narration before it waits until it has run
        (the screen may still not ask, for a step the session would refuse: the narration then comes after it)."""
        from sockviz.core.story.predicting import asks

        return self.predicting() and asks(line.step)

    def _wait_for_turn(self, line: Line) -> bool:
        """Before each line: wait while paused; False once the scenario is stopped.

        After narration, a playing lesson pauses for the lecturer, unless a `pace` line set its own pauses."""
        place = self._position.get(line.line, 0)
        player = self._player
        state = None
        with self._gate:
            if player is not None and player.just_said and self._playing and player.pace is None:
                self._playing = False
                state = "paused after the narration"
        self.post_message(ScenarioState(state, line.source, place, player))
        while True:
            with self._gate:
                self._waiting = True
                self._gate.wait_for(lambda: self._player is None or self._playing or self._steps_allowed > 0)
                self._waiting = False
                if self._player is None:
                    return False
                if not self._playing:
                    self._steps_allowed -= 1
            answered = self._predicted(line)
            if self._player is None:
                return False
            if answered is not False:  # answered, or nothing to ask
                return True
            with self._gate:  # no answer: the line does not run, and the lesson waits before it
                self._playing, self._steps_allowed = False, 0
            self.post_message(ScenarioState(NO_ANSWER, line.source, place, player))

    def _predicted(self, line: Line) -> bool | None:
        """Predict mode, before a step line: the screen asks what it will do, and the line waits for the answer.
        True once answered, False if the question was closed unanswered, None when nothing was asked."""
        player = self._player
        from sockviz.core.scenario.language import StepLine  # loaded with the scenario

        if not isinstance(line, StepLine) or player is None or not self.predicting():
            return None
        answer: Future[bool] = Future()
        answer.add_done_callback(lambda _: self._wake())
        self.post_message(ScenarioState("waiting for the prediction", line.source, 0, player))
        self.post_message(self.BeforeStep(self, line, player.args_for(line), player.target_of(line), answer))
        with self._gate:
            self._gate.wait_for(lambda: self._player is None or answer.done())
            playing = self._playing
        if not answer.done():
            return None
        if answer.result():
            self.post_message(ScenarioState("playing" if playing else "paused", line.source, 0, player))
        return answer.result()

    def _wake(self) -> None:
        with self._gate:
            self._gate.notify_all()

    # ----- what it shows ----------------------------------------------------

    def _stale(self, message: Narrated | ScenarioState | TransportChosen) -> bool:
        """A message of a player stopped since (a reset, another lesson): it goes no further, so the old lesson's
        last lines reach neither this panel nor the fresh session's log."""
        if message.player is not None and message.player is not self._player:
            message.stop()
            return True
        return False

    @on(Narrated)
    def _narrated(self, message: Narrated) -> None:
        if self._stale(message):
            return
        self._said = message.text
        self._show()

    @on(TransportChosen)
    def _transport_chosen(self, message: TransportChosen) -> None:
        self._stale(message)  # a current one goes on to the screen

    @on(ScenarioState)
    def _progress(self, message: ScenarioState) -> None:
        if self._stale(message):
            return
        if message.state is not None and not (message.state.startswith("paused") and self._playing):
            self._state = message.state  # (a pause that a later space already ended is not shown)
        self._next_line = message.next_line
        if message.place:
            self._at = message.place
        self._show()

    def on_resize(self, _event: events.Resize) -> None:
        if self.loaded:
            self._show()  # cut again to the room it has now

    def _show(self) -> None:
        aside = ink(self, "scenario-panel--aside")
        head = Text(self._title, style=ink(self, "scenario-panel--title"))
        total = len(self._lines)
        if self._at > total:
            head.append(f"\nall {total} lines played")
        elif self._at:
            head.append(f"\nline {self._at} of {total}")
            in_file = next((number for number, place in self._position.items() if place == self._at), self._at)
            if self._state.startswith("stopped") and in_file != self._at:
                head.append(f" (line {in_file} in the file)")  # the stop's sentence names the file's line
        said = Text(self._said, style=ink(self, "scenario-panel--said"))
        tail = Text()
        if self._next_line:
            tail.append("next: ", style=aside).append(f"{self._next_line}\n")
        speed = self._player.speed if self._player is not None else 1.0
        tail.append(f"{self._state} · speed {speed:g}x", style=aside)
        if self._keys is None:  # the bindings are the app's and the screen's classes': read once, not per line
            self._keys = self.keys_line()
        keys = Text(self._keys, style=aside)
        self.shown = Text("\n").join(part for part in (head, said, tail) if part.plain).plain
        # No layout: the panel's size is the screen's (40 cells, the row's height), never its text's; Static's
        # default laid out the whole screen for every line of a lesson, 20 to 50 ms each at 160x50.
        fitted = Text("\n").join(part for part in self._fitted(head, said, tail, keys) if part.plain)
        if fitted != self._drawn:  # the same words again (a state message that changes nothing) draw nothing
            self._drawn = fitted
            self.update(fitted, layout=False)

    def _fitted(self, head: Text, said: Text, tail: Text, keys: Text) -> tuple[Text, ...]:
        """The panel's parts cut to its room: where the lesson is (`head`) and what comes next (`tail`) always;
        the narration whole if it fits, else its first lines ending in "…"; the keys if room is left."""
        width, height = self.content_region.width, self.content_region.height
        if not width or not height:
            return head, said, tail, keys  # not laid out yet: drawn again, cut, once it has its size
        console = self.app.console

        def lines(text: Text) -> int:
            return len(text.wrap(console, width)) if text.plain else 0

        room = height - lines(head) - lines(tail)
        if lines(said) + lines(keys) <= room:
            return head, said, tail, keys
        if lines(said) <= room:
            return head, said, tail
        if room <= 0:
            return head, tail
        kept = said.wrap(console, width)[:room]
        last = kept[-1]
        last.rstrip()
        if last.cell_len > width - 2:  # no room for " …": the last word goes (never half a word)
            cut = last.plain.rfind(" ", 0, width - 1)
            last.truncate(cut if cut > 0 else width - 2)
            last.rstrip()
        last.append(" …")
        return head, Text("\n").join(kept), tail

    def _lesson_bindings(self) -> list[BindingType]:
        return [*type(self.app).BINDINGS, *type(self.screen).BINDINGS]  # the app's or its screen's

    def keys_line(self) -> str:
        """The keys that drive a lesson, as the app binds them: `space play/pause · n next line · ...`."""
        wanted = ("play_pause", "step_scenario", "speed(2)", "speed(0.5)", "restart_lesson")
        found = {row.action: row for row in rows(self._lesson_bindings()) if row.action in wanted}
        return " · ".join(f"{found[a].shown_keys} {found[a].description}" for a in wanted if a in found)
