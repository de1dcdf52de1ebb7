"""`sockviz follow`'s end of the share: connect with the join code, hand on every frame, send an answer.

aiohttp's websocket client, on whichever event loop runs it: the follower app's own, or a headless
follower's in the benchmark. Frames come as text (lines of the session format and the share's own), in
order. `Following` outlives a lost connection: it joins again by itself, waiting longer after each failed
try, and says so; each join begins with the state so far, so the follower's screen is whole again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable

import aiohttp

from sockviz.share.protocol import PROTOCOL_VERSION, STOPPED, answer_frame

MAX_LECTURER_FRAME = 64 * 1024 * 1024
"""The biggest frame taken from the lecturer: a late follower's first picture of a thousand sockets is
about half a megabyte."""
FIRST_RETRY = 0.5
"""Seconds before the first try to join again after a loss; each failed try doubles it, up to MOST_RETRY."""
MOST_RETRY = 16.0
JOIN_SECONDS = 5.0
"""How long a join may take to be answered (the websocket's handshake, not the catch-up after it). A share
whose machine is there but whose process does not run (stopped, swapped out, hung) lets the kernel complete the
TCP handshake and then answers nothing: without this, aiohttp waits its default five minutes."""
HEARTBEAT = 10.0
"""Seconds between the follower's pings: a lecturer's machine that vanished (no FIN, no RST) is noticed
within about this long, and the follower tries again."""


class Refused(Exception):
    """The share could not be followed: the reason, in words for the follower's terminal."""

    def __init__(self, why: str, *, again: bool = False) -> None:
        super().__init__(why)
        self.again = again
        """Whether trying again later could help (nobody listens yet, too many follow), or not (a wrong code,
        another protocol: asking again gets the same answer)."""


class Connection:
    """One follower's connection to a shared session: each frame (lines of text) goes to `on_frame`."""

    def __init__(self, url: str, on_frame: Callable[[str], None], *, join_seconds: float = JOIN_SECONDS) -> None:
        self.url = url
        self.on_frame = on_frame
        self.join_seconds = join_seconds
        self._websocket: aiohttp.ClientWebSocketResponse | None = None
        self.frames = 0
        self.stopped = False
        """The lecturer stopped sharing (rather than the connection being lost): there is nothing to join again."""

    async def run(self) -> str:
        """Follow until the lecturer stops; why it ended, in words. Raises Refused if it never began."""
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.join_seconds)) as http,
                http.ws_connect(
                    self.url, max_msg_size=MAX_LECTURER_FRAME, heartbeat=HEARTBEAT, autoping=True
                ) as websocket,
            ):
                self._websocket = websocket
                while True:
                    message = await websocket.receive()
                    if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED):
                        said = message.extra if isinstance(message.extra, str) else ""
                        self.stopped = message.type is aiohttp.WSMsgType.CLOSE and message.data == STOPPED
                        return said or ("the lecturer stopped sharing" if self.stopped else "the connection closed")
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
            raise Refused(f"the share answered {error.status} {error.message}", again=True) from None
        except TimeoutError:  # an OSError too: before the next clause
            if self.frames:  # not the join: aiohttp's total timeout covers only the handshake, but to be sure
                return "the connection timed out"
            raise Refused(f"the share took the connection but did not answer the join within {self.join_seconds:g} s: "
                          "is its process stopped, or overloaded?", again=True) from None  # fmt: skip
        except (aiohttp.ClientConnectorError, OSError) as error:
            raise Refused(f"nobody shares a session there: {error}", again=True) from None
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


class Following:
    """A follower's connection to the lecturer, joined again by itself whenever it is lost.

    `lost` is told why and when it tries again; `rejoined`, once a new join has begun (its first frame, the
    state so far, follows)."""

    def __init__(
        self,
        url: str,
        on_frame: Callable[[str], None],
        lost: Callable[[str], None],
        rejoined: Callable[[], None],
        *,
        first_retry: float = FIRST_RETRY,
        join_seconds: float = JOIN_SECONDS,
    ) -> None:
        self.url = url
        self.on_frame = on_frame
        self._lost, self._rejoined = lost, rejoined
        self.first_retry = first_retry
        self.join_seconds = join_seconds
        self.connection: Connection | None = None
        self.joins = 0
        """How many times it has joined (1 until a loss)."""
        self._waiting = False

    async def run(self) -> str:
        """Follow until the lecturer stops sharing, or a new join is refused for good: why, in words. Raises
        Refused if the very first join fails (a wrong code, nobody there)."""
        retry = self.first_retry
        while True:
            connection = Connection(self.url, self._frame, join_seconds=self.join_seconds)
            self.connection = connection
            try:
                why = await connection.run()
            except Refused as refused:
                if not self.joins:
                    raise
                if not refused.again:
                    return f"the lecturer's share refused to take this follower back: {refused}"
                why = str(refused)
            else:
                if connection.stopped:
                    return why
                if connection.frames:
                    retry = self.first_retry  # it had joined: this loss is a fresh one
            self._waiting = True
            self._lost(f"lost the lecturer ({why}): joining again in {retry:g} s")
            await asyncio.sleep(retry)
            retry = min(2 * retry, MOST_RETRY)

    def _frame(self, text: str) -> None:
        if self.connection is not None and self.connection.frames == 1:
            self.joins += 1
            if self._waiting:
                self._waiting = False
                self._rejoined()
        self.on_frame(text)

    def answer(self, question: int, choice: str) -> None:
        if self.connection is not None:
            self.connection.answer(question, choice)

    async def close(self) -> None:
        if self.connection is not None:
            await self.connection.close()


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
