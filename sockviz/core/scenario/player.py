"""Playing a parsed scenario against a session, one line after the other, each step in its own thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from sockviz.core.engine.session import Session
from sockviz.core.engine.tracked import TrackedSocket
from sockviz.core.model.addresses import Endpoint
from sockviz.core.model.events import (
    Event,
    StepBlocked,
    StepCalled,
    StepFailed,
    StepFinished,
    StepRefused,
    StepReturned,
)
from sockviz.core.model.step_args import StepArgs
from sockviz.core.model.steps import SERVE_ACTIONS
from sockviz.core.model.transport import Transport
from sockviz.core.scenario.language import Expect, Family, Line, Pace, Pause, Say, StepLine, UseTransport

_EXPECT_SECONDS = 3.0
"""How long an `expect` waits for its state before it fails."""
_SETTLE_SECONDS = 10.0
"""How long a line may take to return, fail or block before the scenario gives up on it."""


@dataclass
class Verdict:
    """What a played scenario came to."""

    failures: list[str] = field(default_factory=list)
    stopped: str | None = None
    """Why the play stopped before its end (a step failed that no `expect` foresaw), if it did."""

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def summary(self) -> str:
        """The end in a line, for a front end: a stop is told as a stop, not as a failed expect."""
        if self.stopped:
            return f"stopped: {self.stopped}"
        if self.passed:
            return "ended: every expect held"
        return f"ended: {len(self.failures)} expect failed"


class Player:
    """Plays parsed lines against a session, one after the other.

    `narrate` hears each `say` text and each failed `expect`; the session's own
    events go to whoever subscribed to it.
    """

    def __init__(
        self,
        session: Session,
        endpoint: Endpoint,
        narrate: Callable[[int, str], object],
        *,
        transport: Transport = Transport.TCP,
        on_transport: Callable[[Transport], object] | None = None,
    ) -> None:
        self.session = session
        self.endpoint = endpoint
        self.narrate = narrate
        self.transport = transport
        """What socket() makes: TCP unless the front end says otherwise, then each `transport` line's."""
        self.on_transport = on_transport
        """Hears each `transport` line's choice, so that a front end can show it."""
        self._latest_call: dict[str, object] = {}
        """Step id to the key of its latest run: a call id, or the refusal's event number."""
        self._state: dict[object, Event | None] = {}
        """A run's latest state: None while it runs unblocked, then blocked, returned, failed or refused."""
        self._changed = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._stopped = threading.Event()
        self.speed = 1.0
        """Pauses last `seconds / speed`; a front end may change it while the scenario plays."""
        self.pace: float | None = None
        """Seconds of pause after each `say`, once a `pace` line set them; None: the front end paces the
        narration (the app waits for the lecturer, `sockviz run` goes straight on)."""
        self.just_said = False
        """Whether the line played last was narration (a front end pauses after it, for the lecturer)."""
        self._unsubscribe = session.subscribe(self._hear)

    def _hear(self, event: Event) -> None:
        with self._changed:
            if isinstance(event, StepCalled):
                self._latest_call[event.call.step.id] = event.call.id
                self._state[event.call.id] = None
            elif isinstance(event, StepBlocked | StepFinished):
                self._state[event.call.id] = event
            elif isinstance(event, StepRefused):
                key = ("refused", event.seq)
                self._latest_call[event.step.id] = key
                self._state[key] = event
            self._changed.notify_all()

    def _latest(self, step_id: str) -> Event | None:
        return self._state.get(self._latest_call.get(step_id))

    def play(
        self,
        lines: Iterable[Line],
        *,
        before: Callable[[Line], bool] | None = None,
        holds: Callable[[StepLine], bool] | None = None,
    ) -> Verdict:
        """Play every line; `before`, if given, is asked before each one and may wait (a paused
        player) or answer False to stop the play there.

        `holds` (predict mode) is asked of a step line that narration comes straight before: True holds that
        narration back until the step has run (returned, failed or blocked), as `say` lines often tell what
        the step will do ("so it waits"), which would give away the answer before the question."""
        outcome = Verdict()
        lines = list(lines)
        held: list[Say] = []
        for index, line in enumerate(lines):
            if isinstance(line, Say) and holds is not None:
                coming = _step_after(lines, index)
                if coming is not None and holds(coming):
                    held.append(line)
                    continue
            if self._stopped.is_set() or (before is not None and not before(line)) or self._stopped.is_set():
                break
            stop = self._wrong_family(line) if isinstance(line, Family) else None
            self.just_said = False
            if isinstance(line, Pause):
                self._stopped.wait(line.seconds / self.speed)
            elif isinstance(line, Say):
                self._say(line)
            elif isinstance(line, Pace):
                self.pace = line.seconds
            elif isinstance(line, UseTransport):
                self.transport = line.transport
                if self.on_transport is not None:
                    self.on_transport(line.transport)
            elif isinstance(line, Expect):
                failure = self._check(line)
                if self._stopped.is_set():
                    break  # cut short by stop(), not a failed expect
                if failure:
                    outcome.failures.append(failure)
                    self.narrate(line.line, failure)
            elif isinstance(line, StepLine):
                stop = self._run(line) or self._unexpected_failure(line, lines[index + 1 :])
                for said in held:  # the narration held back for the question, now the step has run
                    self._say(said)
                held.clear()
            if stop:  # what follows would act on sockets this line never made ready: errors on errors
                outcome.failures.append(stop)
                outcome.stopped = stop
                self.narrate(line.line, stop)
                break
        return outcome

    def _say(self, line: Say) -> None:
        self.narrate(line.line, line.text)
        self.just_said = True
        if self.pace is not None:
            self._stopped.wait(self.pace / self.speed)

    def _wrong_family(self, line: Family) -> str | None:
        if self.endpoint.family == line.family:
            return None
        return (f"the lesson stops at line {line.line}: it runs over {line.word}, and this session's address "
                f"{self.endpoint.host} is not {line.word}")  # fmt: skip

    def _unexpected_failure(self, line: StepLine, after: list[Line]) -> str | None:
        """Why the lesson stops here: the step failed or was refused, and no `expect` before the next step
        says it should (a failed bind() would leave every later step acting on the wrong socket)."""
        with self._changed:
            event = self._latest(line.step.id)
        if isinstance(event, StepFailed) and not event.cancelled:
            what = f"{event.call.label} failed with {event.error}. {event.error.reason}"
        elif isinstance(event, StepRefused):
            what = f"{event.step.label} was not run: {event.reason}"
        else:
            return None
        for later in after:
            if isinstance(later, StepLine):
                break
            if isinstance(later, Expect) and later.step == line.step and later.state in ("failed", "refused"):
                return None
        return f"the lesson stops at line {line.line} ({line.source}): {what}"

    def stop(self) -> None:
        """End a play at once, even in the middle of a pause, a settle or an expect's wait (every wait
        of the player's thread checks for it), and stop listening to the session."""
        self._stopped.set()
        self._unsubscribe()
        with self._changed:
            self._changed.notify_all()

    def args_for(self, line: StepLine) -> StepArgs:
        """The arguments the line's step runs with: the lesson's own, on this play's address and transport."""
        return replace(line.args, family=self.endpoint.family, endpoint=self.endpoint, transport=self.transport)

    def target_of(self, line: StepLine) -> TrackedSocket | None:
        """The socket an `on=` line acts on (its newest of that name), None for the step's current one or none."""
        if line.on is None:
            return None
        return next((t for t in reversed(self.session.sockets) if t.name == line.on), None)

    def _run(self, line: StepLine) -> str | None:
        """Start the line's step and wait until it returned, failed or blocked; why the play stops, if it must."""
        args = self.args_for(line)
        step_id = line.step.id
        with self._changed:
            before = self._latest_call.get(step_id)
        target = self.target_of(line)
        if line.on is not None and target is None:
            return f"the lesson stops at line {line.line} ({line.source}): this session has no socket {line.on}"
        thread = threading.Thread(target=self.session.perform, args=(line.step, args), kwargs={"target": target},
                                  daemon=True)  # fmt: skip
        thread.start()
        self._threads.append(thread)
        serves = line.step.action in SERVE_ACTIONS  # it runs until cancelled: the next line runs once it began
        with self._changed:
            self._changed.wait_for(
                lambda: (
                    self._stopped.is_set()
                    or (self._latest_call.get(step_id) != before and (serves or self._latest(step_id) is not None))
                ),
                timeout=_SETTLE_SECONDS,
            )
        return None

    def _check(self, line: Expect) -> str | None:
        """Wait a moment for the expected state (another thread may be about to get there), then compare."""
        names = {StepBlocked: "blocked", StepReturned: "returned", StepFailed: "failed", StepRefused: "refused"}

        def state() -> str:
            event = self._latest(line.step.id)
            return names.get(type(event), "running") if event is not None else "not run"

        with self._changed:
            self._changed.wait_for(lambda: self._stopped.is_set() or state() == line.state, timeout=_EXPECT_SECONDS)
            event = self._latest(line.step.id)
            seen = state()
        where = f"expect failed at line {line.line}: {line.step.id}"
        if seen != line.state:
            return f"{where} was {seen}, not {line.state}"
        if line.errno_name and isinstance(event, StepFailed) and event.error.errno_name != line.errno_name:
            return f"{where} failed with {event.error}, not {line.errno_name}"
        return None

    def join(self, timeout: float = 2.0) -> None:
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))


def _step_after(lines: list[Line], index: int) -> StepLine | None:
    """The step line that the narration at `index` comes straight before (past more narration and pauses)."""
    for line in lines[index + 1 :]:
        if isinstance(line, StepLine):
            return line
        if not isinstance(line, Say | Pause | Pace):
            return None
    return None
