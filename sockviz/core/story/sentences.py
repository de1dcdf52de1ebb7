"""The log's sentences: each event told in plain words, the same for every front end."""

from __future__ import annotations

from dataclasses import dataclass, field

from sockviz.core.model.events import (
    BurstStarted,
    Event,
    ListenerFailed,
    SocketAdded,
    StepBlocked,
    StepCalled,
    StepFailed,
    StepFinished,
    StepRefused,
    StepReturned,
)
from sockviz.core.model.lazy_dataclass import lazy_dataclass
from sockviz.core.model.record import FrozenRecord, Record
from sockviz.core.model.steps import Action


def duration(seconds: float) -> str:
    """`4.81 s` for a human wait, `35 ms` for a short one."""
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 0.001:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds * 1_000_000:.0f} µs"


def _after(event: StepFinished) -> str:
    return f" after {duration(event.waited)}" if event.blocked else ""


def _woken(event: StepFinished) -> str:
    """What ended the wait, as far as it is known: a timeout is no wake-up, and an unknown waker is not guessed."""
    if not event.blocked or event.cancelled:
        return ""
    if event.timed_out:
        return " (nothing woke it: the socket's timeout ran out)"
    if event.woken_by is None:
        return " (sockviz cannot tell what woke it)"
    return f" (woken by {event.woken_by})"


def _hint(event: StepBlocked | StepFinished) -> str:
    """How the call compared with the kernel's prediction, where it differs or is worth saying."""
    predicted = event.call.prediction
    if predicted is None:
        return ""
    if isinstance(event, StepBlocked):
        # The kernel's state, not "the hint": predict mode, `sockviz run` and a replay show no hint.
        if predicted.blocks:
            return " (as the kernel's state before the call said it would)"
        return f" (unlike what the kernel's state before the call said: {predicted.why})"
    if predicted.blocks and not event.blocked:
        # Not told as blocked: it returned before the grace, or the kernel found it no longer waiting when sockviz
        # looked. Either way what the hint found missing came after the call began: it waited, however briefly.
        return (
            f" (the kernel's state before the call said it would block: {predicted.why}; "
            f"it waited {duration(event.waited)}: what it waited "
            "for came before sockviz could see it blocked)"
        )
    return ""


def tell(event: Event) -> str:
    """One line of the story for an event."""
    if isinstance(event, StepCalled):
        return event.call.code
    if isinstance(event, StepBlocked):
        waits = event.call.form.blocks_until or "the kernel lets it finish"
        return f"{event.call.label} blocks: it waits until {waits}{_hint(event)}"
    if isinstance(event, StepReturned):
        return f"{event.call.label} returned{_after(event)}: {event.result}{_woken(event)}{_hint(event)}"
    if isinstance(event, StepFailed):
        if event.cancelled:
            return f"{event.call.label} gave up{_after(event)}: {event.woken_by} woke it with {event.error}"
        return f"{event.call.label} failed{_after(event)}: {event.error}{_woken(event)}"
    if isinstance(event, StepRefused):
        return f"{event.step.label} not run: {event.reason}"
    if isinstance(event, SocketAdded):
        return f"new socket {event.name} on the {event.side.value} side"
    if isinstance(event, BurstStarted):
        return f"{event.count} connects have started, each in its own thread"
    if isinstance(event, ListenerFailed):
        return f"sockviz fault: {event.listener} raised {event.error} and hears the session no more"
    return type(event).__name__


def reason(event: Event) -> str | None:
    """The plain-words why under an error, if the event has one."""
    if isinstance(event, StepFailed) and not event.cancelled:
        return event.error.reason
    return None


@lazy_dataclass(repr=False, eq=False)
class BurstTally(Record):
    """Sums up one burst, so a thousand clients make one line, not four thousand: how many connected and, for
    a burst that does work, how many got their echo back and how long each waited for it (the latency, from
    its sendall() to the recv() that completed the echo, on the session's clock)."""

    total: int
    echo: int | None = None
    """Bytes each client sends and waits to get back; None for a burst that only connects."""
    connected: int = 0
    waited: int = 0
    longest: float = 0.0
    failed: int = 0
    first_error: str | None = None
    finished: int = 0
    """Clients of a working burst that are done (closed, after their echo or without it)."""
    sent_at: dict[str, float] = field(default_factory=dict)
    received: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    broken: int = 0
    """Sends and reads of a working burst that raised."""

    def add(self, event: StepFinished) -> None:
        action, name = event.call.step.action, event.call.socket_name
        if action is Action.CONNECT:
            self._connected(event)
        elif isinstance(event, StepFailed) and action in (Action.SEND, Action.RECV):
            self.broken += 1
            self.first_error = self.first_error or str(event.error)
        elif action is Action.SEND:
            self.sent_at[name] = event.call.started
        elif action is Action.RECV and isinstance(event, StepReturned) and event.data and self.echo is not None:
            got = self.received[name] = self.received.get(name, 0) + len(event.data)
            if got >= self.echo and name in self.sent_at:
                self.latencies.append(event.at - self.sent_at[name])
        elif action is Action.CLOSE:
            self.finished += 1

    def _connected(self, event: StepFinished) -> None:
        if isinstance(event, StepFailed):
            self.failed += 1
            self.first_error = self.first_error or str(event.error)
        else:
            self.connected += 1
        if event.blocked:
            self.waited += 1
        self.longest = max(self.longest, event.waited)

    @property
    def done(self) -> bool:
        if self.echo is not None:
            return self.finished >= self.total
        return self.connected + self.failed >= self.total

    def tell(self) -> str:
        text = f"burst done: {self.connected} of {self.total} connected"
        if self.waited:
            text += f"; {self.waited} had to wait (the longest {duration(self.longest)})"
        if self.failed:
            text += f"; {self.failed} failed, the first with {self.first_error}"
        if self.echo is not None:
            text += f"; {len(self.latencies)} of {self.total} served (their {self.echo} bytes came back)"
            if self.latencies:
                from statistics import median  # only a burst's summary needs it: not at start-up

                ordered = sorted(self.latencies)
                text += (f"; latency per client from sendall() to the whole echo: min {duration(ordered[0])}, "
                         f"median {duration(median(ordered))}, max {duration(ordered[-1])}")  # fmt: skip
            if self.broken:
                text += f"; {self.broken} sends or reads failed, the first with {self.first_error}"
        return text


def side_of(event: Event) -> str:
    """`server` or `client`: whose step the event is about ('' for none)."""
    call = getattr(event, "call", None)
    step = call.step if call is not None else getattr(event, "step", None)
    return step.side.value if step is not None else ""


@dataclass(frozen=True, repr=False, eq=False)
class StoryLine(FrozenRecord):
    """One line of the log, ready for any front end to render."""

    seq: int
    at: float
    side: str
    text: str
    kind: str
    """The event's class name: a front end styles by it (StepBlocked, StepFailed...)."""
    why: str | None = None
    step_id: str | None = None


class Storyteller:
    """Turns events into the log's lines: one per event, and a burst's connects summed up in one."""

    def __init__(self) -> None:
        self._bursts: dict[int, BurstTally] = {}

    def lines(self, event: Event) -> list[StoryLine]:
        if isinstance(event, SocketAdded):
            return []  # the table shows it; the step's own line says so
        if isinstance(event, BurstStarted):
            self._bursts[event.call.id] = BurstTally(event.count, event.echo)
            return []
        call = getattr(event, "call", None)
        step = call.step if call is not None else getattr(event, "step", None)
        if call is not None and call.burst_of is not None:
            return self._tally(call.burst_of, event)
        return [StoryLine(event.seq, event.at, side_of(event), tell(event), type(event).__name__, reason(event),
                          step.id if step is not None else None)]  # fmt: skip

    def _tally(self, burst: int, event: Event) -> list[StoryLine]:
        tally = self._bursts.get(burst)
        if tally is None or not isinstance(event, StepFinished):
            return []
        tally.add(event)
        if not tally.done:
            return []
        del self._bursts[burst]
        return [StoryLine(event.seq, event.at, "client", tally.tell(), type(event).__name__, None, "client-burst")]
