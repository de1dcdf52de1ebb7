"""What a call is handed and gives back: its `Context`, the `CallSite` it may ask of the session, its `Outcome`.

The calls (calls.py, datagrams.py, serving.py) and the session that runs them (session.py) both
speak these types; here, apart from either, a call's function can be read without the session,
and a new kind of call sees at once what it may ask for and what it must say.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import field
from typing import Protocol

from sockviz.core.engine.tracked import Role, TrackedSocket
from sockviz.core.model.events import Call
from sockviz.core.model.lazy_dataclass import lazy_dataclass
from sockviz.core.model.record import FrozenRecord, Record
from sockviz.core.model.step_args import StepArgs
from sockviz.core.model.steps import Step, Target


@lazy_dataclass(repr=False, eq=False)
class Outcome(Record):
    result: str
    data: bytes | None = None
    added: TrackedSocket | None = None
    cut_short: bool = False
    """The call returned because this session shut its socket down, not because its peer did anything.

    Only a return can be ambiguous: a shutdown makes every other blocked call raise.
    """
    sender: tuple | None = None
    """For a datagram received: who sent it, so that the session can tell which of its sockets woke the call."""
    readable: list[TrackedSocket] = field(default_factory=list)
    """For select(): the sockets it returned as readable."""
    writable: list[TrackedSocket] = field(default_factory=list)
    ready_words: str | None = None
    """For select(): what made the first readable socket ready, as the log's "woken by" says it."""


@lazy_dataclass(frozen=True, repr=False, eq=False)
class Ran(FrozenRecord):
    """A call that ran to its end, for a caller that goes on from its result: its outcome, or what it raised."""

    call: Call
    outcome: Outcome | None
    error: BaseException | None


class CallSite(Protocol):
    """What a call may ask of the session that runs it."""

    def adopt(self, sock: socket.socket, role: Role, *, select: Target, name: str | None = None) -> TrackedSocket: ...

    def wake_calls_on(self, tracked: TrackedSocket, *, why: str, except_call: Call | None, how: int) -> list[str]: ...

    def let_calls_leave(self, tracked: TrackedSocket, *, why: str, except_call: Call, timeout: float = 1.0) -> None: ...

    def count(self, tracked: TrackedSocket, call: Call, *, sent: int = 0, received: int = 0) -> None: ...

    def peer_of(self, tracked: TrackedSocket) -> TrackedSocket | None: ...

    def start_burst(self, call: Call, clients: list[TrackedSocket], args: StepArgs) -> list[threading.Thread]: ...

    def run(self, chosen: Step, args: StepArgs, *, target: TrackedSocket | None = None) -> Ran | None: ...

    def spawn(self, work: Callable[[], object], name: str) -> threading.Thread | None: ...

    def serving(
        self, call: Call, status: Callable[[], str] | None, on_cancel: Callable[[str], None] | None
    ) -> None: ...

    @property
    def ending(self) -> bool: ...

    def sent_here(self, tracked: TrackedSocket) -> dict[str, int]:
        """UDP: each of the session's sockets that sent datagrams to this socket's address, and how many."""
        ...


@lazy_dataclass(repr=False, eq=False)
class Context(Record):
    call: Call
    tracked: TrackedSocket | None
    args: StepArgs
    site: CallSite
    cancelled: Callable[[], bool]
    watching: tuple[TrackedSocket, ...] = ()
    """For select(): the sockets it watches, the call's own first."""

    @property
    def sock(self) -> socket.socket:
        assert self.tracked is not None
        return self.tracked.sock
