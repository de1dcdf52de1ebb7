"""Random use of the whole app: keys, clicks, field values and views, thousands of actions over several seeds.

Fails on any exception that reaches Textual (run_test raises it), on any fault the app caught
of its own (`app.faults`), on a hang (the test's timeout), and on an fd or a thread left once
the app has quit. Clickable things are found generically: every Button on the screen, each
step by its catalogue id, and random points of the screen, so the test does not depend on how
the panes draw their steps.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import threading
import traceback

import pytest
from helpers import free_port, open_fds, wait_for
from textual import events
from textual.geometry import Offset
from textual.keys import _character_to_key
from textual.pilot import _get_mouse_message_arguments
from textual.widget import Widget
from textual.widgets import Button, Input

from sockviz.app import SockvizApp
from sockviz.core import STEPS
from sockviz.core.scenario import lessons

SEEDS = (1, 2, 3, 4)
ACTIONS = 500
"""Per seed: 2,000 actions in all, about a minute of the suite on this machine."""
SIZE = (130, 40)

VIEW_KEYS = ("t", "w", "f2", "6", "f1", "question_mark", "ctrl+p", "escape")
OTHER_KEYS = ("escape", "tab", "shift+tab", "up", "down", "left", "right", "enter", "space", "n", "plus", "minus",
              "pageup", "pagedown", "home", "end", "ctrl+left", "x", "q", "1", "delete")  # fmt: skip


def field_values(input_id: str, port: int) -> list[str]:
    """Good and bad values for a field. Hosts stay on loopback, and no bad host is a name that would
    be looked up on a name server: tests reach nothing but this machine."""
    if input_id == "host":
        return ["127.0.0.1", "::1", "localhost", "", "a b", "127.0.0.1:80", "[::1]", "!!", " 127.0.0.1 ", "::ffff:zz"]
    if input_id == "port":
        return [str(port), str(port), str(port + 1), "", "0", "65536", "-1", "http", "80x", "１２３"]
    if input_id.endswith("burst-count"):
        return ["1", "3", "12", "0", "1001", "x", "", "2.5"]
    if input_id.endswith("backlog"):
        return ["", "0", "1", "5", "4097", "-3", "many"]
    if input_id.endswith(("size", "expect")):
        return ["", "10", "1k", "64k", "1M", "0", "-5", "10G", "1.5M", "lots"]
    if input_id.endswith("option-value"):
        return ["1", "0", "4096", "-1", "x", "", "99999999999", "1, 0"]
    # a message: text from the user's keyboard, good or odd
    return ["hello", "", "Hello, Wireshark. You are an amazing tool!", "\\x00\\xff", "[bold]markup?[/]", "é ü 🙂",
            "x" * 300, "line\nbreak", "\x1b[31mred", "{sock}"]  # fmt: skip


def thread_names() -> set[str]:
    return {thread.name for thread in threading.enumerate()}


@pytest.fixture
def loopback_only(monkeypatch):
    """listen() on a socket with no address binds every interface; random keys may do just that. Here
    such a socket is first bound to loopback (an ephemeral port), so the test reaches nothing but this
    machine: the calls, their errors and the app's handling of them are otherwise real."""
    listen = socket.socket.listen

    def on_loopback_listen(sock: socket.socket, *args: int) -> None:
        try:
            unbound = sock.getsockname()[1] == 0
        except OSError:
            unbound = False
        if unbound:
            with contextlib.suppress(OSError):  # the real listen() below then says what is wrong
                sock.bind(("::1" if sock.family == socket.AF_INET6 else "127.0.0.1", 0))
        listen(sock, *args)

    monkeypatch.setattr(socket.socket, "listen", on_loopback_listen)


class RandomUser:
    """One user's random actions against the running app."""

    def __init__(self, app: SockvizApp, pilot, seed: int, port: int) -> None:
        self.app = app
        self.pilot = pilot
        self.random = random.Random(seed)
        self.port = port
        self.done: list[str] = []

    async def act(self) -> None:
        roll = self.random.random()
        if roll < 0.35:
            await self.run_a_step()
        elif roll < 0.47:
            await self.click_somewhere()
        elif roll < 0.55:
            await self.click_a_button()
        elif roll < 0.75:
            await self.type_a_value()
        elif roll < 0.87:
            await self.press(self.random.choice(VIEW_KEYS))
        elif roll < 0.97:
            await self.press(self.random.choice(OTHER_KEYS))
        else:
            name = self.random.choice(lessons.names())
            self.done.append(f"load lesson {name}")
            self.app.load_lesson(name)
            await self.press(self.random.choice(("space", "n", "n")))

    async def press(self, key: str) -> None:
        """Send the key as a terminal's driver would and go on, without Pilot's wait for an idle CPU after
        each key (about 0.1 s on a busy machine): a user does not wait either. `settle` waits now and then."""
        self.done.append(f"press {key}")
        if len(key) == 1 and not key.isalnum():
            key = _character_to_key(key)
        event = events.Key(key, key if len(key) == 1 else None)
        event.set_sender(self.app)
        self.app.post_message(event)
        await asyncio.sleep(0)

    async def click(self, widget: Widget, offset: tuple[int, int] = (0, 0)) -> None:
        """Press and release as the terminal's driver sends them, at once (Pilot waits for an idle CPU
        between them); the app makes the click of them, as it does in a terminal. A widget scrolled out
        of sight is not clicked."""
        arguments = _get_mouse_message_arguments(widget, Offset(*offset), button=1)
        if Offset(arguments["x"], arguments["y"]) not in self.app.screen.size.region:
            return
        for kind in (events.MouseDown, events.MouseUp):
            event = kind(**arguments)
            event.set_sender(self.app)
            self.app.post_message(event)
        await asyncio.sleep(0)

    async def settle(self) -> None:
        await self.pilot.pause()

    async def run_a_step(self) -> None:
        """A step from the catalogue: by its key, or by clicking its widget (found by the step's id)."""
        chosen = self.random.choice(STEPS)
        widgets = self.app.screen.query(f"#{chosen.id}")
        if widgets and self.random.random() < 0.5:
            self.done.append(f"click #{chosen.id}")
            await self.click(widgets.first())
        else:
            await self.press(chosen.key)

    async def click_somewhere(self) -> None:
        width, height = self.app.screen.size
        x, y = self.random.randrange(width), self.random.randrange(height)
        self.done.append(f"click at {x},{y}")
        await self.click(self.app.screen, (x, y))

    async def click_a_button(self) -> None:
        buttons = [button for button in self.app.screen.query(Button) if button.region.area]
        if buttons:
            button = self.random.choice(buttons)
            self.done.append(f"click button {button.id or button.label}")
            await self.click(button)

    async def type_a_value(self) -> None:
        fields = [field for field in self.app.screen.query(Input) if field.id and not field.disabled]
        if not fields:
            return
        field = self.random.choice(fields)
        value = self.random.choice(field_values(field.id or "", self.port))
        self.done.append(f"type {value!r} into #{field.id}")
        field.focus()
        field.value = value
        await self.press(self.random.choice(("enter", "tab", "escape")))

    def check(self) -> None:
        faults = [fault for fault in self.app.faults if not textual_bug(fault)]
        assert not faults, (faults[0].text, self.done[-12:])


KNOWN_TEXTUAL_BUGS = {
    ("action command_list('page_down')", "KeyError"),
    ("action command_list('page_up')", "KeyError"),
    ("action page_down", "KeyError"),
    ("action page_up", "KeyError"),
    ("MouseDown event", "AttributeError"),
}
"""Faults inside Textual itself (8.2): page down or up in an option list (the command palette's, a Select's)
whose lines are not counted yet (`OptionList._move_page` reads `_index_to_line` before `_update_lines` fills
it: KeyError 0); a mouse press starting a text selection on a widget that is being taken down (it has no parent).
The app reports them and goes on, which is what this test checks; they are not sockviz's to fix, and
each counts only if it was raised inside Textual's own code."""


def textual_bug(fault) -> bool:
    raised_in = traceback.extract_tb(fault.error.__traceback__)[-1].filename
    return (fault.where, type(fault.error).__name__) in KNOWN_TEXTUAL_BUGS and "/textual/" in raised_in


@pytest.mark.timeout(120)
@pytest.mark.parametrize("seed", SEEDS)
async def test_random_use_never_crashes_hangs_or_leaks(seed, tmp_path, monkeypatch, loopback_only):
    monkeypatch.chdir(tmp_path)  # exports and pictures land here
    fds, threads = open_fds(), thread_names()
    port = free_port()
    app = SockvizApp(port=port)
    async with app.run_test(size=SIZE) as pilot:
        user = RandomUser(app, pilot, seed, port)
        for number in range(ACTIONS):
            await user.act()
            if number % 25 == 0:
                await user.settle()
                user.check()
        user.check()
        # As a terminal sends it: Pilot's press would then wait for every animation to end, and a pane's
        # scroll that began under a modal screen (help) stops with the app's timers: the test, not the
        # app, would wait for ever.
        await user.press("ctrl+q")
    user.check()
    assert all(tracked.closed for tracked in app.session.sockets)
    wait_for(lambda: open_fds() <= fds, 5, f"every fd to close (left: {sorted(open_fds() - fds)})")
    wait_for(lambda: thread_names() <= threads, 5, f"every thread to end (left: {sorted(thread_names() - threads)})")
