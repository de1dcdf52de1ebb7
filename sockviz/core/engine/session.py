"""The session: it owns every socket the user makes, runs steps and tells what happened.

`perform()` makes the real call in the calling thread and may block there for
as long as the call blocks; a front end runs it in a worker thread. Everything
else (snapshots, `close()`) is safe to call from any thread while steps block.

Its parts have modules of their own: the calls (calls.py), the calls in progress (in_progress.py), why a step
is refused (refusals.py), the event stream (stream.py), noticing a block (watch.py) and what woke it
(waker.py), whether a step would block now (predictions.py), the other end of a socket or a blocked call
(partners.py), the ports it still has something on (port_book.py), a burst's clients (bursts.py), the
sockets' names and calls' lines (naming.py) and the order of steps asked for together (turns.py); the
kernel's answers come from core/kernel. At about 600 lines this
module is over the 350 the others keep to, for a reason: what is left is the work done under the session's one
lock (a call's beginning and end, the sockets it adopts, the shutdown that wakes calls, the serve modes'
bookkeeping, close()), whose order this class keeps, and the questions a front end asks of the session, each a
few lines under that lock; split further, that order would be spread over modules.
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import threading
import time
from collections.abc import Callable

from sockviz.core.engine.bursts import Bursts
from sockviz.core.engine.call_site import Context, Outcome, Ran
from sockviz.core.engine.in_progress import CallBook, Running
from sockviz.core.engine.naming import Names, call_line
from sockviz.core.engine.partners import Partners
from sockviz.core.engine.port_book import PortBook
from sockviz.core.engine.predictions import Predictions
from sockviz.core.engine.refusals import refusal
from sockviz.core.engine.stream import EventStream, Listener
from sockviz.core.engine.tracked import Role, TrackedSocket
from sockviz.core.engine.turns import HOLDS_NOTHING_UP, Turn, Turns
from sockviz.core.engine.waker import find_waker
from sockviz.core.engine.watch import BlockWatch
from sockviz.core.kernel.lingering import KernelTable
from sockviz.core.kernel.listening import lingers, listens_everywhere, reuses_address
from sockviz.core.model.addresses import on_this_machine
from sockviz.core.model.code_lines import method_of
from sockviz.core.model.events import (
    Call,
    Event,
    SocketAdded,
    StepBlocked,
    StepCalled,
    StepFailed,
    StepRefused,
    StepReturned,
)
from sockviz.core.model.prediction import Prediction
from sockviz.core.model.reasons import explain
from sockviz.core.model.step_args import StepArgs
from sockviz.core.model.steps import SERVE_ACTIONS, Action, Side, Step, Target, step
from sockviz.core.model.transport import Transport

__all__ = ["Session", "StepArgs"]


_RECHECK_LIMIT = 0.32
"""A call the kernel says is not waiting is looked at again after the grace, then twice as late, up to this."""
_TARGET_OF_ROLE = {Role.SERVER: Target.LISTENER, Role.CONNECTION: Target.CONNECTION, Role.CLIENT: Target.CLIENT}


class Session:
    """Every socket of one session, and the calls made on them."""

    def __init__(self, *, block_after: float = 0.02, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._epoch = clock()
        self._lock = threading.RLock()
        self._idle = threading.Condition(self._lock)
        self._events = EventStream(self._lock, self.now)
        self._sockets: list[TrackedSocket] = []
        self._servers: list[TrackedSocket] = []
        """The server sockets alone: a connect() hint looks for listeners without reading a thousand clients."""
        self._current: dict[Target, TrackedSocket] = {}
        self._calls = CallBook()
        self._threads: list[threading.Thread] = []
        self._call_ids = itertools.count(1)
        self._socket_ids = itertools.count(1)
        self._names = Names()
        self._grace = block_after
        self._watch = BlockWatch(block_after)
        self._kernel_table = KernelTable()
        self._port_book = PortBook()
        self._closing: set[TrackedSocket] = set()
        """Closed connections whose ports stay held until the kernel says it has dropped them (read_lingering)."""
        self._closed_since_reading = False
        self._lingering_read_at = 0.0
        self._closed = False
        self._ending = threading.Event()
        """Set with `_closed`: a burst's client that holds its connection stops holding at once."""
        self._serving: dict[int, Callable[[], str]] = {}
        """Each running serve mode's call id, and how it tells what it is doing now (for the table)."""
        self._partners = Partners(self._lock, self._sockets, self._servers)
        self._predictions = Predictions(self._lock, self._sockets, self._servers)
        self._bursts = Bursts(self._lock, self._events, self.run, self.spawn, self._ending)
        self._turns = Turns()

    # ----- reading ---------------------------------------------------------

    def now(self) -> float:
        """Seconds since the session began, on the session's clock."""
        return self._clock() - self._epoch

    @property
    def sockets(self) -> tuple[TrackedSocket, ...]:
        """Every socket the session made, open or closed, oldest first."""
        with self._lock:
            return tuple(self._sockets)

    def current(self, target: Target, side: Side = Side.SERVER) -> TrackedSocket | None:
        """The socket a step with this target acts on when none is chosen.

        For a connection step that is the chosen (or newest) accepted
        connection; with none accepted yet it is the server's own socket, so
        that `recv()` before `accept()` shows the real error. For BUSY, the
        newest socket of `side` with a call running.
        """
        with self._lock:
            if target is Target.CONNECTION:
                return self._current.get(Target.CONNECTION) or self._current.get(Target.LISTENER)
            if target is Target.BUSY:
                return self._calls.newest_busy(side)
            return self._current.get(target)

    def select(self, tracked: TrackedSocket) -> None:
        """Make this socket the one its side's steps act on."""
        with self._lock:
            self._current[_TARGET_OF_ROLE[tracked.role]] = tracked

    def running(self) -> tuple[Call, ...]:
        """Calls in progress, oldest first."""
        with self._lock:
            return self._calls.calls()

    def listening_everywhere(self) -> list[str]:
        """The names of the sockets listening on a wildcard address, so other machines can reach them.

        Asked of the kernel, not of the fields: listen() without bind() picks the wildcard by itself.
        """
        with self._lock:
            servers = [t for t in self._servers if not t.closed]
        return [tracked.name for tracked in servers if listens_everywhere(tracked.sock)]

    def progress(self) -> dict[int, tuple[int, int]]:
        """For calls that move a known number of bytes: call id to (done, total)."""
        with self._lock:
            return self._calls.progress()

    def last_transfer(self, side: Side) -> tuple[int, int] | None:
        """(done, total) bytes of this side's newest sendall() or recv all, running or ended, if its size is known.

        It stays after the call ends, so a progress bar shows where the transfer got to (all of it, or where
        it was cut short) until the next one; and a bar that stays costs the screen no new layout per transfer.
        None when the newest one has no known size (a message, or recv all until the peer closes).
        """
        with self._lock:
            return self._calls.last_transfer(side)

    def predict(self, chosen: Step, args: StepArgs | None = None) -> Prediction | None:
        """Would this step block if run now? None when it never waits, or there is no socket yet."""
        with self._lock:
            tracked = self._default_target(chosen)
        return None if tracked is None else self._predictions.for_step(chosen, tracked, args or StepArgs())

    def ports(self) -> frozenset[int]:
        """Every port the session still has something on: what the capture's filter keeps (port_book.py).

        An open socket's own port and its peer's, the port a running connect() or sendto() sends to, and the
        ports of a closed connection until the kernel has dropped it (its TIME_WAIT ended: `read_lingering`).
        """
        with self._lock:
            return self._port_book.ports()

    def read_lingering(self) -> None:
        """Ask the kernel about closed connections it still holds (TIME_WAIT and the like).

        A netlink query of about a millisecond (plus a one-off import): call it
        off the UI thread. Each closed socket's `after_close` is updated; once
        the kernel has dropped a connection it is not asked about again.
        """
        with self._lock:
            watched = [t for t in self._sockets if t.closed and t.ends is not None and not t.gone and not t.datagram]
            self._lingering_read_at, self._closed_since_reading = time.monotonic(), False
        if not watched:
            return
        found = self._kernel_table.lookup(t.ends for t in watched if t.ends)
        with self._lock:
            for tracked in watched:
                tracked.after_close = found.get(tracked.ends) if tracked.ends else None
                tracked.gone = tracked.after_close is None
                if tracked.gone:
                    self._closing.discard(tracked)
                    self._port_book.release(tracked)  # nothing of it is left on its ports

    def read_lingering_when_due(self, every: float) -> None:
        """`read_lingering`, when a connection closed since the last reading or `every` seconds have passed
        while one lingers; nothing (not even the netlink query) when no closed connection holds a port.

        For a capture that follows the session's ports without a screen that reads the kernel once a second.
        """
        with self._lock:
            due = bool(self._closing) and (
                self._closed_since_reading or time.monotonic() - self._lingering_read_at >= every
            )
        if due:
            self.read_lingering()

    # ----- listening -------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Hear every event from now on, in order, in the thread that caused it; returns the way to stop.

        A listener must return quickly and must not block: it runs while the
        session holds its lock (which is what keeps the order exact).
        """
        return self._events.subscribe(listener)

    # ----- running steps ---------------------------------------------------

    def turn(self, chosen: Step) -> Turn:
        """A place in line for a step asked for now, for `perform(turn=...)` in a thread of its own: its call
        waits until the step asked for before it has returned, failed, been refused or blocked (turns.py)."""
        return self._turns.take(chosen)

    def perform(
        self,
        chosen: Step,
        args: StepArgs | None = None,
        *,
        target: TrackedSocket | None = None,
        turn: Turn | None = None,
    ) -> Call | None:
        """Run one step to its end in this thread; returns the call, or None if refused. With a `turn`, it
        first waits for the steps asked for before it (see `turn`).

        Never raises for anything the socket does: errors become StepFailed events.
        """
        if turn is None:
            ran = self.run(chosen, args or StepArgs(), target=target)
            return None if ran is None else ran.call
        turn.wait()
        try:
            ran = self.run(chosen, args or StepArgs(), target=target, turn=turn)
        finally:
            turn.settle()  # returned, failed or refused (a blocked call settled it as it blocked)
        return None if ran is None else ran.call

    def run(
        self, chosen: Step, args: StepArgs, *, target: TrackedSocket | None = None, turn: Turn | None = None
    ) -> Ran | None:
        """`perform`, for a caller that goes on from what the call gave back: a serve mode echoes what its
        recv() returned, a burst's client reads until its echo is whole. None if the step was refused."""
        running = self._begin(chosen, args, target)
        if running is None:
            return None
        running.turn = turn
        if turn is not None and chosen.action in HOLDS_NOTHING_UP:
            turn.settle()  # a serve mode or a burst runs for as long as it is let: the next step goes on
        call = running.call
        started = self._clock()
        context = Context(call, running.tracked, args, self, lambda: running.cancelled_by is not None,
                          running.selecting)  # fmt: skip
        # The calls' modules load with the first step: nothing before the first frame makes a call.
        from sockviz.core.engine.calls import CALLS
        from sockviz.core.engine.datagrams import DATAGRAM_CALLS
        from sockviz.core.engine.serving import SERVE_CALLS

        calls = DATAGRAM_CALLS if call.datagram and chosen.action in DATAGRAM_CALLS else CALLS
        try:
            outcome: Outcome = (calls.get(chosen.action) or SERVE_CALLS[chosen.action])(context)
        except Exception as error:  # noqa: BLE001 - every error is part of the lesson
            waited = self._clock() - started
            on_listener = running.tracked is not None and running.tracked.role is Role.SERVER and not call.datagram
            shut_writing = running.tracked is not None and running.tracked.shut_writing
            reuse = chosen.action is Action.BIND and reuses_address(running.tracked.sock) if running.tracked else False
            report = explain(error, chosen.action, on_listener=on_listener, shut_writing=shut_writing,
                             reuse_address=reuse)  # fmt: skip
            self._finish(running, StepFailed, waited, error=report)
            return Ran(call, None, error)
        waited = self._clock() - started
        if outcome.added is not None and chosen.action is not Action.BURST:
            self._events.emit(SocketAdded, socket_id=outcome.added.id, name=outcome.added.name, side=chosen.side)
        readiness = {}
        if chosen.action is Action.SELECT:
            running.ready, running.ready_words = tuple(outcome.readable), outcome.ready_words
            readiness = {"readable": tuple(t.name for t in outcome.readable),
                         "writable": tuple(t.name for t in outcome.writable)}  # fmt: skip
        self._finish(running, StepReturned, waited, cut_short=outcome.cut_short, added=outcome.added,
                     sender=outcome.sender, result=outcome.result, data=outcome.data, **readiness)  # fmt: skip
        return Ran(call, outcome, None)

    def refusal(self, chosen: Step, args: StepArgs | None = None) -> str | None:
        """Why `perform` would refuse the step now (no socket to act on, say), or None if it would run it.

        The same check `perform` makes, so a step the screen shows as not runnable is refused for the
        reason shown, in the same words."""
        with self._lock:
            if self._closed:
                return "the session has ended"
            args = args or StepArgs()
            tracked = self._default_target(chosen, args.transport)
            return refusal(chosen, args, tracked) or self._serving_already(chosen)

    def _default_target(self, chosen: Step, transport: Transport = Transport.TCP) -> TrackedSocket | None:
        """The socket a step acts on when none is chosen: on UDP a burst sends from the client's socket."""
        target = chosen.target_on(transport)
        if target is Target.NEW:
            return None
        return self.current(target, chosen.side)

    def _begin(self, chosen: Step, args: StepArgs, target: TrackedSocket | None) -> Running | None:
        with self._lock:
            if self._closed:
                self._events.emit(StepRefused, step=chosen, reason="the session has ended")
                return None
            makes_new = chosen.target_on(args.transport) is Target.NEW
            tracked = None if makes_new else (target or self._default_target(chosen, args.transport))
            reason = refusal(chosen, args, tracked) or self._serving_already(chosen)
            if reason:
                self._events.emit(StepRefused, step=chosen, reason=reason)
                return None
            if chosen.action is Action.CANCEL and tracked is not None:
                args.how = self._calls.cancel_how(tracked)
            if tracked is not None:
                name = tracked.name
            elif chosen.action is Action.BURST:
                name = "clients"  # each client gets its own name as it is made
            else:
                name = self._names.next(Role.CLIENT if chosen.side is Side.CLIENT else Role.SERVER)
            selecting = (
                self._predictions.watched_by_select(tracked) if chosen.action is Action.SELECT and tracked else ()
            )
            prediction = None if tracked is None else self._predictions.for_step(chosen, tracked, args)
            datagram = tracked.datagram if tracked is not None else args.transport is Transport.UDP
            connected = datagram and tracked is not None and tracked.current_ends() is not None
            watching = tuple(t.name for t in selecting)
            new = self._names.of_accepted(self._calls.accepts_waiting()) if chosen.action is Action.ACCEPT else name
            code = call_line(chosen, args, tracked, name, new=new, datagram=datagram, connected=connected,
                             watching=watching)  # fmt: skip
            method = method_of(chosen, datagram=datagram, connected=connected, args=args)
            call = Call(next(self._call_ids), chosen, name, code, self.now(), prediction, args.burst_of,
                        datagram=datagram, method=method, serve_of=args.serve_of, thread=args.thread)  # fmt: skip
            total = args.bulk if chosen.action is Action.SEND else args.expect
            running = self._calls.begin(call, tracked, total)
            running.selecting, running.call_writes = selecting, args.select_write
            if chosen.action is Action.CONNECT and args.endpoint is not None:
                running.address = args.endpoint.address
                running.listener = self._partners.listener_at(args.endpoint.address)
                running.remote = not on_this_machine(args.endpoint.host)
            if tracked is not None:
                tracked.in_flight.append(call)
            sends_to = chosen.action in (Action.CONNECT, Action.BURST) or (datagram and chosen.action is Action.SEND)
            if args.endpoint is not None and sends_to:
                self._port_book.hold(("call", call.id), (args.endpoint.port,))  # the SYN goes before connect() returns
            self._events.emit(StepCalled, call=call)
            lingering_close = chosen.action is Action.CLOSE and tracked is not None and lingers(tracked.sock)
            if call.form.blocks_until is not None or lingering_close:
                running.watch_token = self._watch.start(lambda: self._look_at(running))
            return running

    def _serving_already(self, chosen: Step) -> str | None:
        """Two serve modes at once would take each other's clients: the second is refused, with the way out."""
        if chosen.action not in SERVE_ACTIONS:
            return None
        running = next((c for c in self._calls.calls() if c.step.action in SERVE_ACTIONS), None)
        if running is None:
            return None
        cancel = step("server-cancel")
        return (f"{running.label} is serving on {running.socket_name} already: {cancel.label} ({cancel.key}) "
                "stops it first")  # fmt: skip

    def _look_at(self, running: Running) -> None:
        """The grace is over and the call still runs: tell it as blocked if the kernel says it waits.

        A call that is only slow (its thread has not run yet on a busy machine, or it is returning)
        is looked at again a little later, for as long as it runs.
        """
        with self._lock:
            if running.done:
                return
            if not running.waiting():
                running.recheck = min(_RECHECK_LIMIT, 2 * (running.recheck or self._grace))
                running.watch_token = self._watch.start(lambda: self._look_at(running), after=running.recheck)
                return
            running.blocked = True
            self._events.emit(StepBlocked, call=running.call)
            if running.turn is not None:
                running.turn.settle()  # another thread would wait beside it: the next step goes on

    def _finish(
        self,
        running: Running,
        kind: type[Event],
        waited: float,
        *,
        cut_short: bool = False,
        added: TrackedSocket | None = None,
        sender: tuple | None = None,
        **fields: object,
    ) -> None:
        """Say how the call ended. A call this session woke on purpose counts as cancelled only if the wake
        decided its outcome: an accept() that already had its connection when the socket closed returned it."""
        self._watch.cancel(running.watch_token)
        cancelled = running.cancelled_by is not None and (kind is StepFailed or cut_short)
        # Read before taking the lock: finding the peer may ask the kernel about every socket of a burst.
        partner = self._partners.of_blocked(running, added, sender) if running.blocked and not cancelled else None
        with self._lock:
            self._calls.mark_ended(running)
            woken_by, waker, timed_out = (running.cancelled_by if cancelled else None), None, False
            if not cancelled and running.blocked:
                error = fields.get("error")
                timed_out = kind is StepFailed and getattr(error, "exception", None) == "TimeoutError"
                wake = find_waker(running.call, self._calls.overlapping(running), partner, timed_out=timed_out)
                woken_by, waker = wake.words, wake.call
                if woken_by is None and not timed_out and running.ready_words:
                    woken_by = running.ready_words  # select(): what made a socket ready is what ended its wait
            self._events.emit(
                kind,
                call=running.call,
                waited=waited,
                blocked=running.blocked,
                woken_by=woken_by,
                woken_by_call=None if waker is None else waker.id,
                timed_out=timed_out,
                cancelled=cancelled,
                **fields,
            )
            for tracked in (running.tracked, added):
                if tracked is not None:
                    self._hold_ports(tracked)
            self._port_book.release(("call", running.call.id))
            self._calls.retire(running)
            if running.tracked is not None:
                running.tracked.in_flight.remove(running.call)
            self._idle.notify_all()

    def _hold_ports(self, tracked: TrackedSocket) -> None:
        """After a call: the socket holds the ports it uses; once closed, only until nothing of it is left.

        A socket that never connected, or a UDP one, leaves nothing in the kernel: its ports go at its close.
        A TCP connection's go once the kernel has dropped it (`read_lingering`), so its TIME_WAIT is captured.
        """
        if not tracked.closed:
            self._port_book.hold(tracked, tracked.ports())
        elif tracked.ends is None or tracked.datagram or tracked.gone:
            self._port_book.release(tracked)
        elif tracked not in self._closing:
            self._port_book.hold(tracked, (tracked.ends[0][1], tracked.ends[1][1]))
            self._closing.add(tracked)
            self._closed_since_reading = True

    # ----- what calls ask of the session (the CallSite) ---------------------

    def adopt(self, sock: socket.socket, role: Role, *, select: Target, name: str | None = None) -> TrackedSocket:
        """Take a new socket into the session (from socket(), accept() or a burst).

        Once the session has ended it closes the socket at once: a burst still making its clients,
        or an accept() that returned as close() began, must not leave an fd that nobody closes.
        """
        with self._lock:
            tracked = TrackedSocket(next(self._socket_ids), name or self._names.next(role), role, sock)
            self._sockets.append(tracked)
            if role is Role.SERVER:
                self._servers.append(tracked)
            self._current[select] = tracked
            if role is Role.SERVER and tracked.datagram:
                # UDP has no connections: the server's recv() and sendto() act on the new socket itself, not
                # on a connection that an earlier TCP socket accepted.
                self._current.pop(Target.CONNECTION, None)
            if self._closed:
                sock.close()
            return tracked

    def wake_calls_on(
        self, tracked: TrackedSocket, *, why: str, except_call: Call | None = None, how: int = socket.SHUT_RDWR
    ) -> list[str]:
        """Wake every call blocked on this socket with shutdown(), the one thing Linux wakes them with.

        `why` is what the woken calls will say woke them.
        """
        with self._lock:
            others = self._calls.on(tracked, except_call)
            for other in others:
                other.cancelled_by = why
        for other in others:
            if other.on_cancel is not None:  # a serve mode wakes the calls it made on its connections too
                other.on_cancel(why)
        if others:
            # A listener or a connecting socket answers ENOTCONN, yet the shutdown still wakes the call.
            with contextlib.suppress(OSError):
                tracked.sock.shutdown(how)
        return [other.call.label for other in others]

    def let_calls_leave(self, tracked: TrackedSocket, *, why: str, except_call: Call, timeout: float = 1.0) -> None:
        """Wait until no call but `except_call` is left on this socket, waking them again every 50 ms, or until
        the timeout: a close() step closes the fd only then. Closed at once, a call still entering the kernel
        as its socket was shut down could not be woken again (a connect() not yet in SYN_SENT is not reset
        by shutdown()), and could even meet its fd's number given to a new socket."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._calls.on(tracked, except_call) and time.monotonic() < deadline:
                self._idle.wait(0.05)
                if self._calls.on(tracked, except_call):
                    self.wake_calls_on(tracked, why=why, except_call=except_call)

    def count(self, tracked: TrackedSocket, call: Call, *, sent: int = 0, received: int = 0) -> None:
        """Add to a socket's byte counts, and to the progress of the call moving them."""
        with self._lock:
            tracked.bytes_sent += sent
            tracked.bytes_received += received
            running = self._calls.get(call.id)
            if running is not None:
                running.done_bytes += sent + received

    @property
    def ending(self) -> bool:
        """Whether the session has begun to close: a serve mode or a burst's client stops making calls."""
        return self._closed

    def spawn(self, work: Callable[[], object], name: str) -> threading.Thread | None:
        """Start a thread that makes calls of the session (a serve mode's thread per connection); close()
        waits for it. None once the session is ending."""
        thread = threading.Thread(target=work, name=name, daemon=True)
        with self._lock:
            if self._closed:
                return None
            self._threads.append(thread)
        thread.start()
        return thread

    def serving(self, call: Call, status: Callable[[], str] | None, on_cancel: Callable[[str], None] | None) -> None:
        """A serve mode's call says how it tells its state (None: it has ended) and what wakes its calls."""
        with self._lock:
            if status is None:
                self._serving.pop(call.id, None)
            else:
                self._serving[call.id] = status
            running = self._calls.get(call.id)
            if running is not None:
                running.on_cancel = on_cancel
        if on_cancel is not None and running is not None and running.cancelled_by is not None:
            on_cancel(running.cancelled_by)  # cancelled before it could say how

    def serve_status(self) -> dict[int, str]:
        """Each running serve mode's call id and what it is doing: `3 threads serve, 5 clients served`."""
        with self._lock:
            tellers = dict(self._serving)
        return {call_id: tell() for call_id, tell in tellers.items()}

    def peer_of(self, tracked: TrackedSocket) -> TrackedSocket | None:
        """The session's socket at the other end of this connection, if the session has it."""
        return self._partners.peer_of(tracked)

    def sent_here(self, tracked: TrackedSocket) -> dict[str, int]:
        """For each of the session's sockets that sent datagrams to this socket's address: its name and how many."""
        return self._partners.sent_here(tracked)

    def start_burst(self, call: Call, clients: list[TrackedSocket], args: StepArgs) -> list[threading.Thread]:
        """Connect each client of a burst in its own thread (bursts.py); the threads."""
        return self._bursts.start(call, clients, args)

    # ----- the end ---------------------------------------------------------

    def close(self, timeout: float = 1.0) -> bool:
        """Close every socket, waking blocked calls; True once no call is left running.

        Clients close first, so that TIME_WAIT lands on their ephemeral ports
        and the server's port is free for the next run.
        """
        with self._lock:
            # From here on adopt() closes every new socket itself, so this list is all that needs closing.
            self._closed = True
            self._ending.set()
        self._turns.end()  # steps waiting for their turn go on, to be refused: the session has ended
        with self._lock:
            order = sorted(self._sockets, key=lambda t: (t.role is not Role.CLIENT, t.role is Role.SERVER))
        deadline = time.monotonic() + timeout
        busy = []
        for tracked in order:
            tracked.remember_ends()
            if self.wake_calls_on(tracked, why="the session ending"):
                busy.append(tracked)  # closed once its calls have left it, below
            else:
                tracked.sock.close()  # no call runs on it, and none can begin now
        with self._lock:
            while self._calls and time.monotonic() < deadline:
                # A call that was entering the kernel as its socket was shut down missed the wake-up: a
                # connect() not yet in SYN_SENT is not reset by shutdown(), and waits in SYN_SENT after it
                # for a SYN-ACK that a full queue may never send. Shut down again, on the socket still open.
                for tracked in self._calls.sockets():
                    self.wake_calls_on(tracked, why="the session ending")
                self._idle.wait(0.05)
            finished = not self._calls
            threads = list(self._threads)
        # Only now, with no call left on them (or the deadline passed), are their fds closed: closed at once, a
        # call still entering the kernel could no longer be shut down, and could even meet its fd's number
        # given to a new socket meanwhile.
        for tracked in busy:
            tracked.sock.close()
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._watch.stop()
        self._kernel_table.close()
        return finished and not any(t.is_alive() for t in threads)
