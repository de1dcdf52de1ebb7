"""A student who has only a browser: `sockviz follow --serve`, opened in headless Chromium.

The lecturer's session and its share run in the test's process; the served follower is a real
`sockviz follow ... --serve`, whose tab's app follows the share over loopback.
"""

from __future__ import annotations

import asyncio

import aiohttp
from test_browser import needs_chromium, page_opened, served_to_chromium

from sockviz.core import step


@needs_chromium
async def test_a_follower_in_the_browser_sees_the_lecturers_calls(tmp_path, shared):
    session, share, args = shared
    follow = ("follow", f"127.0.0.1:{share.port}", "--code", share.code.lower())
    with served_to_chromium(tmp_path, *follow) as (page, devtools_port, _server):
        async with aiohttp.ClientSession() as http, page_opened(http, devtools_port, page) as (_, devtools):
            await devtools.until_on_screen("You follow the lecturer")
            for name in ("server-socket", "server-bind", "server-listen"):
                await asyncio.to_thread(session.perform, step(name), args)
            await devtools.until_on_screen("s.listen()")
            assert share.followers == 1
