"""The calls in progress, and those just ended: the bookkeeping behind "blocked" and "woken by".

The session keeps one lock around its sockets, its calls and its events, so that listeners hear
things in the order they happened. This book has no lock of its own: the session reads and changes
it only while it holds its own. Calls are ordered by a count of beginnings and endings rather than
by time, because the session's clock may stand still (a test's manual clock) while calls overlap.
"""

from __future__ import annotations

import itertools
import select
import socket
from collections import deque
from collections.abc import Callable

from sockviz.core.engine.tracked import TrackedSocket
from sockviz.core.engine.turns import Turn
from sockviz.core.engine.waker import Overlap
from sockviz.core.kernel.readiness import poll_now
from sockviz.core.kernel.waiting import connecting, is_waiting
from sockviz.core.model.events import Call
from sockviz.core.model.lazy_dataclass import lazy_dataclass
from sockviz.core.model.record import Shown
from sockviz.core.model.steps import SERVE_ACTIONS, Action, Side

RECENT_CALLS = 256
"""Ended calls kept to find what woke a blocked one (running calls are all kept)."""


@lazy_dataclass(eq=False, repr=False)
class Running(Shown):
    """A call in progress: what the watcher, the waker and close() need to know of it."""

    call: Call
    tracked: TrackedSocket | None
    order: int
    """When it began, on the book's count of beginnings and endings."""
    ended: int | None = None
    blocked: bool = False
    done: bool = False
    cancelled_by: str | None = None
    """Set when this session woke the call on purpose: the words for what woke it."""
    watch_token: int = 0
    recheck: float = 0.0
    """How long until the watcher looks again at a call that was not waiting (0: at the grace)."""
    address: tuple | None = None
    """For connect(): where to."""
    listener: TrackedSocket | None = None
    """For connect(): this session's socket listening at the address, if any."""
    remote: bool = False
    """For connect(): the address is not on this machine, so waiting for the answer is a real wait."""
    seen_connecting: bool = False
    """For connect(): an earlier look found it in SYN_SENT already."""
    done_bytes: int = 0
    total_bytes: int | None = None
    selecting: tuple[TrackedSocket, ...] = ()
    """For select(): the sockets it watches, the call's own first."""
    call_writes: bool = False
    """For select(): it watches the connections for writing too."""
    ready: tuple[TrackedSocket, ...] = ()
    """For select(), once it returned: the sockets it returned as readable."""
    ready_words: str | None = None
    """For select(), once it returned: what made the first of them ready, in words."""
    on_cancel: Callable[[str], None] | None = None
    """For a serve mode: what wakes the calls it made on its connections, when this session wakes it."""
    turn: Turn | None = None
    """Its place in the order the steps were asked for, settled once it blocks (turns.py)."""

    def waiting(self) -> bool:
        """Whether the kernel says the call waits now (rather than being merely slow)."""
        tracked = self.tracked
        if tracked is None:
            return False
        action = self.call.step.action
        if action is Action.SELECT:
            writing = self.selecting[1:] if self.call_writes else ()
            return not poll_now((t.sock for t in self.selecting), select.POLLIN) and not poll_now(
                (t.sock for t in writing), select.POLLOUT
            )
        if action is Action.CLOSE:
            return tracked.closed  # the fd is gone, so close() is in the kernel, lingering
        listener = self.listener.sock if self.listener is not None else None
        if is_waiting(action, tracked.sock, listener=listener, remote=self.remote):
            return True
        if action is Action.CONNECT and connecting(tracked.sock):
            # On loopback a SYN is answered within the connect() call itself unless it was dropped; one
            # look in SYN_SENT may be a late answer on a busy machine, two looks apart are a dropped SYN
            # waiting for its retry (the queue may have room again by now: accept() ran meanwhile).
            waited, self.seen_connecting = self.seen_connecting, True
            return waited
        return False


class CallBook:
    """Every call running now, the latest ones that ended, and each side's latest transfer."""

    def __init__(self) -> None:
        self._running: dict[int, Running] = {}
        self._recent: deque[Running] = deque(maxlen=RECENT_CALLS)
        self._order = itertools.count(1)
        self._transfers: dict[Side, Running] = {}
        """Each side's newest sendall() or recv all, running or ended."""

    def __bool__(self) -> bool:
        """Whether any call runs."""
        return bool(self._running)

    def begin(self, call: Call, tracked: TrackedSocket | None, total_bytes: int | None) -> Running:
        running = Running(call, tracked, next(self._order), total_bytes=total_bytes)
        self._running[call.id] = running
        if call.step.action in (Action.SEND, Action.RECV_ALL):  # the newest, sized or not: never a stale bar
            self._transfers[call.step.side] = running
        return running

    def mark_ended(self, running: Running) -> None:
        """The call has its outcome; it still counts as running until `retire`, after its event is told."""
        running.done = True
        running.ended = next(self._order)

    def retire(self, running: Running) -> None:
        del self._running[running.call.id]
        self._recent.append(running)

    def get(self, call_id: int) -> Running | None:
        return self._running.get(call_id)

    def calls(self) -> tuple[Call, ...]:
        """The calls in progress, oldest first."""
        return tuple(r.call for r in self._running.values())

    def on(self, tracked: TrackedSocket, except_call: Call | None = None) -> list[Running]:
        """The calls running on this socket."""
        return [r for r in self._running.values() if r.tracked is tracked and r.call is not except_call]

    def sockets(self) -> list[TrackedSocket]:
        """The sockets with a call running, each once."""
        return list({id(r.tracked): r.tracked for r in self._running.values() if r.tracked}.values())

    def newest_busy(self, side: Side) -> TrackedSocket | None:
        """The newest socket of `side` with a call running: what cancel acts on. A running serve mode comes
        first: cancel stops it (and every call it made) rather than one wait of one of its clients."""
        serving = [r.tracked for r in self._running.values() if r.tracked and r.call.step.action in SERVE_ACTIONS]
        if serving and side is Side.SERVER:
            return serving[-1]
        busy = [r.tracked for r in self._running.values() if r.tracked and r.call.step.side is side]
        return busy[-1] if busy else None

    def accepts_waiting(self) -> int:
        return sum(1 for r in self._running.values() if r.call.step.action is Action.ACCEPT)

    def cancel_how(self, tracked: TrackedSocket) -> int:
        """SHUT_RD wakes accept() and recv() and keeps the sending side; connect() and sendall() need SHUT_RDWR."""
        writers = (Action.CONNECT, Action.SEND, Action.BURST)
        busy = [r for r in self._running.values() if r.tracked is tracked and r.call.step.action in writers]
        return socket.SHUT_RDWR if busy else socket.SHUT_RD

    def progress(self) -> dict[int, tuple[int, int]]:
        """For calls that move a known number of bytes: call id to (done, total)."""
        return {r.call.id: (r.done_bytes, r.total_bytes) for r in self._running.values() if r.total_bytes}

    def last_transfer(self, side: Side) -> tuple[int, int] | None:
        """(done, total) bytes of this side's newest sendall() or recv all, running or ended; None if unsized."""
        running = self._transfers.get(side)
        return None if running is None or not running.total_bytes else (running.done_bytes, running.total_bytes)

    def overlapping(self, running: Running) -> list[Overlap]:
        """The other calls that ran at some moment while this one did: begun before it ended, ended after it began."""
        began, ended = running.order, running.ended or 0
        others = [*self._recent, *self._running.values()]
        return [Overlap(o.call, o.order) for o in others if o is not running and (o.ended or ended) > began]
