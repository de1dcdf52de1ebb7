"""`sockviz --share`: the lecturer's session, read-only, to every follower, off the lecturer's event loop.

The session is written in the session format by the stream's `Recorder` (its events as they are told,
each socket's row when it changes, from a thread of its own: hearing an event costs the session a queue's
put). Its lines come here, to aiohttp's websocket server on an event loop of its own in another thread,
which sends them on in frames of lines to every follower, keeps the current session's lines for those who
join late, and adds the share's own lines (`{"share": ...}`): the facts a follower's screen shows beside
the events (hints, targets, the guide), the lecturer's lesson panel, the class's question. Each follower
has a queue of its own; one that falls too far behind is let go rather than slowing the others. Frames
from followers are read here too: the one kind allowed (an answer to the open question, within the rate)
is tallied, and everything else is dropped and counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from sockviz.core import Event, Session
from sockviz.core.model.addresses import Endpoint, is_wildcard
from sockviz.core.story.recording.format import Asked, Record, Revealed, SocketsRecord, decode, encode
from sockviz.core.story.recording.recorder import Recorder
from sockviz.core.story.recording.sockets import SocketState
from sockviz.share.facts import session_facts
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

FACTS_SECONDS = 0.25
"""How often the share looks at the session's facts (hints, targets, the guide) when nothing happens."""
AFTER_EVENTS = 0.05
"""How soon after events the facts are looked at again, so a follower's hints keep up with its log."""
BATCH_SECONDS = 0.02
"""Lines that come together (a burst's thousands) go in one frame: at most one frame per this."""
MAX_QUEUED = 2000
"""Frames a follower may have waiting; a follower that far behind is let go (it can join again)."""
MAX_FOLLOWERS = 1000
HISTORY_LINES = 200_000
"""Lines of the current session kept for followers who join late (a burst of a thousand clients makes
about 5,000); beyond, the oldest go, and a late follower's log starts later."""
CATCH_UP_LINES = 2000
"""Lines per frame of a late follower's catch-up: big enough to be quick, small enough to interleave."""
WRONG_CODE_PAUSE = 0.3
"""A wrong join code is answered after this pause, so codes cannot be tried quickly one after another."""
SOCKETS_LINE = '{"record":"sockets"'
SESSION_LINE = '{"record":"session"'
HEADER_LINE = '{"record":"header"'


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
    writer: asyncio.Task[None] | None = None


class ShareServer:
    """Publishes the lecturer's session (one after another, across resets) to its followers."""

    def __init__(self, host: str = "127.0.0.1", port: int = DEFAULT_SHARE_PORT, code: str | None = None) -> None:
        self.host = host
        self.port = port
        self.code = code or new_code()
        self.dropped: Counter[str] = Counter()
        """Frames from followers dropped, by reason (`malformed`, `flooding`, `oversized`, `not an answer`...),
        and joins refused (`wrong code`, `too many followers`, `fell behind`)."""
        self.followers = 0
        """How many follow now (read from any thread)."""
        self.question: Question | None = None
        self.hide_tally = False
        """Peer instruction: the class's histogram is hidden until the reveal (the lecturer's key shows it)."""
        self._inbox: deque[tuple[str, Any]] = deque()
        self._wake_due = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._stopped = threading.Event()
        self._recorder: Recorder | None = None
        self._session: Session | None = None
        self._endpoint: Endpoint | None = None
        self._header = ""
        self._session_line = ""
        self._history: deque[str] = deque(maxlen=HISTORY_LINES)
        """The current session's lines but its sockets' rows, which `_latest` keeps (the newest of each)."""
        self._latest: dict[int, SocketState] = {}
        self._latest_read: tuple[float, int] = (0.0, 0)
        self._facts_line = ""
        self._lesson_line = ""
        self._lesson_told = ""
        self._facts_due = 0.0
        self._last_facts = 0.0
        self._members: dict[int, _Follower] = {}
        self._numbers = iter(range(1, 1 << 62))
        self._asked = 0
        self._tally_due = False
        self._facts_task: asyncio.Task[None] | None = None

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

    def share(self, session: Session, endpoint: Endpoint, *, listen: bool = True) -> None:
        """Publish this session from now on (the lecturer's host, port and family are `endpoint`'s); a session
        shared before ends here, and followers start afresh with the lecturer.

        Without `listen`, the lecturer's screen hands on each event (`told`) and each line of its log that is
        no event (`record`) as its log shows them, so that a follower's log is the lecturer's, line for line."""
        if self._recorder is None:
            self._recorder = Recorder(self._line, source="share")
        self._post("session", (session, endpoint))
        self._recorder.start(session, endpoint.host, endpoint.port, endpoint.family, listen=listen)

    def closing(self) -> None:
        """The lecturer is about to close the session (a reset, or quitting): its sockets are read once it ends."""
        if self._recorder is not None:
            self._recorder.closing()

    def told(self, session: Session, event: Event) -> None:
        """An event the lecturer's log has just shown (on the lecturer's event loop: a queue's put)."""
        if self._recorder is not None:
            self._recorder.told(session, event)

    def record(self, record: Record) -> None:
        """A line of the lecturer's log that is no event (a narration, a refusal, predict mode's question or
        verdict), in its place. Predict mode's question also goes to the class, and its verdict reveals it."""
        if self._recorder is not None:
            self._recorder.add(record)
        if isinstance(record, Asked):
            self.ask(record.step.id, record.question, record.choices, hidden=self.hide_tally)
        elif isinstance(record, Revealed):
            if record.outcome is None:
                self.withdraw("the step was not run")
            else:
                self.reveal(record.outcome, "")

    def lesson(self, shown: str) -> None:
        """The lecturer's lesson panel as it reads now ("" when no lesson is loaded): sent when it changes."""
        if shown != self._lesson_told:
            self._lesson_told = shown
            self._post("share", {"share": "lesson", "shown": shown})

    def ask(self, step_id: str, text: str, choices: tuple[str, ...], *, hidden: bool = False) -> None:
        """Open a question to the class: each follower may answer once (a new answer replaces theirs)."""
        self._post("ask", (step_id, text, choices, hidden))

    def reveal(self, answer: str, evidence: str) -> None:
        """Close the open question with the kernel's answer: every follower sees whether they were right."""
        self._post("reveal", (answer, evidence))

    def withdraw(self, why: str) -> None:
        """Close the open question with no answer (the lecturer did not run the step)."""
        self._post("withdraw", why)

    def show_tally(self, shown: bool) -> None:
        """Let the class see the histogram (peer instruction: hidden until the reveal)."""
        self._post("tally shown", shown)

    def tally(self) -> tuple[dict[str, int], int] | None:
        """The open question's counts by choice and how many follow, or None; read from any thread."""
        question = self.question
        if question is None:
            return None
        return question.tally(), self.followers

    def stop(self) -> None:
        """Stop serving: followers hear the session end. Returns within about a second."""
        if self._recorder is not None:
            self._recorder.stop(timeout=0.5)
        loop = self._loop
        if loop is None or self._stopped.is_set():
            return
        with contextlib.suppress(RuntimeError):  # its loop has already ended
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
        self._stopped.wait(1.0)

    def _line(self, text: str) -> None:
        """The recorder's writer, in the recorder's thread: one line of the session format, with its newline."""
        self._post("line", text.rstrip("\n"))

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
            if self._inbox:
                loop.call_soon(self._wake)
            loop.run_forever()
        finally:
            ready.set()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            self._stopped.set()

    async def _serve(self, listener: socket.socket) -> None:
        app = web.Application()
        app.router.add_get(FOLLOW_PATH, self._follow)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.SockSite(self._runner, listener).start()
        self._facts_task = asyncio.get_running_loop().create_task(self._facts_loop())

    async def _shutdown(self) -> None:
        self._drain()
        if self._facts_task is not None:
            self._facts_task.cancel()
        for member in self._members.values():
            with contextlib.suppress(asyncio.QueueFull):
                member.queue.put_nowait("")  # the writer closes once it has sent what is queued
        closing = [member.writer for member in self._members.values() if member.writer is not None]
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
        out: list[str] = []
        while self._inbox:
            kind, item = self._inbox.popleft()
            if kind == "line":
                self._keep(item)
                out.append(item)
                continue
            if out:
                self._broadcast("\n".join(out))
                out = []
            self._handle(kind, item)
        if out:
            self._broadcast("\n".join(out))
            self._facts_due = min(self._facts_due or float("inf"), time.monotonic() + AFTER_EVENTS)

    def _keep(self, line: str) -> None:
        """A line for those who join later: the header, the current session's lines, each socket's newest row."""
        if line.startswith(SOCKETS_LINE):
            record = decode(line)
            if isinstance(record, SocketsRecord):
                self._latest.update((state.id, state) for state in record.sockets)
                self._latest_read = (record.at, record.after)
        elif line.startswith(HEADER_LINE):
            self._header = line
        elif line.startswith(SESSION_LINE):
            self._session_line = line
            self._history.clear()
            self._latest.clear()
        else:
            self._history.append(line)

    def _handle(self, kind: str, item: Any) -> None:
        if kind == "session":
            self._session, self._endpoint = item
            self._facts_due = time.monotonic()
        elif kind == "share":
            line = json.dumps(item)
            if item.get("share") == "lesson":
                self._lesson_line = line
            self._broadcast(line)
        elif kind == "ask":
            step_id, text, choices, hidden = item
            self._asked += 1
            self.question = Question(self._asked, step_id, text, choices, hidden=hidden)
            self._broadcast(json.dumps(self._question_message()))
        elif kind == "tally shown" and self.question is not None:
            self.question.hidden = not item
            self._broadcast(json.dumps(self._question_message()))
        elif kind == "withdraw" and self.question is not None:
            number, self.question = self.question.number, None
            self._broadcast(json.dumps({"share": "withdrawn", "question": number, "why": item}))
        elif kind == "reveal" and self.question is not None:
            answer, evidence = item
            question, self.question = self.question, None
            message = {"share": "reveal", "question": question.number, "answer": answer, "evidence": evidence,
                       "tally": question.tally()}  # fmt: skip
            for number, member in list(self._members.items()):
                self._send(member, json.dumps({**message, "yours": question.answers.get(number)}))

    def _question_message(self) -> dict[str, Any]:
        question = self.question
        assert question is not None
        return {"share": "question", "question": question.number, "step": question.step_id, "text": question.text,
                "choices": list(question.choices), "tally": None if question.hidden else question.tally()}  # fmt: skip

    def _catch_up(self) -> list[str]:
        """What a follower who joins now is sent first: the session so far, then the live lines."""
        # The lesson's panel first: it takes its room beside the log before the log's lines are written.
        lines = [line for line in (self._header, self._session_line, self._lesson_line) if line]
        lines += self._history
        if self._latest:
            at, after = self._latest_read
            lines.append(encode(SocketsRecord(at=at, after=after, sockets=tuple(self._latest.values()))))
        if self._facts_line:
            lines.append(self._facts_line)
        if self.question is not None:
            lines.append(json.dumps(self._question_message()))
        return ["\n".join(lines[i : i + CATCH_UP_LINES]) for i in range(0, len(lines), CATCH_UP_LINES)]

    def _broadcast(self, text: str) -> None:
        for member in list(self._members.values()):
            self._send(member, text)

    def _send(self, member: _Follower, text: str) -> None:
        try:
            member.queue.put_nowait(text)
        except asyncio.QueueFull:
            self.dropped["fell behind"] += 1
            self._members.pop(member.number, None)
            self.followers = len(self._members)
            if member.writer is not None:
                member.writer.cancel()
            asyncio.get_running_loop().create_task(member.websocket.close(message=b"fell too far behind"))

    async def _facts_loop(self) -> None:
        while True:
            await asyncio.sleep(AFTER_EVENTS / 2)
            now = time.monotonic()
            due = self._facts_due and now >= self._facts_due
            session = self._session
            if session is None or not (due or now - self._last_facts >= FACTS_SECONDS):
                continue
            self._facts_due, self._last_facts = 0.0, now
            try:
                facts = session_facts(session, self._endpoint)
            except Exception:  # noqa: BLE001 - a socket closed under its feet: the next look will do
                continue
            line = json.dumps({"share": "facts", **facts})
            if line != self._facts_line:
                self._facts_line = line
                self._broadcast(line)
            question = self.question
            if self._tally_due and question is not None and not question.hidden:
                self._broadcast(json.dumps({"share": "tally", "question": question.number, "tally": question.tally()}))
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
        self._drain()  # every line so far is in the history, and none is sent twice
        member = _Follower(next(self._numbers), websocket, asyncio.Queue(MAX_QUEUED), RateLimit(now=time.monotonic()))
        hello = json.dumps({"share": "hello", "version": PROTOCOL_VERSION, "follower": member.number})
        catch_up = [hello, *self._catch_up()]
        self._members[member.number] = member
        self.followers = len(self._members)
        member.writer = asyncio.get_running_loop().create_task(self._write(member, catch_up))
        try:
            await self._read(member)
        finally:
            self._members.pop(member.number, None)
            self.followers = len(self._members)
            member.writer.cancel()
        return websocket

    async def _write(self, member: _Follower, catch_up: list[str]) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            for text in catch_up:
                await member.websocket.send_str(text)
            while text := await member.queue.get():
                await member.websocket.send_str(text)
            await member.websocket.close(message=b"the lecturer stopped sharing")

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
            self._tally_due = True  # sent with the next facts: 200 answers at once make one frame, not 200


def _loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
