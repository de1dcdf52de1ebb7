"""`sockviz follow`'s end of the share: connect with the join code, hand on every frame, send an answer.

aiohttp's websocket client, on whichever event loop runs it: the follower app's own, or a headless
follower's in the benchmark. Frames come as decoded JSON objects, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable

import aiohttp

from sockviz.share.protocol import PROTOCOL_VERSION, answer_frame

MAX_LECTURER_FRAME = 64 * 1024 * 1024
"""The biggest frame taken from the lecturer: a late follower's first picture of a thousand sockets is
about half a megabyte."""


class Refused(Exception):
    """The share could not be followed: the reason, in words for the follower's terminal."""


class Connection:
    """One follower's connection to a shared session: each frame (lines of text) goes to `on_frame`."""

    def __init__(self, url: str, on_frame: Callable[[str], None]) -> None:
        self.url = url
        self.on_frame = on_frame
        self._websocket: aiohttp.ClientWebSocketResponse | None = None
        self.frames = 0

    async def run(self) -> str:
        """Follow until the lecturer stops; why it ended, in words. Raises Refused if it never began."""
        try:
            async with (
                aiohttp.ClientSession() as http,
                http.ws_connect(self.url, max_msg_size=MAX_LECTURER_FRAME, heartbeat=30, autoping=True) as websocket,
            ):
                self._websocket = websocket
                while True:
                    message = await websocket.receive()
                    if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED):
                        said = message.extra if isinstance(message.extra, str) else ""
                        return said or "the lecturer stopped sharing"
                    if message.type is aiohttp.WSMsgType.ERROR:
                        return f"the connection broke: {message.data}"
                    if message.type is not aiohttp.WSMsgType.TEXT:
                        continue
                    if not self.frames:
                        _check_hello(message.data)
                    self.frames += 1
                    self.on_frame(message.data)
        except aiohttp.WSServerHandshakeError as error:
            if error.status == 403:
                raise Refused("the join code is wrong: ask the lecturer for it (--code)") from None
            raise Refused(f"the share answered {error.status} {error.message}") from None
        except (aiohttp.ClientConnectorError, OSError) as error:
            raise Refused(f"nobody shares a session there: {error}") from None
        finally:
            self._websocket = None

    def answer(self, question: int, choice: str) -> None:
        """Send an answer to the open question (from the loop that runs `run`)."""
        websocket = self._websocket
        if websocket is not None and not websocket.closed:
            task = asyncio.get_running_loop().create_task(websocket.send_str(answer_frame(question, choice)))
            task.add_done_callback(lambda done: done.cancelled() or done.exception())

    async def close(self) -> None:
        websocket = self._websocket
        if websocket is not None:
            with contextlib.suppress(Exception):
                await websocket.close()


def _check_hello(frame: str) -> None:
    """The first line is the share's hello, of this protocol's version; anything else is not followed."""
    try:
        hello = json.loads(frame.split("\n", 1)[0])
    except ValueError:
        hello = None
    if not isinstance(hello, dict) or hello.get("share") != "hello":
        raise Refused("that address answers, but not as a sockviz share")
    if hello.get("version") != PROTOCOL_VERSION:
        raise Refused(f"the lecturer's sockviz speaks share protocol {hello.get('version')}, this one "
                      f"{PROTOCOL_VERSION}: use the same sockviz version")  # fmt: skip
