"""`textual run --dev` works: with the devtools console connected, Textual logs every message it
dispatches through `App._log`, which an attribute of ours named `_log` once replaced (and broke)."""

from __future__ import annotations

import inspect
import io
from functools import cached_property

import pytest
from conftest import LISTENING, lecture
from helpers import free_port
from rich.console import Console
from textual._compat import cached_property as textual_cached_property  # Textual's own, before 3.12
from textual.app import App
from textual.widgets.select import NoSelection

from sockviz.app import SockvizApp

pytest.importorskip("textual_dev", reason="textual-dev is in the test extras: pip install -e '.[test]'")

from aiohttp import web
from textual_dev.client import DevtoolsClient
from textual_dev.server import _make_devtools_aiohttp_app


@pytest.mark.filterwarnings("ignore:It is recommended to use web.AppKey")  # textual-dev's own server code
async def test_the_app_runs_steps_with_the_devtools_console_connected(port):
    """The console `textual console` runs, on loopback; the app connects to it as `textual run --dev` does."""
    console_port = free_port()
    server = _make_devtools_aiohttp_app(port=console_port)
    printed = io.StringIO()
    server["service"].console = Console(file=printed, width=200, color_system=None)
    runner = web.AppRunner(server)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", console_port).start()
    try:
        app = SockvizApp(port=port)
        app.devtools = DevtoolsClient("127.0.0.1", console_port)
        async with lecture(app) as lect:
            assert app.devtools.is_connected
            await lect.press_all(*LISTENING, "client-socket", "client-connect", "server-accept")
            app.log("sockviz devtools check")
            await lect.until(lambda: "sockviz devtools check" in printed.getvalue(), "the console to print a log")
        assert "SessionEvent" in printed.getvalue()  # Textual's own event logging went through too
    finally:
        await runner.cleanup()


LAZY = (cached_property, textual_cached_property)
NEEDS = {
    "Select": ([],),
    "SelectCurrent": ("",),
    "CollapsibleTitle": {"label": "", "collapsed_symbol": "", "expanded_symbol": "", "collapsed": True},
}
"""What a bare Textual widget needs to be made, where it needs anything."""
"""Attributes that fill themselves in on first use: they are Textual's, not ours."""


def _textual_base(cls: type) -> type:
    return next(k for k in cls.__mro__ if k.__module__.startswith("textual"))


async def test_no_attribute_of_ours_replaces_one_of_textuals(port):
    """The app, its screen and every widget of ours, after a few steps: each attribute our code set on
    them is either new to Textual or of the same kind as Textual's own, a subclass included (`_log` was a method of App,
    `_name` a string of Widget: both were replaced, and the devtools log broke)."""
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.press_all(*LISTENING, "client-socket", "client-connect", "server-accept")
        await lect.pilot.press("t", "w", "v")
        nodes = [app, *app.screen.walk_children(with_self=True)]
        clashes = []
        for node in nodes:
            if not type(node).__module__.startswith("sockviz"):
                continue
            base = _textual_base(type(node))
            needs = NEEDS.get(base.__name__, ())
            bare = vars(App() if base.__name__ == "App" else base(**needs) if isinstance(needs, dict) else base(*needs))
            inherited = {name for klass in base.__mro__ for name in vars(klass)}
            lazy = {name for name in inherited if isinstance(inspect.getattr_static(base, name), LAZY)}
            private = tuple(f"_{klass.__name__}__" for klass in base.__mro__)  # Textual's own, name-mangled
            for name, value in vars(node).items():
                if name.startswith(private):
                    continue
                if name in bare:
                    theirs = bare[name]
                    if isinstance(theirs, NoSelection):  # a Select's "nothing chosen", where a chosen value goes
                        continue
                    other_kind = theirs is not None and value is not None and not isinstance(value, type(theirs))
                    if other_kind or (callable(value) and not callable(theirs)):  # WirePane._name was a method
                        clashes.append(f"{type(node).__name__}.{name}")
                elif name in inherited and name not in lazy:  # a cached_property fills itself in
                    clashes.append(f"{type(node).__name__}.{name}")
        assert not clashes
