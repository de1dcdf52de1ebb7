"""`textual run --dev` works: with the devtools console connected, Textual logs every message it
dispatches through `App._log`, which an attribute of ours named `_log` once replaced (and broke)."""

from __future__ import annotations

import io

import pytest
from conftest import LISTENING, lecture
from helpers import free_port
from rich.console import Console

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
