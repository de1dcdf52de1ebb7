"""The stream of events a session tells its front ends, in the order things happened.

Events are immutable and carry everything needed to tell the story later:
a log, a transcript or a test reads them without asking the session again.
"""

from __future__ import annotations

from sockviz.core.model.lazy_dataclass import lazy_dataclass
from sockviz.core.model.prediction import Prediction
from sockviz.core.model.reasons import ErrorReport
from sockviz.core.model.record import FrozenRecord
from sockviz.core.model.steps import Form, Side, Step
from sockviz.core.model.transport import Transport


@lazy_dataclass(frozen=True, repr=False, eq=False)
class Call(FrozenRecord):
    """One run of a step: which step, on which socket, with which line of Python."""

    id: int
    step: Step
    socket_name: str
    """The Python name of the socket the call acts on, or makes: `s`, `conn2`, `c`."""
    code: str
    started: float
    """Seconds since the session began."""
    prediction: Prediction | None = None
    """What the kernel said, just before the call, about whether it would block."""
    burst_of: int | None = None
    """For the calls of a burst's clients: the burst's call id, so a front end can sum them up."""
    serve_of: int | None = None
    """For the calls a serve mode makes: the serve call's id (they are told one by one, not summed up)."""
    thread: str | None = None
    """For the calls a serve mode makes: which server thread makes them (`serve`, `thread 2`)."""
    datagram: bool = False
    """The call is on a UDP socket (or, for socket(), makes one)."""
    method: str | None = None
    """The socket method called, where it is not the step's usual one: `sendto` or `recvfrom` on UDP."""

    @property
    def transport(self) -> Transport:
        return Transport.UDP if self.datagram else Transport.TCP

    @property
    def form(self) -> Form:
        """The step as it reads on this call's transport: its label, what it waits for."""
        return self.step.on(self.transport)

    @property
    def label(self) -> str:
        """`accept()`, the way people say it; `recvfrom()` on UDP."""
        return f"{self.method or self.step.action.call}()"

    @property
    def who(self) -> str:
        """`client c.connect()`: enough to tell which click this was."""
        return f"{self.step.side.value} {self.socket_name}.{self.method or self.step.action.call}()"


@lazy_dataclass(frozen=True, kw_only=True, repr=False, eq=False)
class Event(FrozenRecord):
    seq: int
    """Position in the session's stream; strictly increasing."""
    at: float
    """Seconds since the session began."""


@lazy_dataclass(frozen=True, kw_only=True, repr=False, eq=False)
class StepCalled(Event):
    """A step began: its Python line is about to run."""

    call: Call


@lazy_dataclass(frozen=True, kw_only=True, repr=False, eq=False)
class StepBlocked(Event):
    """The call has not returned within the session's grace period, and the kernel says it is waiting
    (nothing to accept or read, no room to write, a SYN unanswered): a call that is only slow is not told."""

    call: Call


@lazy_dataclass(frozen=True, kw_only=True, repr=False, eq=False)
class StepFinished(Event):
    """Common to a call's two endings."""

    call: Call
    waited: float
    """Seconds from call to return."""
    blocked: bool
    """Whether StepBlocked was told for this call: it waited, as the kernel said."""
    woken_by: str | None
    """For a blocked call: what ended its wait, in words (a call of this session, or a program outside it),
    as far as it is known; None when sockviz cannot tell, or when nothing woke it (`timed_out`)."""
    cancelled: bool
    """True when the wait ended because this session closed the socket."""
    woken_by_call: int | None = None
    """The id of the call in `woken_by`, when it is one of this session's: a picture joins the two."""
    timed_out: bool = False
    """The socket's own timeout (settimeout) ended the wait: nothing woke the call."""


@lazy_dataclass(frozen=True, kw_only=True, repr=False, eq=False)
class StepReturned(StepFinished):
    """The call returned normally."""

    result: str
    """What it gave back, in words (for bytes, an escaped preview)."""
    data: bytes | None = None
    """Bytes sent or received, for send and recv."""
    readable: tuple[str, ...] = ()
    """For select(): the names of the sockets it returned as readable."""
    writable: tuple[str, ...] = ()
    """For select(): the names of the sockets it returned as writable."""


@lazy_dataclass(frozen=True, kw_only=True, repr=False, eq=False)
class StepFailed(StepFinished):
    """The call raised: the real exception, explained."""

    error: ErrorReport


@lazy_dataclass(frozen=True, kw_only=True, repr=False, eq=False)
class StepRefused(Event):
    """The step could not even be written as Python: there is no socket for it to act on."""

    step: Step
    reason: str


@lazy_dataclass(frozen=True, kw_only=True, repr=False, eq=False)
class SocketAdded(Event):
    """A new socket joined the session: from socket() or from accept()."""

    socket_id: int
    name: str
    side: Side


@lazy_dataclass(frozen=True, kw_only=True, repr=False, eq=False)
class BurstStarted(Event):
    """A burst has started `count` connects, each a call of its own with `burst_of` set."""

    call: Call
    count: int
    echo: int | None = None
    """Bytes each client sends and waits to get back, for a burst that does work; None: connects only."""


@lazy_dataclass(frozen=True, kw_only=True, repr=False, eq=False)
class ListenerFailed(Event):
    """A listener raised on an event, so the session stopped telling it anything: the others hear why."""

    listener: str
    """The listener as Python names it: `Transcript._hear`."""
    error: str
    """The exception, as repr() writes it."""
