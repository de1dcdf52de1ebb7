"""The session: it owns every socket of a lesson, runs steps and tells what happened.

`perform()` makes the real call in the calling thread and may block there for
as long as the call blocks; a front end runs it in a worker thread. Everything
else (snapshots, `close()`) is safe to call from any thread while steps block.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from sockviz.core.engine.calls import CALLS, Context, Outcome
from sockviz.core.engine.tracked import Role, TrackedSocket
from sockviz.core.engine.watch import BlockWatch
from sockviz.core.kernel.lingering import KernelTable
from sockviz.core.kernel.predict import predict
from sockviz.core.model.addresses import is_wildcard
from sockviz.core.model.bulk import CHUNK, send_piece
from sockviz.core.model.events import (
    BurstStarted,
    Call,
    Event,
    SocketAdded,
    StepBlocked,
    StepCalled,
    StepFailed,
    StepRefused,
    StepReturned,
)
from sockviz.core.model.payload import show_bytes
from sockviz.core.model.prediction import Prediction
from sockviz.core.model.reasons import explain
from sockviz.core.model.step_args import MAX_BURST, SHUTDOWN_NAMES, StepArgs
from sockviz.core.model.steps import Action, Side, Step, Target, step

__all__ = ["Session", "StepArgs"]

Listener = Callable[[Event], None]

_NAME_BASES = {Role.SERVER: "s", Role.CONNECTION: "conn", Role.CLIENT: "c"}
_RECENT_CALLS = 64
_ENDINGS = (Action.CLOSE, Action.SHUTDOWN, Action.CANCEL)
_WAKERS: dict[Action, tuple[Action, ...]] = {
    Action.ACCEPT: (Action.CONNECT, Action.BURST),
    Action.RECV: (Action.SEND, *_ENDINGS),
    Action.RECV_ALL: (Action.SEND, *_ENDINGS),
    Action.SEND: (Action.RECV, Action.RECV_ALL, *_ENDINGS),
    Action.CONNECT: (Action.ACCEPT, *_ENDINGS),
}
"""For a blocked call, the calls on the other side that can end its wait."""
_TARGET_OF_ROLE = {Role.SERVER: Target.LISTENER, Role.CONNECTION: Target.CONNECTION, Role.CLIENT: Target.CLIENT}


@dataclass(eq=False)
class _Running:
    """A call in progress: what the watcher and close() need to know of it."""

    call: Call
    tracked: TrackedSocket | None
    blocked: bool = False
    done: bool = False
    cancelled_by: str | None = None
    """Set when this session woke the call on purpose: the words for what woke it."""
    watch_token: int = 0
    done_bytes: int = 0
    total_bytes: int | None = None


def _same_ends(ends: tuple, wanted: tuple) -> bool:
    """Whether two ((host, port), (host, port)) pairs name one connection, `::ffff:` prefixes aside."""
    return all(a[1] == b[1] and a[0].removeprefix("::ffff:") == b[0].removeprefix("::ffff:")
               for a, b in zip(ends, wanted, strict=True))  # fmt: skip


class Session:
    """All sockets of one lesson, and the calls made on them."""

    def __init__(self, *, block_after: float = 0.02, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._epoch = clock()
        self._lock = threading.RLock()
        self._idle = threading.Condition(self._lock)
        self._listeners: list[Listener] = []
        self._sockets: list[TrackedSocket] = []
        self._servers: list[TrackedSocket] = []
        """The server sockets alone: a connect() hint looks for listeners without reading a thousand clients."""
        self._current: dict[Target, TrackedSocket] = {}
        self._running: dict[int, _Running] = {}
        self._recent: deque[Call] = deque(maxlen=_RECENT_CALLS)
        self._threads: list[threading.Thread] = []
        self._seq = itertools.count(1)
        self._call_ids = itertools.count(1)
        self._socket_ids = itertools.count(1)
        self._name_counts: dict[Role, int] = dict.fromkeys(Role, 0)
        self._watch = BlockWatch(block_after)
        self._kernel_table = KernelTable()
        self._ports: set[int] = set()
        self._closed = False
        self.listener_errors: list[Exception] = []
        """Exceptions from listeners, each of which was then unsubscribed."""

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
                busy = [r.tracked for r in self._running.values() if r.tracked and r.call.step.side is side]
                return busy[-1] if busy else None
            return self._current.get(target)

    def select(self, tracked: TrackedSocket) -> None:
        """Make this socket the one its side's steps act on."""
        with self._lock:
            self._current[_TARGET_OF_ROLE[tracked.role]] = tracked

    def running(self) -> tuple[Call, ...]:
        """Calls in progress, oldest first."""
        with self._lock:
            return tuple(r.call for r in self._running.values())

    def listening_everywhere(self) -> list[str]:
        """The names of the sockets listening on a wildcard address, so other machines can reach them.

        Asked of the kernel, not of the fields: listen() without bind() picks the wildcard by itself.
        """
        with self._lock:
            servers = [t for t in self._servers if not t.closed]
        names = []
        for tracked in servers:
            with contextlib.suppress(OSError):  # closed by another thread meanwhile
                sock = tracked.sock
                if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) and is_wildcard(sock.getsockname()[0]):
                    names.append(tracked.name)
        return names

    def progress(self) -> dict[int, tuple[int, int]]:
        """For calls that move a known number of bytes: call id to (done, total)."""
        with self._lock:
            return {r.call.id: (r.done_bytes, r.total_bytes) for r in self._running.values() if r.total_bytes}

    def predict(self, chosen: Step, args: StepArgs | None = None) -> Prediction | None:
        """Would this step block if run now? None when it never waits, or there is no socket yet."""
        with self._lock:
            tracked = self._default_target(chosen)
        return None if tracked is None else self._predict_for(chosen, tracked, args or StepArgs())

    def _predict_for(self, chosen: Step, tracked: TrackedSocket, args: StepArgs) -> Prediction | None:
        listeners = []
        if chosen.action is Action.CONNECT:
            with self._lock:
                listeners = [t.sock for t in self._servers if not t.closed]
        return predict(
            chosen.action,
            tracked.sock,
            payload_size=self._payload_size(tracked, args),
            listeners=listeners,
            address=args.endpoint.address if args.endpoint else None,
        )

    def uses_port(self, port: int) -> bool:
        """Whether the session's sockets have used or connected to this TCP port: what a capture keeps.

        Asked once per captured frame, so it takes no lock: the set only grows, and a membership
        test of a set is atomic in CPython.
        """
        return port in self._ports

    def owner_of(self, src: tuple[str, int], dst: tuple[str, int]) -> str:
        """The session's name for the socket that sent a segment from `src` to `dst`, or the address."""
        with self._lock:
            sockets = list(self._sockets)
        for tracked in sockets:
            if tracked.ends is not None and _same_ends(tracked.ends, (src, dst)):
                return tracked.name
        for tracked in reversed(sockets):  # before accept() the listener answers the handshake
            if tracked.role is Role.SERVER and tracked.bound_port == src[1]:
                return tracked.name
        return f"{src[0]}:{src[1]}"

    def read_lingering(self) -> None:
        """Ask the kernel about closed connections it still holds (TIME_WAIT and the like).

        A netlink query of about a millisecond (plus a one-off import): call it
        off the UI thread. Each closed socket's `after_close` is updated; once
        the kernel has dropped a connection it is not asked about again.
        """
        with self._lock:
            watched = [t for t in self._sockets if t.closed and t.ends is not None and not t.gone]
        if not watched:
            return
        found = self._kernel_table.lookup(t.ends for t in watched if t.ends)
        with self._lock:
            for tracked in watched:
                tracked.after_close = found.get(tracked.ends) if tracked.ends else None
                tracked.gone = tracked.after_close is None

    # ----- listening -------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Hear every event from now on, in order, in the thread that caused it.

        A listener must return quickly and must not block: it runs while the
        session holds its lock (which is what keeps the order exact).
        """
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def _emit(self, kind: type[Event], **fields: object) -> None:
        with self._lock:
            event = kind(seq=next(self._seq), at=self.now(), **fields)
            for listener in tuple(self._listeners):
                try:
                    listener(event)
                except Exception as error:  # noqa: BLE001 - a broken front end must not break the lesson
                    self._listeners.remove(listener)
                    self.listener_errors.append(error)

    # ----- running steps ---------------------------------------------------

    def perform(
        self, chosen: Step, args: StepArgs | None = None, *, target: TrackedSocket | None = None
    ) -> Call | None:
        """Run one step to its end in this thread; returns the call, or None if refused.

        Never raises for anything the socket does: errors become StepFailed events.
        """
        args = args or StepArgs()
        running = self._begin(chosen, args, target)
        if running is None:
            return None
        call = running.call
        started = self._clock()
        context = Context(call, running.tracked, args, self, lambda: running.cancelled_by is not None)
        try:
            outcome: Outcome = CALLS[chosen.action](context)
        except Exception as error:  # noqa: BLE001 - every error is part of the lesson
            waited = self._clock() - started
            on_listener = running.tracked is not None and running.tracked.role is Role.SERVER
            self._finish(running, StepFailed, waited, error=explain(error, chosen.action, on_listener=on_listener))
        else:
            waited = self._clock() - started
            if outcome.added is not None and chosen.action is not Action.BURST:
                self._emit(SocketAdded, socket_id=outcome.added.id, name=outcome.added.name, side=chosen.side)
            self._finish(running, StepReturned, waited, cut_short=outcome.cut_short, result=outcome.result,
                         data=outcome.data)  # fmt: skip
        return call

    def _default_target(self, chosen: Step) -> TrackedSocket | None:
        if chosen.target is Target.NEW:
            return None
        return self.current(chosen.target, chosen.side)

    def _begin(self, chosen: Step, args: StepArgs, target: TrackedSocket | None) -> _Running | None:
        with self._lock:
            if self._closed:
                self._emit(StepRefused, step=chosen, reason="the session has ended")
                return None
            tracked = None if chosen.target is Target.NEW else (target or self._default_target(chosen))
            reason = self._refusal(chosen, args, tracked)
            if reason:
                self._emit(StepRefused, step=chosen, reason=reason)
                return None
            if chosen.action is Action.CANCEL and tracked is not None:
                args.how = self._cancel_how(tracked)
            if tracked is not None:
                name = tracked.name
            elif chosen.action is Action.BURST:
                name = "clients"  # each client gets its own name as it is made
            else:
                name = self._next_name(Role.CLIENT if chosen.side is Side.CLIENT else Role.SERVER)
            prediction = None if tracked is None else self._predict_for(chosen, tracked, args)
            code = self._code(chosen, args, tracked, name)
            call = Call(next(self._call_ids), chosen, name, code, self.now(), prediction, args.burst_of)
            running = _Running(call, tracked, total_bytes=args.bulk if chosen.action is Action.SEND else args.expect)
            self._running[call.id] = running
            self._recent.append(call)
            if tracked is not None:
                tracked.in_flight.append(call)
            if args.endpoint is not None and chosen.action in (Action.CONNECT, Action.BURST):
                self._ports.add(args.endpoint.port)  # so a capture sees the SYN before connect() returns
            self._emit(StepCalled, call=call)
            if chosen.blocks_until is not None or chosen.action is Action.CLOSE:  # close() waits with SO_LINGER
                running.watch_token = self._watch.start(lambda: self._mark_blocked(running))
            return running

    def _refusal(self, chosen: Step, args: StepArgs, tracked: TrackedSocket | None) -> str | None:
        who = chosen.side.value
        if chosen.target is Target.BUSY and tracked is None:
            return f"no {who} call is running, so there is nothing to cancel"
        if chosen.target is not Target.NEW and tracked is None:
            return f"there is no {who} socket yet: run {who} socket() first (in Python this line would be a NameError)"
        if chosen.action in (Action.BIND, Action.CONNECT, Action.BURST) and args.endpoint is None:
            return f"{chosen.action.call}() needs an address"
        if chosen.action is Action.OPTION and args.option is None:
            return "choose an option and its value first"
        if chosen.action is Action.BURST and not 1 <= args.count <= MAX_BURST:
            return f"a burst opens from 1 to {MAX_BURST} clients"
        no_echo = args.payload is None and args.bulk is None and tracked is not None and tracked.last_received is None
        if chosen.action is Action.SEND and no_echo:
            assert tracked is not None
            return f"nothing has been received on {tracked.name} yet, so there is nothing to echo: type a message"
        return None

    def _cancel_how(self, tracked: TrackedSocket) -> int:
        """SHUT_RD wakes accept() and recv() and keeps the sending side; connect() and sendall() need SHUT_RDWR."""
        writers = (Action.CONNECT, Action.SEND, Action.BURST)
        busy = [r for r in self._running.values() if r.tracked is tracked and r.call.step.action in writers]
        return socket.SHUT_RDWR if busy else socket.SHUT_RD

    def _next_name(self, role: Role) -> str:
        self._name_counts[role] += 1
        count = self._name_counts[role]
        return _NAME_BASES[role] + ("" if count == 1 else str(count))

    def _code(self, chosen: Step, args: StepArgs, tracked: TrackedSocket | None, name: str) -> str:
        waiting = sum(1 for r in self._running.values() if r.call.step.action is Action.ACCEPT)
        count = self._name_counts[Role.CONNECTION] + 1 + waiting
        address = repr(args.endpoint.address) if args.endpoint else ""
        family = f"socket.{args.family.name}"
        if args.bulk is not None:
            total, piece = args.bulk, send_piece(tracked.sock) if tracked and not tracked.closed else CHUNK
            send = f"for i in range(0, {total}, {piece}): {name}.sendall(generated(i, min({piece}, {total} - i)))"
        elif args.payload is None:
            send = f"{name}.sendall(data)"
        else:
            send = f"{name}.sendall({show_bytes(args.payload, 60)})"
        if args.expect is None:
            recv_all = f"received = sum(iter(lambda: {name}.recv_into(buffer), 0))"
        else:
            want = f"min(len(buffer), {args.expect} - received)"
            recv_all = (
                f"received = 0\nwhile received < {args.expect} and (count := {name}.recv_into(buffer, {want})):"
                " received += count"
            )
        code = chosen.code.format(
            sock=name,
            new="conn" + ("" if count == 1 else str(count)) if chosen.action is Action.ACCEPT else name,
            family=family,
            address=address,
            send=send,
            recv_all=recv_all,
            how=f"socket.{SHUTDOWN_NAMES.get(args.how, args.how)}",
            bufsize=args.bufsize,
            backlog="" if args.backlog is None else args.backlog,
            option=args.option.option.line(name, args.option.value) if args.option else "",
            burst=f"for c in [socket.socket({family}, socket.SOCK_STREAM) for _ in range({args.count})]: "
            f"threading.Thread(target=c.connect, args=({address},)).start()",
        )
        if chosen.action is Action.CLOSE and tracked is not None and tracked.in_flight:
            code = f"{name}.shutdown(socket.SHUT_RDWR); {code}"
        return code

    def _payload_size(self, tracked: TrackedSocket, args: StepArgs) -> int | None:
        if args.bulk is not None:
            return args.bulk
        data = args.payload if args.payload is not None else tracked.last_received
        return None if data is None else len(data)

    def _mark_blocked(self, running: _Running) -> None:
        with self._lock:
            if running.done:
                return
            running.blocked = True
            self._emit(StepBlocked, call=running.call)

    def _finish(
        self, running: _Running, kind: type[Event], waited: float, *, cut_short: bool = False, **fields: object
    ) -> None:
        """Say how the call ended. A call this session woke on purpose counts as cancelled only if the wake
        decided its outcome: an accept() that already had its connection when the socket closed returned it."""
        self._watch.cancel(running.watch_token)
        with self._lock:
            running.done = True
            cancelled = running.cancelled_by is not None and (kind is StepFailed or cut_short)
            woken_by, waker = (running.cancelled_by if cancelled else None), None
            if not cancelled and running.blocked:
                waker = self._waker(running.call)
                woken_by = None if waker is None else waker.who
            self._emit(
                kind,
                call=running.call,
                waited=waited,
                blocked=running.blocked,
                woken_by=woken_by,
                woken_by_call=None if waker is None else waker.id,
                cancelled=cancelled,
                **fields,
            )
            if running.tracked is not None:
                self._ports.update(running.tracked.ports())
            del self._running[running.call.id]
            if running.tracked is not None:
                running.tracked.in_flight.remove(running.call)
            self._idle.notify_all()

    def _waker(self, call: Call) -> Call | None:
        """The call made while `call` waited that most likely woke it.

        The latest one of the kinds that can wake it (a connect() wakes an accept(), a send or a
        close wakes a recv()); failing that, the latest call of any kind.
        """
        candidates = []
        for other in reversed(self._recent):
            if other.started < call.started:
                break
            if other.id != call.id and (other.socket_name != call.socket_name or other.step.action is Action.CLOSE):
                candidates.append(other)
        wakers = _WAKERS.get(call.step.action, ())
        likely = next((other for other in candidates if other.step.action in wakers), None)
        return likely or (candidates[0] if candidates else None)

    # ----- what calls ask of the session (the CallSite) ---------------------

    def adopt(self, sock: socket.socket, role: Role, *, select: Target, name: str | None = None) -> TrackedSocket:
        """Take a new socket into the session (from socket(), accept() or a burst).

        Once the session has ended it closes the socket at once: a burst still making its clients,
        or an accept() that returned as close() began, must not leave an fd that nobody closes.
        """
        with self._lock:
            tracked = TrackedSocket(next(self._socket_ids), name or self._next_name(role), role, sock, self.now())
            self._sockets.append(tracked)
            if role is Role.SERVER:
                self._servers.append(tracked)
            self._current[select] = tracked
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
            others = [r for r in self._running.values() if r.tracked is tracked and r.call is not except_call]
            for other in others:
                other.cancelled_by = why
        if others:
            # A listener or a connecting socket answers ENOTCONN, yet the shutdown still wakes the call.
            with contextlib.suppress(OSError):
                tracked.sock.shutdown(how)
        return [other.call.label for other in others]

    def count(self, tracked: TrackedSocket, call: Call, *, sent: int = 0, received: int = 0) -> None:
        """Add to a socket's byte counts, and to the progress of the call moving them."""
        with self._lock:
            tracked.bytes_sent += sent
            tracked.bytes_received += received
            running = self._running.get(call.id)
            if running is not None:
                running.done_bytes += sent + received

    def peer_of(self, tracked: TrackedSocket) -> TrackedSocket | None:
        """The session's socket at the other end of this connection, if the session has it."""
        ends = tracked.ends or tracked.current_ends()
        if ends is None:
            return None
        mirrored = (ends[1], ends[0])
        with self._lock:
            candidates = [t for t in self._sockets if t is not tracked]
        for other in candidates:
            if (other.ends or other.current_ends()) == mirrored:
                return other
        return None

    def start_burst(self, call: Call, clients: list[TrackedSocket], args: StepArgs) -> None:
        """Connect each client of a burst in its own thread, so each may wait in SYN_SENT on its own."""
        connect = step("client-connect")
        with self._lock:
            for tracked in clients:
                self._emit(SocketAdded, socket_id=tracked.id, name=tracked.name, side=Side.CLIENT)
            self._emit(BurstStarted, call=call, count=len(clients))
        for tracked in clients:
            if self._closed:
                break  # the session ended while the burst began: its clients are already closed
            thread = threading.Thread(
                target=self.perform,
                args=(connect, dataclasses.replace(args, burst_of=call.id)),
                kwargs={"target": tracked},
                name=f"sockviz-burst-{tracked.name}",
                daemon=True,
            )
            with self._lock:
                self._threads.append(thread)
            thread.start()

    # ----- the end ---------------------------------------------------------

    def close(self, timeout: float = 1.0) -> bool:
        """Close every socket, waking blocked calls; True once no call is left running.

        Clients close first, so that TIME_WAIT lands on their ephemeral ports
        and the server's port is free for the next run.
        """
        with self._lock:
            # From here on adopt() closes every new socket itself, so this list is all that needs closing.
            self._closed = True
            order = sorted(self._sockets, key=lambda t: (t.role is not Role.CLIENT, t.role is Role.SERVER))
        deadline = time.monotonic() + timeout
        for tracked in order:
            tracked.remember_ends()
            self.wake_calls_on(tracked, why="the session ending")
            tracked.sock.close()
        with self._lock:
            while self._running and time.monotonic() < deadline:
                # A call that began just as its socket closed may have missed the wake-up.
                for tracked in {id(r.tracked): r.tracked for r in self._running.values() if r.tracked}.values():
                    self.wake_calls_on(tracked, why="the session ending")
                self._idle.wait(0.05)
            finished = not self._running
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._watch.stop()
        self._kernel_table.close()
        return finished and not any(t.is_alive() for t in threads)
