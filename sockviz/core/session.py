"""The session: it owns every socket of a lesson, runs steps and tells what happened.

`perform()` makes the real call in the calling thread and may block there for
as long as the call blocks; a front end runs it in a worker thread. Everything
else (snapshots, `close()`) is safe to call from any thread while steps block.
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from sockviz.core.addresses import Endpoint
from sockviz.core.events import (
    Call,
    Event,
    SocketAdded,
    StepBlocked,
    StepCalled,
    StepFailed,
    StepRefused,
    StepReturned,
)
from sockviz.core.explain import explain
from sockviz.core.payload import show_bytes
from sockviz.core.steps import Action, Side, Step, Target
from sockviz.core.tracked import Role, TrackedSocket
from sockviz.core.watch import BlockWatch

Listener = Callable[[Event], None]

SHUTDOWN_NAMES = {socket.SHUT_RD: "SHUT_RD", socket.SHUT_WR: "SHUT_WR", socket.SHUT_RDWR: "SHUT_RDWR"}
RECV_SIZE = 1024
"""As in the course notebook: `conn.recv(1024)`."""

_NAME_BASES = {Role.SERVER: "s", Role.CONNECTION: "conn", Role.CLIENT: "c"}
_RECENT_CALLS = 64


@dataclass(eq=False)
class _Running:
    """A call in progress: what the watcher and close() need to know of it."""

    call: Call
    tracked: TrackedSocket | None
    blocked: bool = False
    done: bool = False
    cancelled: bool = False
    watch_token: int = 0


@dataclass
class _Outcome:
    result: str
    data: bytes | None = None
    added: TrackedSocket | None = None


@dataclass
class StepArgs:
    """The values a step may need beyond its socket; each step reads only its own."""

    family: socket.AddressFamily = socket.AF_INET
    endpoint: Endpoint | None = None
    payload: bytes | None = None
    """For send: the bytes; None echoes what the socket last received."""
    how: int = socket.SHUT_RDWR
    bufsize: int = RECV_SIZE


class Session:
    """All sockets of one lesson, and the calls made on them."""

    def __init__(self, *, block_after: float = 0.02, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._epoch = clock()
        self._lock = threading.RLock()
        self._idle = threading.Condition(self._lock)
        self._listeners: list[Listener] = []
        self._sockets: list[TrackedSocket] = []
        self._current: dict[Target, TrackedSocket] = {}
        self._running: dict[int, _Running] = {}
        self._recent: deque[Call] = deque(maxlen=_RECENT_CALLS)
        self._seq = itertools.count(1)
        self._call_ids = itertools.count(1)
        self._socket_ids = itertools.count(1)
        self._name_counts: dict[Role, int] = dict.fromkeys(Role, 0)
        self._watch = BlockWatch(block_after)
        self._closed = False

    # ----- reading ---------------------------------------------------------

    def now(self) -> float:
        """Seconds since the session began, on the session's clock."""
        return self._clock() - self._epoch

    @property
    def sockets(self) -> tuple[TrackedSocket, ...]:
        """Every socket the session made, open or closed, oldest first."""
        with self._lock:
            return tuple(self._sockets)

    def current(self, target: Target) -> TrackedSocket | None:
        """The socket a step with this target acts on when none is chosen.

        For a connection step that is the chosen (or newest) accepted
        connection; with none accepted yet it is the server's own socket, so
        that `recv()` before `accept()` shows the real error.
        """
        with self._lock:
            if target is Target.CONNECTION:
                return self._current.get(Target.CONNECTION) or self._current.get(Target.LISTENER)
            return self._current.get(target)

    def select(self, tracked: TrackedSocket) -> None:
        """Make this socket the one its side's steps act on."""
        target = {Role.SERVER: Target.LISTENER, Role.CONNECTION: Target.CONNECTION, Role.CLIENT: Target.CLIENT}
        with self._lock:
            self._current[target[tracked.role]] = tracked

    def running(self) -> tuple[Call, ...]:
        """Calls in progress, oldest first."""
        with self._lock:
            return tuple(r.call for r in self._running.values())

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
                listener(event)

    # ----- running steps ---------------------------------------------------

    def perform(self, step: Step, args: StepArgs | None = None, *, target: TrackedSocket | None = None) -> Call | None:
        """Run one step to its end in this thread; returns the call, or None if refused.

        Never raises for anything the socket does: errors become StepFailed events.
        """
        args = args or StepArgs()
        running = self._begin(step, args, target)
        if running is None:
            return None
        call = running.call
        started = self._clock()
        try:
            outcome = self._execute(step.action, running, args)
        except Exception as error:  # noqa: BLE001 - every error is part of the lesson
            waited = self._clock() - started
            on_listener = running.tracked is not None and running.tracked.role is Role.SERVER
            report = explain(error, step.action, on_listener=on_listener)
            self._finish(running, StepFailed, waited, error=report)
        else:
            waited = self._clock() - started
            if outcome.added is not None:
                self._emit(SocketAdded, socket_id=outcome.added.id, name=outcome.added.name, side=step.side)
            self._finish(running, StepReturned, waited, result=outcome.result, data=outcome.data)
        return call

    def _begin(self, step: Step, args: StepArgs, target: TrackedSocket | None) -> _Running | None:
        with self._lock:
            if self._closed:
                self._emit(StepRefused, step=step, reason="the session has ended")
                return None
            tracked = None if step.target is Target.NEW else (target or self.current(step.target))
            reason = self._refusal(step, args, tracked)
            if reason:
                self._emit(StepRefused, step=step, reason=reason)
                return None
            name = (
                tracked.name if tracked else self._next_name(Role.CLIENT if step.side is Side.CLIENT else Role.SERVER)
            )
            call = Call(next(self._call_ids), step, name, self._code(step, args, tracked, name), self.now())
            running = _Running(call, tracked)
            self._running[call.id] = running
            self._recent.append(call)
            if tracked is not None:
                tracked.in_flight.append(call)
            self._emit(StepCalled, call=call)
            running.watch_token = self._watch.start(lambda: self._mark_blocked(running))
            return running

    def _refusal(self, step: Step, args: StepArgs, tracked: TrackedSocket | None) -> str | None:
        if step.target is not Target.NEW and tracked is None:
            who = "client" if step.side is Side.CLIENT else "server"
            return f"there is no {who} socket yet: run {who} socket() first (in Python this line would be a NameError)"
        if step.action in (Action.BIND, Action.CONNECT) and args.endpoint is None:
            return f"{step.action.value}() needs an address"
        if (
            step.action is Action.SEND
            and args.payload is None
            and tracked is not None
            and tracked.last_received is None
        ):
            return f"nothing has been received on {tracked.name} yet, so there is nothing to echo: type a message"
        return None

    def _next_name(self, role: Role) -> str:
        self._name_counts[role] += 1
        count = self._name_counts[role]
        return _NAME_BASES[role] + ("" if count == 1 else str(count))

    def _code(self, step: Step, args: StepArgs, tracked: TrackedSocket | None, name: str) -> str:
        new = name
        if step.action is Action.ACCEPT:
            count = self._name_counts[Role.CONNECTION] + 1
            new = "conn" + ("" if count == 1 else str(count))
        payload = "data" if args.payload is None else show_bytes(args.payload, 60)
        code = step.code.format(
            sock=name,
            new=new,
            family=f"socket.{args.family.name}",
            address=repr(args.endpoint.address) if args.endpoint else "",
            payload=payload,
            how=f"socket.{SHUTDOWN_NAMES.get(args.how, args.how)}",
            bufsize=args.bufsize,
        )
        if step.action is Action.CLOSE and tracked is not None and tracked.in_flight:
            code = f"{name}.shutdown(socket.SHUT_RDWR); {code}"
        return code

    def _mark_blocked(self, running: _Running) -> None:
        with self._lock:
            if running.done:
                return
            running.blocked = True
            self._emit(StepBlocked, call=running.call)

    def _finish(self, running: _Running, kind: type[Event], waited: float, **fields: object) -> None:
        self._watch.cancel(running.watch_token)
        with self._lock:
            running.done = True
            woken_by = None
            if running.cancelled:
                woken_by = f"closing {running.call.socket_name} here"
            elif running.blocked:
                woken_by = self._waker(running.call)
            self._emit(
                kind,
                call=running.call,
                waited=waited,
                blocked=running.blocked,
                woken_by=woken_by,
                cancelled=running.cancelled,
                **fields,
            )
            del self._running[running.call.id]
            if running.tracked is not None:
                running.tracked.in_flight.remove(running.call)
            self._idle.notify_all()

    def _waker(self, call: Call) -> str | None:
        """The latest call made while `call` waited: the click that most likely woke it."""
        for other in reversed(self._recent):
            if other.started < call.started:
                break
            if other.id != call.id and (other.socket_name != call.socket_name or other.step.action is Action.CLOSE):
                return other.who
        return None

    # ----- the calls themselves -------------------------------------------

    def _execute(self, action: Action, running: _Running, args: StepArgs) -> _Outcome:
        tracked = running.tracked
        if action is Action.SOCKET:
            return self._make_socket(running.call, args.family)
        assert tracked is not None
        sock = tracked.sock
        if action is Action.BIND:
            assert args.endpoint is not None
            sock.bind(args.endpoint.address)
            return _Outcome(f"laddr is now {sock.getsockname()}")
        if action is Action.LISTEN:
            was = sock.getsockname()
            sock.listen()
            now = sock.getsockname()
            if was[1] == 0:
                return _Outcome(f"it had no port, so Linux bound it to an ephemeral one: {now}")
            return _Outcome(f"listening on {now}; the kernel now completes handshakes on its own")
        if action is Action.ACCEPT:
            conn, addr = sock.accept()
            added = self._adopt(conn, Role.CONNECTION, select=Target.CONNECTION)
            return _Outcome(f"connection from {addr}; {added.name} is a new socket, fd {conn.fileno()}", added=added)
        if action is Action.CONNECT:
            assert args.endpoint is not None
            sock.connect(args.endpoint.address)
            return _Outcome(f"connected from {sock.getsockname()} to {sock.getpeername()}")
        if action is Action.SEND:
            data = tracked.last_received if args.payload is None else args.payload
            assert data is not None
            sock.sendall(data)
            with self._lock:
                tracked.bytes_sent += len(data)
            return _Outcome(f"{len(data)} bytes handed to the kernel: {show_bytes(data)}", data=data)
        if action is Action.RECV:
            data = sock.recv(args.bufsize)
            with self._lock:
                tracked.bytes_received += len(data)
                tracked.last_received = data or tracked.last_received
            if data:
                return _Outcome(f"{len(data)} bytes: {show_bytes(data)}", data=data)
            if running.cancelled:
                return _Outcome("b'': no more data, because this socket was shut down here", data=data)
            return _Outcome("b'': the peer closed its side, so no more data will come", data=data)
        if action is Action.SHUTDOWN:
            sock.shutdown(args.how)
            return _Outcome(self._shutdown_result(args.how))
        if action is Action.CLOSE:
            return self._close(running)
        raise AssertionError(f"no call for {action}")

    def _make_socket(self, call: Call, family: socket.AddressFamily) -> _Outcome:
        sock = socket.socket(family, socket.SOCK_STREAM)
        role = Role.CLIENT if call.step.side is Side.CLIENT else Role.SERVER
        target = Target.CLIENT if role is Role.CLIENT else Target.LISTENER
        added = self._adopt(sock, role, select=target, name=call.socket_name)
        return _Outcome(f"{added.name} is {sock!r}", added=added)

    def _adopt(self, sock: socket.socket, role: Role, *, select: Target, name: str | None = None) -> TrackedSocket:
        with self._lock:
            tracked = TrackedSocket(
                id=next(self._socket_ids),
                name=name or self._next_name(role),
                role=role,
                sock=sock,
                created=self.now(),
            )
            self._sockets.append(tracked)
            self._current[select] = tracked
            return tracked

    @staticmethod
    def _shutdown_result(how: int) -> str:
        if how == socket.SHUT_WR:
            return "FIN sent: the peer's recv() now returns b'', and this side can still receive"
        if how == socket.SHUT_RD:
            return "this side reads no more: recv() here returns b'' at once"
        return "both directions closed: the peer reads b'', and recv() here returns b''"

    def _close(self, running: _Running) -> _Outcome:
        tracked = running.tracked
        assert tracked is not None
        fd = tracked.sock.fileno()
        woken = self._cancel_calls_on(tracked, except_call=running.call)
        tracked.sock.close()
        if woken:
            calls = ", ".join(woken)
            return _Outcome(
                f"{tracked.name} closed, fd {fd} is free. It was shut down first to wake {calls}: "
                "on Linux close() alone leaves a blocked call waiting"
            )
        if fd < 0:
            return _Outcome(f"{tracked.name} was already closed; closing twice is harmless")
        return _Outcome(f"{tracked.name} closed; fd {fd} is free for the next socket to reuse")

    def _cancel_calls_on(self, tracked: TrackedSocket, except_call: Call | None = None) -> list[str]:
        """Wake every call blocked on this socket with shutdown(), the one thing Linux wakes them with."""
        with self._lock:
            others = [r for r in self._running.values() if r.tracked is tracked and r.call is not except_call]
            for other in others:
                other.cancelled = True
        if others:
            # A listener or a connecting socket answers ENOTCONN, yet the shutdown still wakes the call.
            with contextlib.suppress(OSError):
                tracked.sock.shutdown(socket.SHUT_RDWR)
        return [other.call.label for other in others]

    # ----- the end ---------------------------------------------------------

    def close(self, timeout: float = 1.0) -> bool:
        """Close every socket, waking blocked calls; True once no call is left running.

        Clients close first, so that TIME_WAIT lands on their ephemeral ports
        and the server's port is free for the next run.
        """
        with self._lock:
            self._closed = True
            order = sorted(self._sockets, key=lambda t: (t.role is not Role.CLIENT, t.role is Role.SERVER))
        deadline = time.monotonic() + timeout
        for tracked in order:
            self._cancel_calls_on(tracked)
            tracked.sock.close()
        with self._lock:
            while self._running and time.monotonic() < deadline:
                # A call that began just as its socket closed may have missed the wake-up.
                for tracked in {id(r.tracked): r.tracked for r in self._running.values() if r.tracked}.values():
                    self._cancel_calls_on(tracked)
                self._idle.wait(0.05)
            finished = not self._running
        self._watch.stop()
        return finished
