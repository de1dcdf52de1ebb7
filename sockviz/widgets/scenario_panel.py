"""A scenario played in the app: its narration beside the log, and the controls that pace it.

The player runs in a thread worker and asks, before each line, whether it may go on:
it waits while the panel is paused, goes one line per step, and stops when the panel
does (a quit in the middle of a ten-minute pause returns at once).
"""

from __future__ import annotations

import threading
from functools import partial
from typing import Unpack

from rich.text import Text
from textual import on
from textual.widgets import Static

from sockviz.core import Endpoint, Session
from sockviz.core.scenario.language import Line
from sockviz.core.scenario.player import Player
from sockviz.messages import Narrated, ScenarioState
from sockviz.widgets.options import WidgetOptions


class ScenarioPanel(Static):
    """Shown while a scenario is loaded."""

    def __init__(self, **kwargs: Unpack[WidgetOptions]) -> None:
        super().__init__("", **kwargs)
        self._player: Player | None = None
        self._gate = threading.Condition()
        self._playing = False
        self._steps_allowed = 0
        self._title = ""
        self._said = ""
        self._next_line = ""
        self._state = "paused"

    @property
    def loaded(self) -> bool:
        return self._player is not None

    def load(self, title: str, lines: list[Line], session: Session, endpoint: Endpoint) -> None:
        """Get the scenario ready to play, paused; any scenario playing before is stopped."""
        self.stop()
        self._player = Player(session, endpoint, lambda line, said: self.post_message(Narrated(line, said)))
        self._playing, self._steps_allowed = False, 0
        self._title, self._said, self._next_line, self._state = title, "", "", "paused: space plays"
        self.display = True
        self._show()
        self.run_worker(partial(self._play, self._player, lines), thread=True, group="scenario",
                        exit_on_error=False, description=title)  # fmt: skip

    def on_unmount(self) -> None:
        """A quit in the middle of a scenario stops its player before the session closes."""
        self.stop()

    def stop(self) -> None:
        with self._gate:
            player, self._player = self._player, None
            self._gate.notify_all()
        if player is not None:
            player.stop()

    def toggle(self) -> None:
        with self._gate:
            self._playing = not self._playing
            self._gate.notify_all()
        self._state = "playing" if self._playing else "paused"
        self._show()

    def step(self) -> None:
        with self._gate:
            self._steps_allowed += 1
            self._gate.notify_all()

    def speed(self, factor: float) -> None:
        if self._player is not None:
            self._player.speed = min(16.0, max(0.25, self._player.speed * factor))
            self._show()

    # ----- in the player's thread ------------------------------------------

    def _play(self, player: Player, lines: list[Line]) -> None:
        outcome = player.play(lines, before=self._wait_for_turn)
        self.post_message(ScenarioState(outcome.summary, ""))

    def _wait_for_turn(self, line: Line) -> bool:
        """Before each line: wait while paused; False once the scenario is stopped."""
        self.post_message(ScenarioState(None, line.source))
        with self._gate:
            self._gate.wait_for(lambda: self._player is None or self._playing or self._steps_allowed > 0)
            if self._player is None:
                return False
            if not self._playing:
                self._steps_allowed -= 1
            return True

    # ----- what it shows ----------------------------------------------------

    @on(Narrated)
    def _narrated(self, message: Narrated) -> None:
        self._said = message.text
        self._show()

    @on(ScenarioState)
    def _progress(self, message: ScenarioState) -> None:
        if message.state is not None:
            self._state = message.state
        self._next_line = message.next_line
        self._show()

    def _show(self) -> None:
        text = Text()
        text.append(f"{self._title}\n", style="bold")
        if self._said:
            text.append(f"{self._said}\n", style="italic")
        if self._next_line:
            text.append("next: ", style="dim").append(f"{self._next_line}\n")
        speed = self._player.speed if self._player is not None else 1.0
        text.append(f"{self._state} · speed {speed:g}x", style="dim")
        text.append("\nspace play/pause · n one step · + / - speed", style="dim")
        self.update(text)
