from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator

import pytest
from helpers import PATIENCE, Recorder, free_port, until
from textual import events
from textual.pilot import Pilot

from sockviz.app import SockvizApp
from sockviz.core import Event, StepBlocked, StepFinished, StepRefused, step
from sockviz.messages import SessionEvents

WAITS = {"finish": StepFinished, "block": StepBlocked}
LISTENING = ("server-socket", "server-bind", "server-listen")
CONNECTED = (*LISTENING, "client-socket", "client-connect")
"""Connected, and waiting in the listener's queue: accept() has not run."""


class Lecture:
    """Drives the app as a lecturer does (clicks and keys) and waits for what the UI is told."""

    def __init__(self, app: SockvizApp, pilot: Pilot, delivered: list[SessionEvents]) -> None:
        self.app = app
        self.pilot = pilot
        self.events = Recorder(app.session)
        self._messages = delivered

    @property
    def delivered(self) -> list[Event]:
        """Every event the screen has been handed so far, in order: the events of each `SessionEvents` message
        it has begun to handle (one message carries all the events that came while it waited)."""
        return [event for message in self._messages for event in message.events]

    async def until(self, condition, what: str, timeout: float = 5.0) -> None:
        await until(self.pilot, condition, what, timeout)

    async def play_to_the_end(self, timeout: float = 15) -> str:
        """Play the loaded lesson as a lecturer does: space, and space again after each narration it pauses
        at, until it ends; what the lesson panel says then."""

        def panel() -> str:
            found = self.app.screen.query("#narration")
            return str(found.first().render()) if found else ""

        await self.pilot.press("space")
        while True:
            await self.until(lambda: "paused after" in panel() or "ended" in panel() or "stopped" in panel(),
                             "a pause or the end", timeout)  # fmt: skip
            if "ended" in panel() or "stopped" in panel():
                return panel()
            await self.pilot.press("space")

    async def settled(self, timeout: float = 5.0) -> None:
        """Every worker started so far (a step's call among them) has ended, so all it would tell is told:
        what has not happened by then was never started."""
        await asyncio.wait_for(self.app.workers.wait_for_complete(), timeout * PATIENCE)  # a wait, not a limit

    def note(self, field: str) -> str:
        """What a field says under itself: its reason for refusing a value, or a lookup's result (a field
        that has said nothing yet has no note)."""
        said = self.app.query(f"#{field}-field .field-note")
        return str(said.first().render()) if said else ""

    async def _do(self, step_id: str, by_key: bool, wait_for: str) -> Event:
        """Run a step and wait until its event (finish, block or refusal) has reached the UI."""
        kind = WAITS[wait_for]
        before = len(self.delivered)

        def arrived() -> list[Event]:
            return [
                e
                for e in self.delivered[before:]
                if (isinstance(e, kind) and e.call.step.id == step_id)
                or (isinstance(e, StepRefused) and e.step.id == step_id)
            ]

        if by_key:
            await self.pilot.press(step(step_id).key)
        else:
            await self.click_line(step_id)
        await self.until(arrived, f"{step_id} to {wait_for}")
        await self.pilot.pause()
        # Events ask for a refresh ten times a second at most: wait for the one this event asked for.
        await self.until(lambda: not self.app.session_screen.refresh_due, "the screen to show it")
        return arrived()[0]

    async def click_line(self, step_id: str) -> None:
        """Click a step's button, as a mouse does; wait for nothing but the button being ready for it:
        a Button ignores clicks while it shows the last one (its `-active` class, 0.2 s)."""
        button = self.app.query_one(f"#{step_id}")
        await self.until(lambda: not button.has_class("-active"), f"{step_id} to take a click again")
        assert await self.pilot.click(f"#{step_id}")

    async def click(self, step_id: str, wait_for: str = "finish") -> Event:
        return await self._do(step_id, False, wait_for)

    async def press(self, step_id: str, wait_for: str = "finish") -> Event:
        return await self._do(step_id, True, wait_for)

    async def press_all(self, *step_ids: str) -> None:
        """Run steps that return at once, one after the other, by their keys."""
        for step_id in step_ids:
            await self.press(step_id)

    def log_text(self) -> str:
        """The log as written: one line per entry, with the lines that wrapping made joined again."""
        entries: list[str] = []
        for line in self.app.query_one("#log").lines:
            text = line.text.rstrip()
            if re.match(r"^\s*\d+\.\d{3} ", text) or not entries:
                entries.append(text.strip())
            else:
                entries[-1] += " " + text.strip()
        return "\n".join(entries)

    def cell(self, name: str, column: str) -> str:
        table = self.app.query_one("#sockets")
        for tracked in self.app.session.sockets:
            if tracked.name == name:
                return str(table.get_cell(str(tracked.id), column))
        raise KeyError(name)


@contextlib.asynccontextmanager
async def lecture(app: SockvizApp, size: tuple[int, int] = (140, 44)) -> AsyncIterator[Lecture]:
    delivered: list[SessionEvents] = []

    def hear(message: object) -> None:
        if isinstance(message, SessionEvents):
            delivered.append(message)

    async with app.run_test(size=size, message_hook=hear) as pilot:
        yield Lecture(app, pilot, delivered)


SCREEN_WAIT = 30.0
"""Textual's own wait (Pilot._wait_for_screen) for every widget to work through the messages queued so far, in
seconds: Pilot's press, click and pause each make it, and it raises WaitForScreenTimeout when it runs out."""


@pytest.fixture(autouse=True)
def patient_pilot(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pilot's fixed 30 s wait is a timed assertion in disguise: on a machine at a load of ~100, a test with 64
    calls blocked (128 events, a table of 129 rows four times a second) once ran out of it and failed with
    WaitForScreenTimeout. It gets the patience of every other wait here (helpers.PATIENCE); pytest's own timeout
    still ends a test that hangs."""
    waits = Pilot._wait_for_screen

    async def patient(self: Pilot, timeout: float = SCREEN_WAIT * PATIENCE) -> bool:
        return await waits(self, timeout)

    monkeypatch.setattr(Pilot, "_wait_for_screen", patient)


@pytest.fixture
def port() -> int:
    return free_port()


def quit_as_a_terminal_does(app: SockvizApp) -> None:
    """ctrl+q sent as a terminal's driver sends it. Pilot's press would first wait (30 s at most) for every
    widget to work through the messages queued so far, and a thousand clients connecting queue many: that
    wait once ran out in CI (Pilot gave up, the test failed), and with 64 calls blocked at a load of ~100 too.
    Worse, the app may take the quit before Pilot asks every widget to say it is done: Textual's exit queues
    the app's last message without closing its queue, and a word asked of the app after that is never answered,
    so Pilot waits its whole timeout (read in Textual 8.2.8's App._on_exit_app, not seen here). A user's
    ctrl+q waits for no queue; what these tests check is that the app then ends (leaving the `async with`
    waits for it) and leaves nothing."""
    event = events.Key("ctrl+q", None)
    event.set_sender(app)
    app.post_message(event)
