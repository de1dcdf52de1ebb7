"""A burst: many clients connecting at once, each in a thread of its own, each call the session's.

A burst's step makes its clients (calls.py); this is what happens next, for every client at once:
connect, and for a burst that does work, send the message, read until the echo is whole, hold the
connection a while and close. Every call goes through the session's `run`, so each is told, timed
and woken like a click's; the threads are the session's, so close() waits for them.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable

from sockviz.core.engine.call_site import Ran
from sockviz.core.engine.stream import EventStream
from sockviz.core.engine.tracked import TrackedSocket
from sockviz.core.model.events import BurstStarted, Call, SocketAdded
from sockviz.core.model.step_args import StepArgs
from sockviz.core.model.steps import Side, Step, step

Run = Callable[..., "Ran | None"]
"""The session's `run(step, args, target=...)`."""


class Bursts:
    """Starts the clients of a burst, on the session's lock, events, calls and threads."""

    def __init__(
        self,
        lock: threading.RLock,
        events: EventStream,
        run: Run,
        spawn: Callable[[Callable[[], object], str], threading.Thread | None],
        ending: threading.Event,
    ) -> None:
        self._lock = lock
        self._events = events
        self._run = run
        self._spawn = spawn
        self._ending = ending
        """Set when the session begins to close: a client that holds its connection stops holding at once."""

    def start(self, call: Call, clients: list[TrackedSocket], args: StepArgs) -> list[threading.Thread]:
        """Connect each client of a burst in its own thread, so each may wait in SYN_SENT on its own; the threads."""
        connect = step("client-connect")
        with self._lock:
            for tracked in clients:
                self._events.emit(SocketAdded, socket_id=tracked.id, name=tracked.name, side=Side.CLIENT)
            echo = None if args.payload is None else len(args.payload)
            self._events.emit(BurstStarted, call=call, count=len(clients), echo=echo)
        threads = []
        for tracked in clients:
            work = dataclasses.replace(args, burst_of=call.id)
            thread = self._spawn(lambda work=work, tracked=tracked: self._client(connect, work, tracked),
                                 f"sockviz-burst-{tracked.name}")  # fmt: skip
            if thread is None:
                break  # the session ended while the burst began: its clients are already closed
            threads.append(thread)
        return threads

    def _client(self, connect: Step, args: StepArgs, tracked: TrackedSocket) -> None:
        """One client of a burst: connect; for a burst that does work, send the message, read until its echo
        is whole (or the server closes), and close. Every call is the session's, so the log can time them."""
        ran = self._run(connect, args, target=tracked)
        if args.payload is None:
            return
        wanted, got = len(args.payload), 0
        if ran is not None and ran.error is None:
            sent = self._run(step("client-send"), args, target=tracked)
            while sent is not None and sent.error is None and got < wanted and not self._ending.is_set():
                read = self._run(step("client-recv"), args, target=tracked)
                if read is None or read.outcome is None or not read.outcome.data:
                    break
                got += len(read.outcome.data)
            self._ending.wait(args.hold)  # a client that goes on working keeps its connection a while
        if not self._ending.is_set():
            self._run(step("client-close"), args, target=tracked)
