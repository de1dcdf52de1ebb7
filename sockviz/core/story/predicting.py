"""Predict, then see: the user's guess before a step, matched with what the call did and what the kernel said.

Students who predict a demonstration's outcome before they see it understand it better than those who
only watch it (Crouch, Fagen, Callan and Mazur, 2004). Before a step that can block or fail, predict mode
asks whether the call will wait, return at once, or fail; the step runs; and the answer is shown beside
the kernel's evidence: the hint it gave just before the call (the accept queue, the bytes waiting) and
what the call then did. A call is said to wait only when the session told it blocked, which it does only
when the kernel says it waits, so a call that was merely slow on a busy machine is no "wait".

This is a reader of the event stream, as the log is: `expect` before the step runs, then every event goes
through `hear`, which returns the verdict once the call has settled it.
"""

from __future__ import annotations

from collections import deque
from enum import StrEnum

from sockviz.core.engine.view import SocketView
from sockviz.core.model.code_lines import method_of
from sockviz.core.model.events import Call, Event, StepBlocked, StepCalled, StepFailed, StepFinished, StepRefused
from sockviz.core.model.lazy_dataclass import lazy_dataclass
from sockviz.core.model.record import FrozenRecord
from sockviz.core.model.step_args import StepArgs
from sockviz.core.model.steps import Action, Step
from sockviz.core.model.transport import Transport


class Guess(StrEnum):
    """What a call will do, in the three words of the question."""

    WAITS = "waits"
    AT_ONCE = "returns at once"
    FAILS = "fails"

    @property
    def asked(self) -> str:
        """The answer as the question asks it (`wait`, `return at once`, `fail`): the words of the question's
        buttons, on the lecturer's screen and on every follower's, and of its sentence."""
        return _ASKED[self]


_ASKED = {Guess.WAITS: "wait", Guess.AT_ONCE: "return at once", Guess.FAILS: "fail"}


ASKED_ACTIONS = frozenset(
    {Action.ACCEPT, Action.CONNECT, Action.SEND, Action.RECV, Action.RECV_ALL, Action.BIND, Action.LISTEN,
     Action.SHUTDOWN}
)  # fmt: skip
"""The steps predict mode asks about: those that can wait, and those that fail in the lessons (bind() on a
port in use, listen() on a connected socket, shutdown() with no connection). socket(), setsockopt, close()
and cancel are not asked: they return at once whenever the lesson uses them."""


def asks(chosen: Step) -> bool:
    return chosen.action in ASKED_ACTIONS


@lazy_dataclass(frozen=True, repr=False, eq=False)
class Upcoming(FrozenRecord):
    """The call a step makes now, in the words the log will use for it: on an unconnected UDP socket recv() is
    `recvfrom()` and sendall() is `sendto()`, once connected `recv()` and `send()`; and what it can wait for there
    (a UDP listen() or accept() never waits: it fails)."""

    step: Step
    label: str
    """`recvfrom()`: the call's own label (`Call.label`), as its lines in the log name it."""
    blocks_until: str | None
    """What the call waits for on its socket's transport; None if it never waits there."""


def upcoming(chosen: Step, target: SocketView | None = None, args: StepArgs | None = None) -> Upcoming:
    """The call `chosen` would make now on `target` (the socket it acts on, if any), decided as the session
    decides it when the step runs: a UDP socket's steps are its datagram calls, its connection picks the method."""
    transport = args.transport if args is not None else Transport.TCP
    datagram = target.datagram if target is not None else transport is Transport.UDP
    connected = datagram and target is not None and target.current_ends() is not None
    method = method_of(chosen, datagram=datagram, connected=connected, args=args)
    form = chosen.on(Transport.UDP if datagram else Transport.TCP)
    return Upcoming(chosen, f"{method or chosen.action.call}()", form.blocks_until)


def choices(chosen: Step, call: Upcoming | None = None) -> tuple[Guess, ...]:
    """A call that can never wait is not asked whether it will: it returns at once or fails."""
    blocks_until = (call or upcoming(chosen)).blocks_until
    if blocks_until is None:
        return (Guess.AT_ONCE, Guess.FAILS)
    return (Guess.WAITS, Guess.AT_ONCE, Guess.FAILS)


def question(chosen: Step, call: Upcoming | None = None) -> str:
    """`Will server accept() wait, return at once, or fail?`; `Will server recvfrom() ...` on a UDP socket."""
    call = call or upcoming(chosen)
    asked = [guess.asked for guess in choices(chosen, call)]
    listed = ", ".join(asked[:-1]) + f", or {asked[-1]}" if len(asked) > 2 else " or ".join(asked)
    return f"Will {chosen.side.value} {call.label} {listed}?"


@lazy_dataclass(frozen=True, repr=False, eq=False)
class Verdict(FrozenRecord):
    """A guess and what happened: the call's outcome, the kernel's evidence, and whether the guess was right."""

    step: Step
    guess: Guess
    outcome: Guess | None
    """None when the step was not run at all (no socket to act on): then nothing is scored."""
    call: Call | None
    happened: str
    """What the call did, in the log's words: `it waits: no client has connected yet`."""
    kernel: str | None
    """What the kernel said just before the call, when it was asked (the step's hint)."""
    at: float
    label: str = ""
    """The call as the question named it (`recvfrom()`); the call's own label once it ran."""

    @property
    def right(self) -> bool | None:
        return None if self.outcome is None else self.outcome is self.guess

    def text(self, score: str) -> str:
        """The log's line for it, with the score so far."""
        label = self.call.label if self.call is not None else self.label or f"{self.step.action.call}()"
        said = f"you said {self.step.side.value} {label} {self.guess.value}"
        if self.outcome is None:
            return f"{said}; it was not run ({self.happened}), so it is not scored · {score}"
        mark = "right" if self.right else "wrong"
        kernel = f" The kernel, just before the call: {self.kernel}." if self.kernel else ""
        return f"{said}: {self.happened} ({mark}).{kernel} · {score}"


class Predictions:
    """The guesses of one user, each matched with its call, and the score."""

    def __init__(self) -> None:
        self._waiting: dict[str, deque[tuple[Guess, str]]] = {}
        """Guesses made for a step that has not been called yet (with the call as asked), by step id, oldest first."""
        self._calls: dict[int, tuple[Step, Guess]] = {}
        """Guesses whose call is running and has not settled them yet, by call id."""
        self.right = 0
        self.scored = 0
        self.verdicts: list[Verdict] = []

    @property
    def score(self) -> str:
        """`3 of 4 right`."""
        return f"{self.right} of {self.scored} right"

    @property
    def pending(self) -> bool:
        return bool(self._waiting) or bool(self._calls)

    def expect(self, chosen: Step, guess: Guess, label: str = "") -> None:
        """The user guessed, and the step is about to run: its next call is the one the guess is about.
        `label` is the call as the question named it (`recvfrom()`), for a step that then is not run."""
        self._waiting.setdefault(chosen.id, deque()).append((guess, label))

    def forget(self, chosen: Step) -> None:
        """The step did not reach the session after all (a field refused its value): its guess goes too."""
        waiting = self._waiting.get(chosen.id)
        if waiting:
            waiting.pop()
            if not waiting:
                del self._waiting[chosen.id]

    def drop_pending(self) -> None:
        """A fresh session: guesses about the old one's calls can settle nothing now (its call ids start over)."""
        self._waiting.clear()
        self._calls.clear()

    def hear(self, event: Event) -> Verdict | None:
        """Every event of the session, in order; the verdict when this event settles a guess."""
        if isinstance(event, StepCalled):
            taken = self._take(event.call.step.id)
            if taken is not None:
                self._calls[event.call.id] = (event.call.step, taken[0])
            return None
        if isinstance(event, StepRefused):
            taken = self._take(event.step.id)
            if taken is None:
                return None
            guess, label = taken
            return self._settle(Verdict(event.step, guess, None, None, event.reason, None, event.at, label))
        if isinstance(event, StepBlocked) and event.call.id in self._calls:
            chosen, guess = self._calls.pop(event.call.id)
            waits = event.call.form.blocks_until or "the kernel lets it finish"
            happened = f"it waits, until {waits}"
            return self._settle(Verdict(chosen, guess, Guess.WAITS, event.call, happened, _hint(event.call), event.at))
        if isinstance(event, StepFinished) and event.call.id in self._calls:
            chosen, guess = self._calls.pop(event.call.id)
            if isinstance(event, StepFailed):
                outcome, happened = Guess.FAILS, f"it failed at once with {event.error}"
            else:
                outcome, happened = Guess.AT_ONCE, "it returned at once"
            return self._settle(Verdict(chosen, guess, outcome, event.call, happened, _hint(event.call), event.at))
        return None

    def _take(self, step_id: str) -> tuple[Guess, str] | None:
        waiting = self._waiting.get(step_id)
        if not waiting:
            return None
        guess = waiting.popleft()
        if not waiting:
            del self._waiting[step_id]
        return guess

    def _settle(self, verdict: Verdict) -> Verdict:
        if verdict.right is not None:
            self.scored += 1
            self.right += int(verdict.right)
        self.verdicts.append(verdict)
        return verdict


def _hint(call: Call) -> str | None:
    return call.prediction.why if call.prediction is not None else None
