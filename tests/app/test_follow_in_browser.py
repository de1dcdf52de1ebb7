"""A student who has only a browser: `sockviz follow --serve`, opened in headless Chromium.

The lecturer's session and its share run in the test's process; the served follower is a real
`sockviz follow ... --serve`, whose tab's app follows the share over loopback.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys

import aiohttp
from helpers import free_port, wait_for
from test_browser import CHROMIUM, CHROMIUM_FLAGS, accepts, needs_chromium, page_opened

from sockviz.core import Session, StepArgs, endpoint, step
from sockviz.share.server import ShareServer


@needs_chromium
async def test_a_follower_in_the_browser_sees_the_lecturers_calls(tmp_path):
    session = Session()
    share = ShareServer("127.0.0.1", 0)
    share.start()
    where = endpoint("127.0.0.1", str(free_port()), socket.AF_INET)
    share.share(session, where)
    web_port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "sockviz", "follow", f"127.0.0.1:{share.port}", "--code", share.code.lower(),
         "--serve", "--port-web", str(web_port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    profile = tmp_path / "profile"
    browser = subprocess.Popen([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        wait_for(lambda: accepts(web_port, server), 15, "sockviz follow --serve to listen")
        active = profile / "DevToolsActivePort"
        wait_for(lambda: active.exists() and len(active.read_text().splitlines()) == 2, 20, "Chromium's DevTools port")
        devtools_port = int(active.read_text().split()[0])
        page = f"http://127.0.0.1:{web_port}/"
        async with aiohttp.ClientSession() as http, page_opened(http, devtools_port, page) as (_, devtools):
            await devtools.until_on_screen("You follow the lecturer")
            for name in ("server-socket", "server-bind", "server-listen"):
                await asyncio.to_thread(session.perform, step(name), StepArgs(endpoint=where))
            await devtools.until_on_screen("s.listen()")
            assert share.followers == 1
    finally:
        browser.kill()
        server.terminate()
        try:
            server.wait(timeout=10)
        finally:
            server.kill()
        browser.wait(timeout=10)
        share.stop()
        session.close()
