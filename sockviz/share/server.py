"""`sockviz --share`: the lecturer's session, read-only, to every follower, served by a process of its own.

The lecturer's process does as little as it can: the stream's `Recorder` writes the session in the session
format (its events as the screen tells them, each socket's row when it changes, from the recorder's thread:
hearing an event costs the screen a queue's put), and its lines, a batch at a time, go down a pipe to the
share's process (`process`, started and ended by `link`), which keeps them for late joiners, sends them to
every follower and reads what followers send. Beside them go the share's own messages: the facts a
follower's screen shows beside the events (hints, targets, the guide: read from the live session right
after events by the recorder's thread, or a while later by the link's, sent when they change), the
lecturer's lesson panel, and the class's question. What comes back, a few times a second, is how many
follow, what was dropped and why, and the open question's tally.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from sockviz.core import Event, Session
from sockviz.core.model.addresses import Endpoint, is_loopback, is_wildcard
from sockviz.core.story.recording.format import Asked, Record, Revealed, decode
from sockviz.core.story.recording.recorder import Recorder
from sockviz.share.facts import session_facts
from sockviz.share.history import SESSION_LINE
from sockviz.share.link import ProcessLink
from sockviz.share.protocol import DEFAULT_SHARE_PORT, new_code

FACTS_SECONDS = 0.25
"""How often the share looks at the session's facts (hints, targets, the guide) when nothing happens."""
AFTER_EVENTS = 0.05
"""The facts are looked at right after events (and go with their lines, in one frame to the followers), at most
once per this: a burst's thousands of events do not ask the session a thousand times."""
REVEALED_LINE = '{"record":"revealed"'
"""How a verdict's line begins (`encode` writes no spaces)."""
ASKED_LINE = '{"record":"asked"'
"""How a question's line begins."""
BACKLOG = 512
"""Followers who connect at once (a class joining) wait in the kernel's queue, not refused."""


@dataclass(frozen=True)
class AskedClass:
    """The question open to the class, as the lecturer's side knows it: the tally comes from the share's process."""

    number: int
    choices: tuple[str, ...]


class ShareServer:
    """Publishes the lecturer's session (one after another, across resets) to its followers."""

    def __init__(self, host: str = "127.0.0.1", port: int = DEFAULT_SHARE_PORT, code: str | None = None) -> None:
        self.host = host
        self.port = port
        self.code = code or new_code()
        self.dropped: Counter[str] = Counter()
        """Frames from followers dropped, by reason (`malformed`, `flooding`, `oversized`, `not an answer`...),
        and joins refused (`wrong code`, `too many followers`, `fell behind`), as the share's process counts."""
        self.followers = 0
        """How many follow now, as the share's process last said (read from any thread)."""
        self.hide_tally = False
        """Peer instruction: the class's histogram is hidden until the reveal (the lecturer's key shows it)."""
        self.ended: str | None = None
        """Why the share stopped serving when nobody asked it to (its process ended), for the lecturer's bar."""
        self.lines_sent = 0
        """Lines of the session handed to the share's process so far."""
        self.on_lines: list[Callable[[list[str], float], object]] = []
        """Each batch of lines as it goes (a benchmark's hook: `callable(lines, monotonic time)`)."""
        self._link = ProcessLink(self._heard, self._tick, self._ended)
        self._question: AskedClass | None = None
        self._tally: tuple[int, dict[str, int]] | None = None
        self._asked = 0
        self._recorder: Recorder | None = None
        self._batch: list[str] = []
        self._batch_lock = threading.Lock()
        self._session: Session | None = None
        self._endpoint: Endpoint | None = None
        self._lesson_told = ""
        self._predicting = False
        self._guide: str | None = None
        self._facts_told = ""
        self._facts_due = 0.0
        self._last_facts = 0.0
        self._facts_lock = threading.Lock()
        self._class_lock = threading.Lock()
        self._asks_waiting: list[str | None] = []
        """Questions recorded but not yet written (so not yet sent to the class), oldest first: None, or why it was
        withdrawn meanwhile (then it is never sent)."""

    @property
    def exposed(self) -> bool:
        """Whether other machines can follow: the share listens on an address that is not loopback."""
        try:
            return is_wildcard(self.host) or not is_loopback(self.host)
        except ValueError:
            return not is_loopback(self.host)

    @property
    def pid(self) -> int | None:
        """The share's process, while it runs."""
        return self._link.pid

    def start(self) -> None:
        """Listen now (an address in use is an OSError here, before the app starts), then serve from the share's
        process: followers who connect before it is up wait in the listener's queue."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        listener = socket.create_server((self.host, self.port), family=family, backlog=BACKLOG)
        self.port = listener.getsockname()[1]
        self._link.start(listener, self.code)

    def share(self, session: Session, endpoint: Endpoint, *, listen: bool = True) -> None:
        """Publish this session from now on (the lecturer's host, port and family are `endpoint`'s); a session
        shared before ends here, and followers start afresh with the lecturer.

        Without `listen`, the lecturer's screen hands on each event (`told`) and each line of its log that is
        no event (`record`) as its log shows them, so that a follower's log is the lecturer's, line for line."""
        if self._recorder is None:
            self._recorder = Recorder(self._line, source="share", flush=self._flush)
        self._session, self._endpoint, self._facts_due = session, endpoint, time.monotonic()
        # Where the session's clock began on this machine's monotonic clock, which the share's process reads too:
        # it tells each follower the lecturer's time as it joins and as this session begins (its first line).
        self._link.send(("clock", time.monotonic() - session.now()))
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
        verdict), in its place. Predict mode's question also goes to the class, and its verdict reveals it, once
        the recorder has written it: after the call's own lines, which the recorder's thread may still hold (sent
        at once, the reveal came to followers before the accept() it was about). So does the question: sent at
        once, the next step's question (a lesson asks right after the verdict) came before the last one's reveal,
        which then closed it with the other step's answer."""
        if self._recorder is None:
            if isinstance(record, Asked):
                self.ask(record.step.id, record.question, record.choices, hidden=self.hide_tally)
            elif isinstance(record, Revealed):
                self._settle(record)
            return
        if isinstance(record, Asked):
            with self._class_lock:
                self._asks_waiting.append(None)  # before the recorder has it: it may write it at once
        self._recorder.add(record)

    def _settle(self, record: Revealed) -> None:
        if record.outcome is None:
            self._withdraw("the step was not run")
        else:
            self.reveal(record.outcome, "")

    def lesson(self, shown: str) -> None:
        """The lecturer's lesson panel as it reads now ("" when no lesson is loaded): sent when it changes."""
        if shown != self._lesson_told:
            self._lesson_told = shown
            self._link.send(("lesson", json.dumps({"share": "lesson", "shown": shown})))

    @property
    def predicting(self) -> bool:
        """The lecturer's predict mode, as its screen last said: the facts then say no more than its screen."""
        return self._predicting

    @predicting.setter
    def predicting(self, on: bool) -> None:
        if on != self._predicting:
            self._predicting = on
            self._facts_due = time.monotonic()  # the link's next tick sends the facts as the mode has them

    @property
    def guide(self) -> str | None:
        """The `next:` line the followers read, when the lecturer's screen says another than the session's own
        (a lesson's next line); None: the session's own (`facts.session_facts`)."""
        return self._guide

    @guide.setter
    def guide(self, said: str | None) -> None:
        if said != self._guide:
            self._guide = said
            self._facts_due = time.monotonic()

    def ask(self, step_id: str, text: str, choices: tuple[str, ...], *, hidden: bool = False) -> None:
        """Open a question to the class: each follower may answer once (a new answer replaces theirs)."""
        self._asked += 1
        self._question = AskedClass(self._asked, tuple(choices))
        self._link.send(("ask", self._asked, step_id, text, tuple(choices), hidden))

    def reveal(self, answer: str, evidence: str) -> None:
        """Close the open question with the kernel's answer: every follower sees whether they were right."""
        self._question = None
        self._link.send(("reveal", answer, evidence))

    def withdraw(self, why: str) -> None:
        """Close the open question with no answer (the lecturer did not run the step); a question the recorder
        has not written yet is never sent."""
        with self._class_lock:
            if self._asks_waiting:
                self._asks_waiting[-1] = why
                return
        self._withdraw(why)

    def _withdraw(self, why: str) -> None:
        self._question = None
        self._link.send(("withdraw", why))

    def show_tally(self, shown: bool) -> None:
        """Let the class see the histogram (peer instruction: hidden until the reveal)."""
        self._link.send(("tally shown", shown))

    def tally(self) -> tuple[dict[str, int], int] | None:
        """The open question's counts by choice and how many follow, or None; read from any thread."""
        question, tally = self._question, self._tally
        if question is None:
            return None
        if tally is None or tally[0] != question.number:
            return dict.fromkeys(question.choices, 0), self.followers
        return dict(tally[1]), self.followers

    def stop(self) -> None:
        """Stop serving: followers hear the session end. Returns within about a second and a half."""
        if self._recorder is not None:
            self._recorder.stop(timeout=0.5)
        self._link.stop()

    # ----- the recorder's thread -----

    def _line(self, text: str) -> None:
        """The recorder's writer: one line of the session format, with its newline. A question's line asks the
        class, a verdict's line reveals it, each after the lines before it."""
        line = text.rstrip("\n")
        with self._batch_lock:
            self._batch.append(line)
        if line.startswith(REVEALED_LINE):
            revealed = decode(line)
            if isinstance(revealed, Revealed):
                self._flush()
                self._settle(revealed)
        elif line.startswith(ASKED_LINE):
            with self._class_lock:
                withdrawn = self._asks_waiting.pop(0) if self._asks_waiting else None
            asked = decode(line)
            if isinstance(asked, Asked) and withdrawn is None:
                self._flush()
                self.ask(asked.step.id, asked.question, asked.choices, hidden=self.hide_tally)

    def _flush(self) -> None:
        """After each of the recorder's batches: its lines to the share's process, as one message."""
        with self._batch_lock:
            lines, self._batch = self._batch, []
        if not lines:
            return
        self.lines_sent += len(lines)
        self._link.send(("lines", lines))
        now = time.monotonic()
        for hook in self.on_lines:
            hook(lines, now)
        if any(line.startswith(SESSION_LINE) for line in lines):
            # A fresh session: each follower starts a mirror with no facts, so they go again even if they read
            # as the old session's last did (a ctrl+r before the lesson's first step), and after this line.
            with self._facts_lock:
                self._facts_told = ""
            self._send_facts(now)
        elif now - self._last_facts >= AFTER_EVENTS:
            self._send_facts(now)  # right behind the lines: the share's process sends both in one frame
        else:
            self._facts_due = self._facts_due or self._last_facts + AFTER_EVENTS

    def _send_facts(self, now: float) -> None:
        """The session's facts, sent if they changed (from the recorder's thread after events, or the link's)."""
        session = self._session
        if session is None:
            return
        if not self._facts_lock.acquire(blocking=False):  # the other thread is at it: a moment later, then
            self._facts_due = self._facts_due or now + AFTER_EVENTS
            return
        try:
            self._facts_due, self._last_facts = 0.0, now
            try:
                facts = session_facts(session, self._endpoint, predicting=self._predicting, guide=self._guide)
            except Exception:  # noqa: BLE001 - a socket closed under its feet: the next look will do
                return
            line = json.dumps({"share": "facts", **facts})
            if line != self._facts_told:
                self._facts_told = line
                self._link.send(("facts", line))
        finally:
            self._facts_lock.release()

    # ----- the link's thread -----

    def _tick(self) -> None:
        """The session's facts, when events came too soon after the last look or a while has passed."""
        now = time.monotonic()
        due = self._facts_due and now >= self._facts_due
        if due or now - self._last_facts >= FACTS_SECONDS:
            self._send_facts(now)

    def _heard(self, message: object) -> None:
        match message:
            case ("status", int(followers), dict(dropped), number, tally):
                self.dropped = Counter(dropped)
                self._tally = (number, tally) if isinstance(number, int) and isinstance(tally, dict) else None
                self.followers = followers

    def _ended(self, why: str) -> None:
        self.ended = why
        self.followers = 0
