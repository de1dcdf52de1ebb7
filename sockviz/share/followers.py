"""The followers' websockets, in the share's process: who may join, what each is sent, and what each may say.

aiohttp's server on the listening socket the lecturer made. A follower with the wrong join code is refused
before any line (after a pause, so codes cannot be tried quickly); one who joins gets its catch-up, then every
frame sent to all. Each follower has a queue of its own; one that falls too far behind is let go (told so,
and it may join again) rather than slowing the others. A frame is encoded once for all followers. What a
follower sends is read here: the one kind allowed, an answer within the rate, goes to `answered`; anything
else is dropped and counted, by reason, and goes no further.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import WSMsgType, web

from sockviz.share.protocol import FOLLOW_PATH, LET_GO, MAX_FOLLOWER_FRAME, STOPPED, RateLimit, same_code

MAX_QUEUED = 2000
"""Frames a follower may have waiting; a follower that far behind is let go (it can join again)."""
MAX_FOLLOWERS = 1000
WRONG_CODE_PAUSE = 0.3
"""A wrong join code is answered after this pause, so codes cannot be tried quickly one after another."""
CLOSE_SECONDS = 0.5
"""How long the followers' writers have, at the end, to send what is queued."""


@dataclass(eq=False)
class Member:
    """One follower: its websocket, the frames waiting for it, and the rate of what it sends."""

    number: int
    websocket: web.WebSocketResponse
    queue: asyncio.Queue[bytes]
    limit: RateLimit
    writer: asyncio.Task[None] | None = None


class Followers:
    """Every follower of the share: joins, frames out, answers in."""

    def __init__(
        self,
        code: str,
        catch_up: Callable[[int], list[str]],
        answered: Callable[[int, str | bytes], None],
        changed: Callable[[], None],
    ) -> None:
        self.code = code
        self._catch_up = catch_up
        """The frames a follower who joins now is sent first (given its number); called as it joins."""
        self._answered = answered
        """A follower's frame within the rate: (its number, the frame), to be read as an answer."""
        self._changed = changed
        """Called when the count of followers or of drops changes, for the lecturer's bar."""
        self.members: dict[int, Member] = {}
        self.dropped: Counter[str] = Counter()
        """Frames from followers dropped, by reason (`malformed`, `flooding`, `oversized`, `not an answer`...),
        and joins refused (`wrong code`, `too many followers`, `fell behind`)."""
        self.sent = 0
        """Frames sent to all followers so far (each counted once)."""
        self._numbers = iter(range(1, 1 << 62))
        self._runner: web.AppRunner | None = None

    async def serve(self, listener: socket.socket) -> None:
        app = web.Application()
        app.router.add_get(FOLLOW_PATH, self._follow)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=CLOSE_SECONDS)
        await self._runner.setup()
        await web.SockSite(self._runner, listener).start()

    async def close(self) -> None:
        """Followers hear the lecturer stopped, once what is queued for them is sent (for a moment at most)."""
        for member in self.members.values():
            with contextlib.suppress(asyncio.QueueFull):
                member.queue.put_nowait(b"")  # the writer closes once it has sent what is queued
        closing = [member.writer for member in self.members.values() if member.writer is not None]
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.gather(*closing, return_exceptions=True), CLOSE_SECONDS)
        if self._runner is not None:
            await self._runner.cleanup()

    # ----- out ------------------------------------------------------------

    def to_all(self, text: str) -> None:
        self.sent += 1
        frame = text.encode()
        for member in list(self.members.values()):
            self._send(member, frame)

    def to_each(self, text_for: Callable[[int], str]) -> None:
        """A frame of its own to each follower (the reveal, with their own answer)."""
        for number, member in list(self.members.items()):
            self._send(member, text_for(number).encode())

    def _send(self, member: Member, frame: bytes) -> None:
        try:
            member.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.dropped["fell behind"] += 1
            self._leaves(member)
            if member.writer is not None:
                member.writer.cancel()
            close = member.websocket.close(code=LET_GO, message=b"fell too far behind")
            asyncio.get_running_loop().create_task(close)

    def _leaves(self, member: Member) -> None:
        if self.members.pop(member.number, None) is not None:
            self._changed()

    # ----- one follower -----------------------------------------------------

    async def _follow(self, request: web.Request) -> web.StreamResponse:
        if not same_code(request.query.get("code", ""), self.code):
            self.dropped["wrong code"] += 1
            self._changed()
            await asyncio.sleep(WRONG_CODE_PAUSE)
            return web.Response(status=403, text="wrong join code")
        if len(self.members) >= MAX_FOLLOWERS:
            self.dropped["too many followers"] += 1
            self._changed()
            return web.Response(status=503, text=f"{MAX_FOLLOWERS} already follow")
        websocket = web.WebSocketResponse(max_msg_size=MAX_FOLLOWER_FRAME, heartbeat=20, compress=False)
        await websocket.prepare(request)
        member = Member(next(self._numbers), websocket, asyncio.Queue(MAX_QUEUED), RateLimit(now=time.monotonic()))
        catch_up = self._catch_up(member.number)  # every line so far, and from here on every frame: none twice
        self.members[member.number] = member
        self._changed()
        member.writer = asyncio.get_running_loop().create_task(self._write(member, catch_up))
        try:
            await self._read(member)
        finally:
            self._leaves(member)
            member.writer.cancel()
        return websocket

    async def _write(self, member: Member, catch_up: list[str]) -> None:
        websocket = member.websocket
        with contextlib.suppress(ConnectionError, RuntimeError):
            for text in catch_up:
                await websocket.send_str(text)
            while frame := await member.queue.get():
                await websocket.send_frame(frame, WSMsgType.TEXT)
            await websocket.close(code=STOPPED, message=b"the lecturer stopped sharing")

    async def _read(self, member: Member) -> None:
        async for message in member.websocket:
            if message.type == WSMsgType.ERROR:
                self.dropped["oversized" if "size" in str(message.data) else "broken"] += 1
                self._changed()
                return
            if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                continue
            if not member.limit.allow(time.monotonic()):
                self.dropped["flooding"] += 1
                self._changed()
                continue
            self._answered(member.number, message.data)
