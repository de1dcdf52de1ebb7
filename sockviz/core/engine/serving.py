"""The three ways to serve many clients, each a step that runs until cancelled.

A serve mode makes no socket call of its own: every accept(), recv(), sendall(), select() and
close() it needs is a call of the session (`CallSite.run`), so each one shows in the log, the
table, the timeline and the transcript like a click, marked with the serve call's id and the
server thread that made it. What differs is who waits where:

- blocking: one thread; while it waits in one client's recv(), the next client waits in the queue;
- threads: one thread accepts, and each connection gets a thread whose recv() waits on its own;
- select: one thread waits in select() for whichever socket is ready, so no other call waits.

Stopping has to wake every one of those waits, and on Linux only shutdown() does: cancelling the
serve call shuts the listener (the session's cancel does that) and here every connection the mode
serves, so accept(), select() and each recv() return, and the threads end.
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import threading
from collections.abc import Callable

from sockviz.core.engine.call_site import CallSite, Context, Outcome, Ran
from sockviz.core.engine.tracked import TrackedSocket
from sockviz.core.model.step_args import StepArgs
from sockviz.core.model.steps import Action, step

_THREAD_JOIN = 2.0
"""How long a stopping serve mode waits for its connection threads, all woken by then."""

MAIN_THREAD = "loop"
"""The name of the thread that runs a serve mode's loop, as the timeline says it (`s (loop)`); the threads
of the threads mode are `thread 1`, `thread 2`, ..."""


class Server:
    """One running serve mode: the connections it serves, its threads, and what it has done so far."""

    def __init__(self, ctx: Context, mode: str) -> None:
        assert ctx.tracked is not None
        self.ctx = ctx
        self.site: CallSite = ctx.site
        self.listener: TrackedSocket = ctx.tracked
        self.mode = mode
        self._lock = threading.Lock()
        self._conns: list[TrackedSocket] = []
        self._threads: list[threading.Thread] = []
        self._thread_names = itertools.count(1)
        self.busy_threads = 1
        """Threads serving now: the loop's own, and one per connection in the threads mode."""
        self.accepted = 0
        self.served = 0
        """Clients whose connection this mode closed after their b'' (or their error)."""
        self.echoed = 0
        self.cut: list[str] = []
        """Connections the mode shut down and closed as it stopped, with their clients not done, by name."""
        self.stopped_by: str | None = None
        self.site.serving(ctx.call, self.status, self.wake_all)

    def status(self) -> str:
        """For the table's row of s: how many threads serve, and how many clients were served."""
        threads = f"{self.busy_threads} thread{'s' if self.busy_threads != 1 else ''}"
        return f"serving ({self.mode}): {threads}, {self.served} of {self.accepted} clients served"

    def stopping(self) -> bool:
        return self.stopped_by is not None or self.ctx.cancelled() or self.site.ending

    def wake_all(self, why: str) -> None:
        """Wake every wait of this mode's calls on its connections: shutdown(), since close() would leave a
        blocked recv() waiting. A connection between two calls is shut too, so its next recv() returns b''."""
        self.stopped_by = why
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            self.site.wake_calls_on(conn, why=why, except_call=None, how=socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_RDWR)
            conn.shut_reading = conn.shut_writing = True

    def call(self, step_id: str, target: TrackedSocket, thread: str) -> Ran | None:
        """One call of the session, marked as this mode's, made in `thread`."""
        args = StepArgs(family=self.ctx.args.family, serve_of=self.ctx.call.id, thread=thread)
        return self.site.run(step(step_id), args, target=target)

    def accept(self) -> TrackedSocket | None:
        """The next client, or None when accept() failed (a cancel stops the listener) or the mode stops."""
        if self.stopping():
            return None
        ran = self.call("server-accept", self.listener, MAIN_THREAD)
        conn = None if ran is None or ran.outcome is None else ran.outcome.added
        if conn is None:
            return None
        self.adopt(conn)
        return conn

    def adopt(self, conn: TrackedSocket) -> None:
        """Serve this connection from now on (one that accept() returned, or that select() found readable)."""
        with self._lock:
            if conn in self._conns:
                return
            self._conns.append(conn)
            self.accepted += 1
        if self.stopping():  # stopped while this accept() returned: wake_all has not seen it
            self.wake_all(self.stopped_by or "the serve mode stopping")

    def echo_once(self, conn: TrackedSocket, thread: str) -> bool:
        """recv() once and send it back; False once the client is done (b'', an error) and was closed."""
        ran = self.call("server-recv", conn, thread)
        data = None if ran is None or ran.outcome is None else ran.outcome.data
        if data:
            sent = self.call("server-send", conn, thread)
            if sent is not None and sent.error is None:
                with self._lock:
                    self.echoed += len(data)
                return True
        cut = ran is not None and ran.outcome is not None and ran.outcome.cut_short  # b'' from our own shutdown
        self.finish(conn, thread, served=not cut and not self.stopping())
        return False

    def echo_until_closed(self, conn: TrackedSocket, thread: str) -> None:
        while not self.stopping() and self.echo_once(conn, thread):
            pass
        if self.stopping():
            self.finish(conn, thread, served=False)

    def finish(self, conn: TrackedSocket, thread: str, *, served: bool) -> None:
        """Close a client's connection once (through the session, so the log says it); `served` counts a client
        that was done (its b'' or its error), not one whose connection the stopping mode cut."""
        with self._lock:
            if conn not in self._conns:
                return
            self._conns.remove(conn)
            if served:
                self.served += 1
            else:
                self.cut.append(conn.name)
        if not conn.closed and not self.site.ending:
            self.call("server-close-conn", conn, thread)

    def spawn(self, conn: TrackedSocket) -> None:
        name = f"thread {next(self._thread_names)}"

        def work() -> None:
            try:
                self.echo_until_closed(conn, name)
            finally:
                with self._lock:
                    self.busy_threads -= 1

        with self._lock:
            self.busy_threads += 1
        thread = self.site.spawn(work, name=f"sockviz-serve-{conn.name}")
        if thread is None:  # the session is ending: nobody serves this one
            with self._lock:
                self.busy_threads -= 1
            return
        with self._lock:
            self._threads.append(thread)

    def end(self) -> Outcome:
        """Wake and wait for whatever still runs, then say what the mode did."""
        self.wake_all(self.stopped_by or self._why_stopped())
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(_THREAD_JOIN)
        with self._lock:
            left = list(self._conns)
        for conn in left:
            self.finish(conn, MAIN_THREAD, served=False)
        self.site.serving(self.ctx.call, None, None)
        name = self.listener.name
        clients = f"{self.served} client{'s' if self.served != 1 else ''}"
        started = len(threads)
        threads_said = f", with {started} thread{'s' if started != 1 else ''} for connections" if started else ""
        # wake_all's shutdown() of each has no line of its own in the log: this says what woke their calls.
        plural = "s" if len(self.cut) != 1 else ""
        cut = (f"; to stop, it shut down (SHUT_RDWR) and closed {len(self.cut)} connection{plural} still open: "
               f"{', '.join(self.cut)}") if self.cut else ""  # fmt: skip
        return Outcome(
            f"served {clients} on {name} and echoed {self.echoed} bytes{threads_said}{cut} "
            f"(stopped by {self.stopped_by})",
            cut_short=self.ctx.cancelled(),
        )

    def _why_stopped(self) -> str:
        if self.site.ending:
            return "the session ending"
        return f"an accept() or select() on {self.listener.name} that failed"


def _serve_blocking(ctx: Context) -> Outcome:
    server = Server(ctx, "blocking")
    while (conn := server.accept()) is not None:
        server.echo_until_closed(conn, MAIN_THREAD)
    return server.end()


def _serve_threads(ctx: Context) -> Outcome:
    server = Server(ctx, "threads")
    while (conn := server.accept()) is not None:
        server.spawn(conn)
    return server.end()


def _serve_select(ctx: Context) -> Outcome:
    server = Server(ctx, "select")
    while not server.stopping():
        ran = server.call("server-select", server.listener, MAIN_THREAD)
        if ran is None or ran.outcome is None or ran.outcome.cut_short or server.stopping():
            break
        for ready in ran.outcome.readable:
            if ready is server.listener:
                ran_accept = server.call("server-accept", server.listener, MAIN_THREAD)
                conn = None if ran_accept is None or ran_accept.outcome is None else ran_accept.outcome.added
                if conn is None:
                    return server.end()
                server.adopt(conn)
            elif not ready.closed:
                server.adopt(ready)
                server.echo_once(ready, MAIN_THREAD)
    return server.end()


SERVE_CALLS: dict[Action, Callable[[Context], Outcome]] = {
    Action.SERVE_BLOCKING: _serve_blocking,
    Action.SERVE_THREADS: _serve_threads,
    Action.SERVE_SELECT: _serve_select,
}
