"""The share's process: it serves the lecturer's session to every follower, off the lecturer's GIL.

The lecturer's app (`server.ShareServer`) starts it as a bare interpreter that imports aiohttp and the
share's own modules, and none of sockviz's core or UI, and hands it, over a pipe, the lines of the session
format and the share's messages (the facts, the lesson panel, the class's question). Here they are kept for
late joiners (`history`), sent in frames to every follower (`followers`), and the followers' answers are
tallied (`question`); the lecturer hears back only how many follow, what was dropped and the tally, a few
times a second. Lines that come together (a burst's thousands, an event and the facts after it) go in one
frame, the first after a quiet spell at once, then at most one per `batch_seconds`: each frame wakes every
follower, and a wake-up costs a follower more than the lines it brings (see `batch_seconds`).

It never outlives the lecturer: it ends when asked, when the lecturer's end of the pipe closes (the app is
gone, however it went), and, as a last resort, when the thread that started it ends (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import signal
import socket
import time
from typing import Any

from sockviz.core.kernel.capture.channel import Decoder, Outbox
from sockviz.share.followers import Followers
from sockviz.share.history import SESSION_LINE, History
from sockviz.share.protocol import PROTOCOL_VERSION, Dropped, read_answer
from sockviz.share.question import Question

BATCH_SECONDS = 0.02
"""Lines that come together go in one frame: at most one frame per this (the first after a quiet spell at once),
with up to BATCH_FOLLOWERS followers; with more, longer (`batch_seconds`)."""
BATCH_FOLLOWERS = 40
MOST_BATCH_SECONDS = 0.1
"""The longest wait between frames, whatever the class's size: a line waits no longer than this for its frame."""


def batch_seconds(followers: int) -> float:
    """The least time between two frames with this many followers: BATCH_SECONDS up to BATCH_FOLLOWERS, then
    growing with the class, to MOST_BATCH_SECONDS at 200.

    Each frame wakes every follower, and the wake-up (the websocket's read, the event loop's turn, caches gone
    cold since the last one) cost a headless follower about half a millisecond of CPU on the benchmark's
    machine, about as much as decoding the dozen lines a lesson's frame brings. Two hundred followers on one
    machine (as the benchmark runs them) pay 100 ms of CPU for each frame: at fifty frames a second they fell
    behind while a lesson played, and their delay grew. Fewer, fuller frames cost them the same lines for fewer
    wake-ups. Each follower on a machine of its own would not need it; the lines then wait up to 100 ms more, well
    within the 250 ms a follower may be behind."""
    if followers <= BATCH_FOLLOWERS:
        return BATCH_SECONDS
    return min(MOST_BATCH_SECONDS, BATCH_SECONDS * followers / BATCH_FOLLOWERS)


STATUS_SECONDS = 0.05
"""How often, at most, the lecturer hears the count of followers, the drops and the tally, when they change;
and how often the class is sent the tally while it is shown."""
_PR_SET_PDEATHSIG = 1


class SharedSession:
    """The lecturer's session as the share's process serves it: its history, its facts, the open question."""

    def __init__(self, code: str, control: int, data: int, decoder: Decoder) -> None:
        self._control = control
        self._decoder = decoder
        self._outbox = Outbox(data)
        self.history = History()
        self.followers = Followers(code, self._catch_up, self._answered, self._changed)
        self.question: Question | None = None
        self._pending: list[str] = []
        self._batch_at: float | None = None
        """When the pending frame goes (on the loop's clock), None when nothing waits."""
        self._batch_handle: asyncio.TimerHandle | None = None
        self._last_frame = 0.0
        self._facts = ""
        self._lesson = ""
        self._status_due = True
        self._tally_due = False
        self._told: tuple[object, ...] = ()
        self._epoch: float | None = None
        """Where the current session's clock began, on the machine's monotonic clock (the lecturer's too)."""
        self._next_epoch: float | None = None
        self.done = asyncio.Event()
        self.stopped = False
        """The lecturer asked (rather than going away): followers are told it stopped sharing."""

    # ----- from the lecturer ------------------------------------------------------

    def readable(self) -> None:
        """The lecturer's pipe has something: every whole message in it, in order."""
        try:
            data = os.read(self._control, 1 << 20)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:  # the lecturer is gone
            self.done.set()
            return
        for message in self._decoder.feed(data):
            self.heard(message)

    def heard(self, message: Any) -> None:
        match message:
            case ("lines", list(lines)):
                for line in lines:
                    self.history.keep(line)
                    self._pending.append(line)
                    if line.startswith(SESSION_LINE) and self._next_epoch is not None:
                        self._epoch, self._next_epoch = self._next_epoch, None
                        self._pending.append(self._clock_line())  # the fresh session's clock, after its first line
                self._batch()
            case ("clock", float(epoch)):
                self._next_epoch = epoch  # the next session's: its first line follows this message
            case ("facts", str(line)):
                self._facts = line
                self._pending.append(line)  # in the lines' frame: one wake-up of each follower, not two
                self._batch()
            case ("lesson", str(line)):
                self._lesson = line
                self._pending.append(line)
                self._batch(urgent=False)  # with the lines of the step it goes before, if they come soon
            case ("ask", int(number), str(step_id), str(text), tuple(choices), bool(hidden)):
                self.question = Question(number, step_id, text, choices, hidden=hidden)
                self._to_all(json.dumps(self.question.message()))
                self._status_due = True
            case ("tally shown", bool(shown)) if self.question is not None:
                self.question.hidden = not shown
                self._to_all(json.dumps(self.question.message()))
            case ("withdraw", str(why)) if self.question is not None:
                number, self.question = self.question.number, None
                self._to_all(json.dumps({"share": "withdrawn", "question": number, "why": why}))
                self._status_due = True
            case ("reveal", str(answer), str(evidence)) if self.question is not None:
                question, self.question = self.question, None
                self._send_pending()
                told = question.reveal(answer, evidence)
                self.followers.to_each(lambda number: json.dumps({**told, "yours": question.answers.get(number)}))
                self._status_due = True
            case ("stop",):
                self.stopped = True
                self.done.set()

    def _to_all(self, line: str) -> None:
        """A share message, after the lines before it."""
        self._send_pending()
        self.followers.to_all(line)

    def _batch(self, *, urgent: bool = True) -> None:
        """Send what is pending in a moment: the session's lines at once (once what the pipe holds now is read) if
        no frame went in the last `batch_seconds`, else when they have passed; the share's own messages (the
        lesson panel) that long later, unless lines come meanwhile and take them along. A lesson's first event
        goes without waiting, a burst's thousands a frame at a time: each frame wakes every follower once."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        wait = batch_seconds(len(self.followers.members))
        due = max(self._last_frame + wait, now if urgent else now + wait)
        if self._batch_at is not None and self._batch_at <= due:
            return  # a frame is due as soon already
        if self._batch_handle is not None:
            self._batch_handle.cancel()
        self._batch_at, self._batch_handle = due, loop.call_at(due, self._send_pending)

    def _send_pending(self) -> None:
        if self._batch_handle is not None:
            self._batch_handle.cancel()
        self._batch_at = self._batch_handle = None
        if self._pending:
            lines, self._pending = self._pending, []
            self._last_frame = asyncio.get_running_loop().time()
            self.followers.to_all("\n".join(lines))

    # ----- from the followers -----------------------------------------------------

    def _catch_up(self, number: int) -> list[str]:
        self._send_pending()  # every line so far is in the history, and none is sent twice
        hello = json.dumps({"share": "hello", "version": PROTOCOL_VERSION, "follower": number})
        question = json.dumps(self.question.message()) if self.question is not None else ""
        return self.history.catch_up(hello, self._lesson, [self._facts, question, self._clock_line()])

    def _clock_line(self) -> str:
        """The lecturer's session time now, for followers (a late one's newest event may be minutes old)."""
        if self._epoch is None:
            return ""
        return json.dumps({"share": "clock", "now": round(time.monotonic() - self._epoch, 6)})

    def _answered(self, number: int, frame: str | bytes) -> None:
        question = self.question
        try:
            answer = read_answer(frame, question.number if question else None, question.choices if question else ())
        except Dropped as why:
            self.followers.dropped[str(why)] += 1
            self._status_due = True
            return
        assert question is not None
        question.answers[number] = answer.choice
        self._status_due = self._tally_due = True  # sent a moment later: 200 answers at once make one frame

    def _changed(self) -> None:
        self._status_due = True

    # ----- to the lecturer, a few times a second ----------------------------------

    async def tell_the_lecturer(self) -> None:
        while True:
            await asyncio.sleep(STATUS_SECONDS)
            if self._outbox.waiting:
                self._outbox.flush()
            question = self.question
            if self._tally_due and question is not None and not question.hidden:
                self._to_all(json.dumps({"share": "tally", "question": question.number, "tally": question.tally()}))
            self._tally_due = False
            if not self._status_due:
                continue
            self._status_due = False
            followers = self.followers
            told = (len(followers.members), dict(followers.dropped), None if question is None else question.number,
                    None if question is None else question.tally())  # fmt: skip
            if told != self._told and not self._outbox.waiting:  # a lecturer that is not reading gets the newest later
                self._told = told
                self._outbox.send(("status", *told))
            elif told != self._told:
                self._status_due = True

    def close(self) -> None:
        self._outbox.close()


async def serve(
    listener: socket.socket, code: str, control: int, data: int, decoder: Decoder, messages: list[object]
) -> None:
    """Serve until the lecturer stops or goes; `messages` came with the code, `decoder` holds what follows them."""
    shared = SharedSession(code, control, data, decoder)
    loop = asyncio.get_running_loop()
    await shared.followers.serve(listener)
    for message in messages:
        shared.heard(message)
    loop.add_reader(control, shared.readable)
    status = loop.create_task(shared.tell_the_lecturer())
    try:
        await shared.done.wait()
    finally:
        loop.remove_reader(control)
        status.cancel()
        shared._send_pending()
        if shared.stopped:
            await shared.followers.close()
        shared.close()


def _die_with_the_lecturer(lecturer: int) -> None:
    """SIGKILL when the thread that started this process ends; at once if the lecturer is already gone."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != lecturer:
        os._exit(0)


def main(argv: list[str]) -> int:
    """`process LISTENER_FD CONTROL_FD DATA_FD LECTURER_PID`, as the lecturer starts it; the join code is the
    first message on the control pipe (an argument would show in `ps`)."""
    listening, control, data, lecturer = (int(value) for value in argv[:4])
    _die_with_the_lecturer(lecturer)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a ^C in the terminal is for the lecturer's app, which stops this
    decoder = Decoder()
    messages: list[object] = []
    while not messages:
        read = os.read(control, 1 << 16)
        if not read:
            return 0  # the lecturer went before it began
        messages = decoder.feed(read)
    first = messages.pop(0)
    if not (isinstance(first, tuple) and len(first) == 2 and first[0] == "code" and isinstance(first[1], str)):
        return 2
    os.set_blocking(control, False)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(socket.socket(fileno=listening), first[1], control, data, decoder, messages))
    return 0
