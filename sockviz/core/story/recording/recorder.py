"""Writing a live session in the session format: its events as they are told, its sockets as they change.

The session tells its events while it holds its lock, in the thread that caused them, so hearing one
costs a queue's put and nothing more. A thread of the recorder's own writes them out in that order,
then reads the sockets (a few microseconds each) and writes the rows that changed (a socket's first row
whole, then what changed in it: format.py's `Rows`): after a
batch of events (READ_GAP apart at least), and every `period` while a call waits (its "... blocked
accept() 3.2 s" grows) or a closed connection lingers in the kernel (TIME_WAIT counts down). A row's
reading comes after the events that caused it; so a reader that shows the rows from the seq they name
on shows each socket as the live table did, a moment later at most. A reading after a batch is written even
when no row changed (a record with no socket): a replay then knows the table was read at that time, the same.
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TextIO

from sockviz.core.engine.session import Session
from sockviz.core.engine.tracked import TrackedSocket
from sockviz.core.kernel.snapshot import Address
from sockviz.core.model.events import Event, StepBlocked, StepFinished
from sockviz.core.story.activity import activity
from sockviz.core.story.recording.format import (
    Ended,
    EventRecord,
    Note,
    Predicted,
    Record,
    Revealed,
    Rows,
    Said,
    SessionStarted,
    SocketsRecord,
    encode,
    header,
)
from sockviz.core.story.recording.sockets import SocketState, socket_state
from sockviz.core.story.sentences import Storyteller

logger = logging.getLogger(__name__)

PERIOD = 0.25
"""How often a waiting call's row is read again: the live table's own refresh."""
READ_GAP = 0.02
"""The least time between two readings after events: a burst's thousands of events cost fifty readings a
second at most, each of every socket, in the recorder's thread (with --record only)."""
LINGER_PERIOD = 1.0
"""How often the kernel is asked about closed connections it still holds, as the live screen asks."""

_STOP = object()


@dataclass(frozen=True)
class _Begin:
    """A session to record from here on."""

    session: Session
    host: str
    port: int
    family: socket.AddressFamily


@dataclass(frozen=True)
class _Told:
    """An event, with the session that told it: a reset's stragglers from the session before are dropped."""

    session: Session
    event: Event


class Recorder:
    """Writes one or more sessions (a reset starts the next) as lines of the session format.

    `write` takes each line with its newline (a file's write, a socket's send); `flush`, if given, is
    called after each batch. A failing write (a full disk, a closed pipe) stops the recording and is
    logged once; it never reaches the session.
    """

    def __init__(
        self,
        write: Callable[[str], object],
        *,
        source: str,
        flush: Callable[[], object] | None = None,
        period: float = PERIOD,
    ) -> None:
        self._write = write
        self._flush = flush
        self._period = period
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._session: Session | None = None
        """The session being written (the writing thread's)."""
        self._live: Session | None = None
        """The session being heard (the front end's): a narration's time is read on its clock."""
        self._unsubscribes: list[Callable[[], None]] = []
        self._number = 0
        self._storyteller = Storyteller()
        self._blocked: set[int] = set()
        self._last_seq = 0
        self._written: dict[int, SocketState] = {}
        self._rows = Rows()
        self._open_addresses: dict[int, tuple[Address | None, Address | None]] = {}
        self._last_linger = 0.0
        self._last_read = 0.0
        self._reading = threading.Lock()
        self._held = False
        """The session is closing (`closing`): its sockets are read only once more, after the end."""
        self._due = False
        """Events have come since the sockets were last read."""
        self._told = False
        """A line of the log (an event, a narration, a note) was written since the sockets were last read: the
        reading after it is written even if no row changed."""
        self.failed: str | None = None
        """Why the recording stopped early, if it did."""
        self._thread = threading.Thread(target=self._run, name="sockviz-recorder", daemon=True)
        self._emit(header(source))
        self._thread.start()

    @classmethod
    def to_file(cls, out: TextIO, *, source: str, period: float = PERIOD) -> Recorder:
        return cls(out.write, source=source, flush=out.flush, period=period)

    # ----- what a front end tells it ---------------------------------------------

    def start(
        self, session: Session, host: str, port: int, family: socket.AddressFamily, *, listen: bool = True
    ) -> None:
        """Record this session from now on (the one before, if any, ends here). The session is heard at once,
        so nothing it tells from here on is missed; its events are queued after the record that starts it.

        Without `listen`, the front end hands on each event itself with `told`, in the order it showed them:
        a screen hears an event a moment after the session tells it, and a narration through one more hop,
        so only the screen's own order makes a replay's log the live log, line for line."""
        self._live = session
        self._queue.put(_Begin(session, host, port, family))
        if listen:
            self._unsubscribes.append(session.subscribe(lambda event: self.told(session, event)))

    def told(self, session: Session, event: Event) -> None:
        """An event of `session`, in its turn (an event of a session already ended is dropped)."""
        self._queue.put(_Told(session, event))

    def say(self, line: int, text: str) -> None:
        """A lesson's narration, in its place among the events."""
        session = self._live
        self._queue.put(Said(at=session.now() if session else 0.0, line=line, text=text))

    def note(self, who: str, text: str, kind: str) -> None:
        session = self._live
        self._queue.put(Note(at=session.now() if session else 0.0, who=who, text=text, kind=kind))

    def add(self, record: Record) -> None:
        """Any other record, written in its turn (the timeline of a run, say)."""
        self._queue.put(record)

    def closing(self) -> None:
        """The front end is about to close the session: no reading of its sockets until the end, which reads
        what the close left. (A reading meanwhile would put closed sockets before the end, at the line before.)
        Returns once any reading under way has finished."""
        with self._reading:
            self._held = True

    def stop(self, timeout: float = 2.0) -> None:
        """Read the sockets one last time, write the end, and wait (a while) for the writing to finish."""
        self._queue.put(_STOP)
        self._thread.join(timeout)

    # ----- the writing thread ----------------------------------------------------

    def _run(self) -> None:
        try:
            self._loop()
        except Exception as error:
            logger.exception("the recorder stopped")
            self.failed = self.failed or repr(error)
        finally:
            for unsubscribe in self._unsubscribes:
                unsubscribe()

    def _loop(self) -> None:
        while True:
            since = time.monotonic() - self._last_read
            wait = max(0.0, READ_GAP - since) if self._due else self._period
            try:
                first = self._queue.get(timeout=wait)
            except queue.Empty:
                first = None
            items = [] if first is None else [first]
            while True:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stopping = False
            for item in items:
                if item is _STOP:
                    stopping = True
                    break
                self._take(item)
            self._due = self._due or bool(items)
            since = time.monotonic() - self._last_read
            due = (self._due and since >= READ_GAP) or (self._waiting() and since >= self._period)
            if self._session is not None and not stopping and due:  # stopping: the session is closed, its reading
                self._read_sockets()  # comes after the end
            if self._flush is not None and self.failed is None:
                self._guarded(self._flush)
            if stopping:
                self._end()
                if self._flush is not None and self.failed is None:
                    self._guarded(self._flush)
                return

    def _take(self, item: object) -> None:
        if isinstance(item, _Told):
            if item.session is self._session:
                self._event(item.event)
        elif isinstance(item, _Begin):
            self._begin(item.session, item.host, item.port, item.family)
        elif isinstance(item, Record):
            self._emit(item)
            self._told = self._told or isinstance(item, Said | Note | Predicted | Revealed)  # a moment of a replay

    def _begin(self, session: Session, host: str, port: int, family: socket.AddressFamily) -> None:
        if self._session is not None:
            self._end()
        self._number += 1
        self._session = session
        self._storyteller = Storyteller()
        self._blocked.clear()
        self._written.clear()
        self._rows.start()
        self._open_addresses.clear()
        self._last_seq = 0
        self._emit(SessionStarted(number=self._number, host=host, port=port, family=family.name))

    def _end(self) -> None:
        session = self._session
        if session is None:
            return
        # The session's last events are already written: a front end starts the next session, or stops,
        # once it has closed this one, so they were queued first. The end comes before the last reading:
        # a replay shows the sockets that the end closed at the end, not at the line before it.
        self._emit(Ended(at=session.now()))
        self._read_sockets(last=True)
        self._session = None
        self._held = False

    def _event(self, event: Event) -> None:
        if isinstance(event, StepBlocked):
            self._blocked.add(event.call.id)
        elif isinstance(event, StepFinished):
            self._blocked.discard(event.call.id)
        self._last_seq = event.seq
        self._told = True
        lines = self._storyteller.lines(event)
        line = lines[0] if lines else None
        self._emit(EventRecord(event, text=line.text if line else None, why=line.why if line else None))

    def _waiting(self) -> bool:
        """Whether a row changes with time alone: a call waits, or a closed connection lingers in the kernel."""
        session = self._session
        if session is None:
            return False
        return bool(self._blocked) or any(t.closed and t.ends is not None and not t.gone for t in session.sockets)

    def _read_sockets(self, *, last: bool = False) -> None:
        with self._reading:
            if not self._held or last:
                self._read()

    def _read(self) -> None:
        session = self._session
        if session is None:
            return
        now = self._last_read = time.monotonic()
        told, self._due, self._told = self._told, False, False
        if now - self._last_linger >= LINGER_PERIOD:
            self._last_linger = now
            session.read_lingering()
        serving = session.serve_status()
        changed = [state for state in self._states(session.sockets, session.now(), serving) if self._changed(state)]
        if changed or told:  # after the log's lines, a reading is written even if no row changed: a replay shows
            # the table of a moment from a reading taken then, and an empty one says the rows were read, the same
            self._emit(SocketsRecord(at=session.now(), after=self._last_seq, sockets=tuple(changed)))

    def _states(self, sockets: Iterable[TrackedSocket], now: float, serving: dict[int, str]) -> Iterable[SocketState]:
        for tracked in sockets:
            snapshot = tracked.snapshot(with_repr=True)
            if not snapshot.closed:
                self._open_addresses[tracked.id] = (snapshot.laddr, snapshot.raddr)
            doing = activity(tuple(tracked.in_flight), self._blocked, now, snapshot.closed, serving)
            yield socket_state(tracked, snapshot, doing, self._open_addresses.get(tracked.id))

    def _changed(self, state: SocketState) -> bool:
        if self._written.get(state.id) == state:
            return False
        self._written[state.id] = state
        return True

    def _emit(self, record: Record) -> None:
        if self.failed is None:
            line = self._rows.encode(record) if isinstance(record, SocketsRecord) else encode(record)
            self._guarded(self._write, line + "\n")

    def _guarded(self, call: Callable[..., object], *args: object) -> None:
        try:
            call(*args)
        except (OSError, ValueError) as error:  # a closed pipe, a full disk, a closed file
            self.failed = repr(error)
            logger.warning("the recording stopped: %r", error)
