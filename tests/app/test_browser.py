"""Browser mode: `sockviz --serve` opened in a real headless Chromium, driven over the DevTools protocol.

The page's own script draws the terminal on a canvas, so the test reads what the
app sent instead: a small script, added before the page loads, keeps a copy of
every frame the page's websocket receives. The test then types a key into the
page and waits for the real socket() call to come back on screen.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from helpers import free_port, wait_for

CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")

KEEP_FRAMES = """
(() => {
  const Native = window.WebSocket;
  const decoder = new TextDecoder();
  window.__screen = "";
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => {
        window.__screen += typeof event.data === "string" ? event.data : decoder.decode(event.data, {stream: true});
      });
    }
  };
})();
"""
"""Copies what the app sends, as the page receives it, into `window.__screen`."""

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,900",
    "--remote-debugging-port=0",
]


def accepts(port: int, process: subprocess.Popen) -> bool:
    """Whether something accepts connections on the port; the process must still be running."""
    assert process.poll() is None, f"exited early with {process.returncode}"
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


class DevTools:
    """Just enough of the Chrome DevTools protocol: send a command, await its answer."""

    def __init__(self, websocket: aiohttp.ClientWebSocketResponse) -> None:
        self.websocket = websocket
        self._ids = itertools.count(1)

    async def __call__(self, method: str, **params: object) -> dict:
        request = next(self._ids)
        await self.websocket.send_json({"id": request, "method": method, "params": params})
        async for message in self.websocket:
            answer = json.loads(message.data)
            if answer.get("id") == request:
                assert "error" not in answer, answer
                return answer["result"]
        raise AssertionError("DevTools closed the connection")

    async def screen(self) -> str:
        result = await self("Runtime.evaluate", expression="window.__screen || ''", returnByValue=True)
        return result["result"]["value"]

    async def until_on_screen(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = await self.screen()
            if text in screen:
                return screen
            await asyncio.sleep(0.1)
        raise AssertionError(f"{text!r} never reached the page")


@contextlib.asynccontextmanager
async def page_opened(http: aiohttp.ClientSession, devtools_port: int, url: str) -> AsyncIterator[tuple[str, DevTools]]:
    """The browser's tab sent to the page, with every frame the app sends kept: the tab's DevTools id, and
    DevTools on it while the block lasts."""
    async with http.get(f"http://127.0.0.1:{devtools_port}/json/list") as answer:
        page = next(target for target in await answer.json() if target["type"] == "page")
    async with http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as websocket:
        devtools = DevTools(websocket)
        await devtools("Page.enable")
        await devtools("Page.addScriptToEvaluateOnNewDocument", source=KEEP_FRAMES)
        await devtools("Page.navigate", url=url)
        yield page["id"], devtools


@pytest.fixture
def served(serving):
    url, devtools_port, socket_port, _server = serving
    return url, devtools_port, socket_port


@pytest.fixture
def serving(tmp_path):
    """sockviz --serve on a free web port, and a headless Chromium with its DevTools port; and the server."""
    socket_port = free_port()
    with served_to_chromium(tmp_path, "--port", str(socket_port)) as (url, devtools_port, server):
        yield url, devtools_port, socket_port, server


@contextlib.contextmanager
def served_to_chromium(tmp_path: Path, *argv: str) -> Iterator[tuple[str, int, subprocess.Popen]]:
    """`python -m sockviz ARGV --serve` on a free web port, and a headless Chromium with its DevTools port:
    the page's address, the DevTools port and the server. Both end with the block, the server by SIGTERM
    (then SIGKILL if it has not ended 10 s later)."""
    web_port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "sockviz", *argv, "--serve", "--port-web", str(web_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    profile = tmp_path / "profile"
    browser = subprocess.Popen([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        wait_for(lambda: accepts(web_port, server), 15, f"sockviz {' '.join(argv)} --serve to listen")
        active = profile / "DevToolsActivePort"
        wait_for(lambda: active.exists() and len(active.read_text().splitlines()) == 2, 20, "Chromium's DevTools port")
        yield f"http://127.0.0.1:{web_port}/", int(active.read_text().split()[0]), server
    finally:
        browser.kill()
        server.terminate()
        try:
            server.wait(timeout=10)
        finally:
            server.kill()
        browser.wait(timeout=10)


@needs_chromium
async def test_the_served_app_renders_in_chromium_and_takes_keys(served):
    url, devtools_port, socket_port = served
    async with aiohttp.ClientSession() as http, page_opened(http, devtools_port, url) as (_, devtools):
        screen = await devtools.until_on_screen("accept()")  # the server pane's steps
        assert "connect()" in screen
        first_byte = await devtools("Runtime.evaluate", returnByValue=True,
                                    expression="document.body.classList.contains('-first-byte')")  # fmt: skip
        assert first_byte["result"]["value"], "the page's script did not take the app's output"

        # A key typed into the page runs the real step in the served app, and its line comes back.
        await devtools("Runtime.evaluate", expression="document.querySelector('.xterm-helper-textarea').focus()")
        await devtools("Input.insertText", text="s")
        await devtools.until_on_screen("socket.socket(socket.AF_INET")
        await devtools("Input.insertText", text="b")
        await devtools.until_on_screen(f"s.bind(('127.0.0.1', {socket_port}))")

        shot = await devtools("Page.captureScreenshot", format="png")
        assert len(shot["data"]) > 10_000  # a real picture of the page, not an empty one


def test_every_tab_runs_sockviz_with_the_same_options():
    from sockviz.cli import _app_argv, parse_args
    from sockviz.core import Side

    args = parse_args(["--serve", "--port", "40000", "-6", "--lesson", "ipv6", "--port-web", "8080"])
    assert _app_argv(args, None) == ["--port", "40000", "-6", "--lesson", "ipv6"]
    args = parse_args(["--serve", "--host", "127.0.0.1", "--port", "40001"])
    assert _app_argv(args, Side.SERVER) == ["server", "--port", "40001", "--host", "127.0.0.1"]


@pytest.mark.parametrize("wildcard", ["0.0.0.0", "::"])
def test_a_wildcard_web_address_is_refused_with_its_reason(wildcard):
    done = subprocess.run([sys.executable, "-m", "sockviz", "--serve", "--host-web", wildcard],
                          capture_output=True, text=True, timeout=30)  # fmt: skip
    assert done.returncode == 2
    assert "a browser cannot connect to" in done.stderr


def tab_apps(server: subprocess.Popen) -> list[int]:
    """The apps the server runs for its tabs: its children (each one is `exec`ed), as the kernel lists them."""
    from sockviz.serve import children

    return children(server.pid)


def gone(pid: int) -> bool:
    """Whether the process has ended (a zombie not yet reaped by its parent counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):  # reaped before the open, or between the open and the read
        return True


async def open_tab(http: aiohttp.ClientSession, devtools_port: int, url: str) -> str:
    """Open the page in the browser's tab and wait for the app to draw; the tab's DevTools id."""
    async with page_opened(http, devtools_port, url) as (page_id, devtools):
        await devtools.until_on_screen("accept()")
    return page_id


@needs_chromium
async def test_closing_the_tab_ends_its_app(serving):
    """A tab's app once lived on at 95% CPU after its tab closed."""
    url, devtools_port, _socket_port, server = serving
    async with aiohttp.ClientSession() as http:
        page = await open_tab(http, devtools_port, url)
        (app,) = tab_apps(server)
        async with http.get(f"http://127.0.0.1:{devtools_port}/json/close/{page}") as answer:
            assert answer.status == 200
        wait_for(lambda: gone(app), 10, "the tab's app to end")
    assert server.poll() is None, "the server goes on serving other tabs"


@needs_chromium
@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
async def test_stopping_the_server_ends_every_app_it_started(serving, how):
    """Ctrl+C (SIGINT), SIGTERM, or even SIGKILL of `sockviz --serve`: no tab's app outlives it."""
    url, devtools_port, _socket_port, server = serving
    async with aiohttp.ClientSession() as http:
        await open_tab(http, devtools_port, url)
        apps = tab_apps(server)
        assert len(apps) == 1
        server.send_signal(how)
        wait_for(lambda: server.poll() is not None, 10, "the server to end")
        wait_for(lambda: all(gone(app) for app in apps), 10, "every tab's app to end")
