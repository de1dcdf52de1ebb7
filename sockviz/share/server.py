"""`sockviz --share`: the lecturer's session, read-only, to every follower, from a thread of its own.

aiohttp's websocket server runs on its own event loop in its own thread, so the lecturer's event loop
never waits for a follower: the session's listener only appends the event to a queue (it runs under the
session's lock), and everything else (encoding, pictures of the sockets, sending to each follower) is
done in the share's thread. Each follower has a queue of its own; one that falls too far behind is let go
rather than slowing the others. Frames from followers are read here too: the one kind allowed (an answer
to the open question, within the rate) is tallied, and everything else is dropped and counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from sockviz.core import Event, Session
from sockviz.core.model.addresses import Endpoint, is_wildcard
from sockviz.share.codec import encode_event
from sockviz.share.picture import PictureTaker
from sockviz.share.protocol import (
    DEFAULT_SHARE_PORT,
    FOLLOW_PATH,
    MAX_FOLLOWER_FRAME,
    PROTOCOL_VERSION,
    Dropped,
    RateLimit,
    new_code,
    read_answer,
    same_code,
)

PICTURE_SECONDS = 0.25
"""How often followers get a picture of the sockets when nothing happens: the lecturer's table refreshes as often."""
AFTER_EVENTS = 0.05
"""How soon after events a picture follows, so a follower's table keeps up with its log."""
BATCH_SECONDS = 0.02
"""Events that come together (a burst's thousands) go in one frame: at most one frame of events per this."""
MAX_QUEUED = 2000
"""Frames a follower may have waiting; a follower that far behind is let go (it can join again)."""
MAX_FOLLOWERS = 1000
HISTORY_EVENTS = 100_000
"""Events kept for followers who join late (a burst of a thousand clients makes about 4,000)."""
WRONG_CODE_PAUSE = 0.3
"""A wrong join code is answered after this pause, so codes cannot be tried quickly one after another."""


@dataclass
class Question:
    """The question open to the class: which step, the choices, and the answers so far (one per follower)."""

    number: int
    step_id: str
    text: str
    choices: tuple[str, ...]
    answers: dict[int, str] = field(default_factory=dict)
    hidden: bool = False

    def tally(self) -> dict[str, int]:
        counts = dict.fromkeys(self.choices, 0)
        for choice in self.answers.values():
            counts[choice] += 1
        return counts


@dataclass
class _Follower:
    number: int
    websocket: web.WebSocketResponse
    queue: asyncio.Queue[str]
    limit: RateLimit


class ShareServer:
    """Publishes one session at a time to its followers; all of it runs in the share's own thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = DEFAULT_SHARE_PORT, code: str | None = None) -> None:
        self.host = host
        self.port = port
        self.code = code or new_code()
        self.dropped: Counter[str] = Counter()
        """Frames from followers dropped, by reason (`malformed`, `flooding`, `oversized`, `not an answer`...),
        and joins refused (`wrong code`, `too many followers`)."""
        self.followers = 0
        """How many follow now (read from any thread)."""
        self.endpoint: Endpoint | None = None
        """The lecturer's host and port, for the hints a picture carries (connect() asks who listens there)."""
        self.question: Question | None = None
        self._inbox: deque[tuple[str, Any]] = deque()
        self._wake_due = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._stopped = threading.Event()
        self._session: Session | None = None
        self._unsubscribe: Callable[[], None] = lambda: None
        self._pictures: PictureTaker | None = None
        self._history: list[str] = []
        self._history_events = 0
        self._full_picture = ""
        self._picture_due = 0.0
        self._last_picture = 0.0
        self._members: dict[int, _Follower] = {}
        self._numbers = iter(range(1, 1 << 62))
        self._asked = 0
        self._lesson_told = ""
        self._lesson_frame = ""
        self._picture_task: asyncio.Task[None] | None = None
        self._tally_due = False

    @property
    def exposed(self) -> bool:
        """Whether other machines can follow: the share listens on an address that is not loopback."""
        try:
            return is_wildcard(self.host) or not _loopback(self.host)
        except ValueError:
            return not _loopback(self.host)

    # ----- from the lecturer's threads ----------------------------------------

    def start(self) -> None:
        """Listen now (an address in use is an OSError here, before the app starts), then serve in a thread."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        listener = socket.create_server((self.host, self.port), family=family, backlog=512)
        self.port = listener.getsockname()[1]
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(listener, ready), name="sockviz-share", daemon=True)
        self._thread.start()
        ready.wait(5)

    def share(self, session: Session) -> None:
        """Publish this session from now on; a session shared before is over, and followers start afresh."""
        self._unsubscribe()
        self._post("session", session)
        self._unsubscribe = session.subscribe(self._heard)

    def note(self, at: float, who: str, text: str, kind: str = "lesson") -> None:
        """A line of the log that is no event (a lesson's narration), for every follower's log."""
        self._post("note", {"type": "note", "at": at, "who": who, "text": text, "kind": kind})

    def lesson(self, shown: str) -> None:
        """The lecturer's lesson panel as it reads now ("" when no lesson is loaded): sent when it changes."""
        if shown != self._lesson_told:
            self._lesson_told = shown
            self._post("lesson", {"type": "lesson", "shown": shown})

    def ask(self, step_id: str, text: str, choices: tuple[str, ...], *, hidden: bool = False) -> None:
        """Open a question to the class: each follower may answer once (a new answer replaces theirs)."""
        self._post("ask", (step_id, text, choices, hidden))

    def reveal(self, answer: str, evidence: str) -> None:
        """Close the open question with the kernel's answer: every follower sees whether they were right."""
        self._post("reveal", (answer, evidence))

    def show_tally(self, shown: bool) -> None:
        """Let the class's histogram be seen (peer instruction: hidden until the reveal)."""
        self._post("shown", shown)

    def tally(self) -> tuple[dict[str, int], int] | None:
        """The open question's counts by choice and how many follow, or None; read from any thread."""
        question = self.question
        if question is None:
            return None
        return question.tally(), self.followers

    def stop(self) -> None:
        """Stop serving: followers are told the session is over. Returns within a second."""
        self._unsubscribe()
        loop = self._loop
        if loop is None or self._stopped.is_set():
            return
        with contextlib.suppress(RuntimeError):  # its loop has already ended
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
        self._stopped.wait(1.0)

    def _heard(self, event: Event) -> None:
        """The session's listener: runs under the session's lock, in the thread that caused the event."""
        self._post("event", event)

    def _post(self, kind: str, item: Any) -> None:
        self._inbox.append((kind, item))
        loop = self._loop
        if not self._wake_due and loop is not None:
            self._wake_due = True
            with contextlib.suppress(RuntimeError):  # stopping: nobody left to tell
                loop.call_soon_threadsafe(self._wake)

    # ----- the share's thread -------------------------------------------------

    def _run(self, listener: socket.socket, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve(listener))
            ready.set()
            loop.run_forever()
        finally:
            ready.set()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            self._stopped.set()

    async def _serve(self, listener: socket.socket) -> None:
        app = web.Application()
        app.router.add_get(FOLLOW_PATH, self._follow)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, listener, shutdown_timeout=0.5).start()
        self._picture_task = asyncio.get_running_loop().create_task(self._picture_loop())

    async def _shutdown(self) -> None:
        if self._picture_task is not None:
            self._picture_task.cancel()
        closing = [member.websocket.close(message=b"the lecturer stopped sharing") for member in self._members.values()]
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.gather(*closing, return_exceptions=True), 0.5)
        if self._runner is not None:
            await self._runner.cleanup()
        asyncio.get_running_loop().stop()

    def _wake(self) -> None:
        """Soon after the first item, not at once: items that come together go in one frame."""
        assert self._loop is not None
        self._loop.call_later(BATCH_SECONDS, self._drain)

    def _drain(self) -> None:
        self._wake_due = False
        events: list[dict] = []
        while self._inbox:
            kind, item = self._inbox.popleft()
            if kind == "event":
                events.append(encode_event(item))
                continue
            if events:
                self._publish_events(events)
                events = []
            self._handle(kind, item)
        if events:
            self._publish_events(events)

    def _handle(self, kind: str, item: Any) -> None:
        if kind == "session":
            had = self._session is not None
            self._session = item
            self._pictures = PictureTaker(item, self.endpoint)
            self._history, self._history_events = [], 0
            if had:
                self._publish({"type": "start_over"})
            self._picture_due = time.monotonic()
        elif kind == "note":
            self._publish(item)
        elif kind == "lesson":
            self._lesson_frame = json.dumps(item)
            self._broadcast(self._lesson_frame)
        elif kind == "ask":
            step_id, text, choices, hidden = item
            self._asked += 1
            self.question = Question(self._asked, step_id, text, choices, hidden=hidden)
            self._broadcast(json.dumps(self._question_frame()))
        elif kind == "shown" and self.question is not None:
            self.question.hidden = not item
            self._broadcast(json.dumps(self._question_frame()))
        elif kind == "reveal" and self.question is not None:
            answer, evidence = item
            question, self.question = self.question, None
            frame = {"type": "reveal", "question": question.number, "answer": answer, "evidence": evidence,
                     "tally": question.tally()}  # fmt: skip
            for number, member in self._members.items():
                mine = question.answers.get(number)
                self._send(member, json.dumps({**frame, "yours": mine}))

    def _question_frame(self) -> dict[str, Any]:
        question = self.question
        assert question is not None
        return {"type": "question", "question": question.number, "step": question.step_id, "text": question.text,
                "choices": list(question.choices), "tally": None if question.hidden else question.tally()}  # fmt: skip

    def _publish_events(self, events: list[dict]) -> None:
        self._publish({"type": "events", "events": events})
        self._history_events += len(events)
        while self._history_events > HISTORY_EVENTS and len(self._history) > 1:
            oldest = json.loads(self._history.pop(0))
            self._history_events -= len(oldest.get("events", ()))
        self._picture_due = min(self._picture_due or float("inf"), time.monotonic() + AFTER_EVENTS)

    def _publish(self, frame: dict[str, Any]) -> None:
        """A frame for every follower now, and for those who join later."""
        text = json.dumps(frame)
        self._history.append(text)
        self._broadcast(text)

    def _broadcast(self, text: str) -> None:
        for member in list(self._members.values()):
            self._send(member, text)

    def _send(self, member: _Follower, text: str) -> None:
        try:
            member.queue.put_nowait(text)
        except asyncio.QueueFull:
            self.dropped["fell behind"] += 1
            self._let_go(member)

    def _let_go(self, member: _Follower) -> None:
        self._members.pop(member.number, None)
        self.followers = len(self._members)
        asyncio.get_running_loop().create_task(member.websocket.close(message=b"fell too far behind"))

    async def _picture_loop(self) -> None:
        while True:
            await asyncio.sleep(AFTER_EVENTS / 2)
            now = time.monotonic()
            due = self._picture_due and now >= self._picture_due
            if self._pictures is None or not (due or now - self._last_picture >= PICTURE_SECONDS):
                continue
            self._picture_due, self._last_picture = 0.0, now
            if self._inbox:
                self._drain()  # the events before the picture go before it
            try:
                delta, full = self._pictures.take()
            except Exception:  # noqa: BLE001 - a socket closed under its feet: the next picture will do
                continue
            self._full_picture = json.dumps(full)
            self._broadcast(json.dumps(delta))
            question = self.question
            if self._tally_due and question is not None and not question.hidden:
                self._broadcast(json.dumps({"type": "tally", "question": question.number, "tally": question.tally()}))
            self._tally_due = False

    # ----- one follower ---------------------------------------------------------

    async def _follow(self, request: web.Request) -> web.StreamResponse:
        if not same_code(request.query.get("code", ""), self.code):
            self.dropped["wrong code"] += 1
            await asyncio.sleep(WRONG_CODE_PAUSE)
            return web.Response(status=403, text="wrong join code")
        if len(self._members) >= MAX_FOLLOWERS:
            self.dropped["too many followers"] += 1
            return web.Response(status=503, text=f"{MAX_FOLLOWERS} already follow")
        websocket = web.WebSocketResponse(max_msg_size=MAX_FOLLOWER_FRAME, heartbeat=20, compress=False)
        await websocket.prepare(request)
        member = _Follower(next(self._numbers), websocket, asyncio.Queue(MAX_QUEUED), RateLimit(now=time.monotonic()))
        # Nothing awaits between copying the history and joining the members: no frame is missed or sent twice.
        hello = {"type": "hello", "version": PROTOCOL_VERSION, "follower": member.number}
        if self.endpoint is not None:
            hello["endpoint"] = {"host": self.endpoint.host, "port": self.endpoint.port,
                                 "family": self.endpoint.family.name}  # fmt: skip
        catch_up = [json.dumps(hello), *self._history]
        if self._full_picture:
            catch_up.append(self._full_picture)
        if self._lesson_frame:
            catch_up.append(self._lesson_frame)
        if self.question is not None:
            catch_up.append(json.dumps(self._question_frame()))
        self._members[member.number] = member
        self.followers = len(self._members)
        writer = asyncio.get_running_loop().create_task(self._write(member, catch_up))
        try:
            await self._read(member)
        finally:
            self._members.pop(member.number, None)
            self.followers = len(self._members)
            writer.cancel()
        return websocket

    async def _write(self, member: _Follower, catch_up: list[str]) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError, asyncio.CancelledError):
            for text in catch_up:
                await member.websocket.send_str(text)
            while True:
                await member.websocket.send_str(await member.queue.get())

    async def _read(self, member: _Follower) -> None:
        async for message in member.websocket:
            if message.type == WSMsgType.ERROR:
                self.dropped["oversized" if "size" in str(message.data) else "broken"] += 1
                return
            if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                continue
            if not member.limit.allow(time.monotonic()):
                self.dropped["flooding"] += 1
                continue
            question = self.question
            try:
                answer = read_answer(message.data, question.number if question else None,
                                     question.choices if question else ())  # fmt: skip
            except Dropped as why:
                self.dropped[str(why)] += 1
                continue
            assert question is not None
            question.answers[member.number] = answer.choice
            self._tally_due = True  # sent with the next picture: 200 answers at once make one frame, not 200


def _loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
