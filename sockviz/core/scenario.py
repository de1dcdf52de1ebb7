"""Scenarios: a lesson written as plain text, one step per line, that plays itself.

    # the basic echo
    server socket
    server bind
    server listen
    server accept                   # blocks: the next line runs while it waits
    say "accept() waits here until a client connects"
    client socket
    client connect
    expect returned server accept
    client send "Hello, Wireshark."
    pause 0.5

A step line is a side and a step (`server close-conn`), with an argument where the
step takes one: a quoted message for `send` (or `size=64k`), `backlog=N` for
`listen`, `SHUT_WR`/`SHUT_RD`/`SHUT_RDWR` for `shutdown`, `NAME=VALUE` for
`option`, `expect=N` for `recv-all`, `count=N` for `burst`. Each step starts in a
thread of its own and the next line runs once it has returned, failed, or blocked.
`expect STATE SIDE STEP` checks the latest run of that step: `blocked`,
`returned`, `failed` (optionally with an errno name: `failed ECONNREFUSED`) or
`refused`. The whole file is checked before anything runs; a bad line is
reported with its number.
"""

from __future__ import annotations

import shlex
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from sockviz.core.addresses import Endpoint
from sockviz.core.bulk import parse_size
from sockviz.core.calls import StepArgs
from sockviz.core.errors import InputError
from sockviz.core.events import Event, StepBlocked, StepCalled, StepFailed, StepFinished, StepRefused, StepReturned
from sockviz.core.options import OPTIONS_BY_NAME, option_setting
from sockviz.core.payload import parse_payload
from sockviz.core.session import Session
from sockviz.core.steps import STEPS_BY_ID, Action, Step

_HOW = {"SHUT_RD": 0, "SHUT_WR": 1, "SHUT_RDWR": 2}
_STATES = ("blocked", "returned", "failed", "refused")
_EXPECT_SECONDS = 3.0
"""How long an `expect` waits for its state before it fails."""
_SETTLE_SECONDS = 10.0
"""How long a line may take to return, fail or block before the scenario gives up on it."""


class ScenarioError(ValueError):
    """A line of a scenario that cannot be run, with its number."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class StepLine:
    line: int
    step: Step
    args: StepArgs = field(default_factory=StepArgs)
    source: str = ""


@dataclass(frozen=True)
class Pause:
    line: int
    seconds: float
    source: str = ""


@dataclass(frozen=True)
class Say:
    line: int
    text: str
    source: str = ""


@dataclass(frozen=True)
class Expect:
    line: int
    state: str
    step: Step
    errno_name: str | None = None
    source: str = ""


Line = StepLine | Pause | Say | Expect


def _step(words: list[str], line: int) -> Step:
    if len(words) < 2:
        raise ScenarioError(line, "a step line is a side and a step, like `server accept`")
    step_id = f"{words[0]}-{words[1]}"
    if words[0] not in ("server", "client"):
        raise ScenarioError(line, f"{words[0]!r} is not a side: write server or client")
    if step_id not in STEPS_BY_ID:
        names = sorted(s.split("-", 1)[1] for s in STEPS_BY_ID if s.startswith(words[0]))
        raise ScenarioError(line, f"the {words[0]} has no step {words[1]!r}: it has {', '.join(names)}")
    return STEPS_BY_ID[step_id]


def _args(step: Step, rest: list[str], line: int) -> StepArgs:
    args = StepArgs()
    if not rest:
        return args
    if len(rest) > 1:
        raise ScenarioError(line, f"{step.id} takes one argument at most; quote a message with spaces")
    word = rest[0]
    key, _, value = word.partition("=")
    try:
        if step.action is Action.SEND:
            if key == "size" and value:
                return replace(args, bulk=parse_size(value))
            return replace(args, payload=parse_payload(word))
        if step.action is Action.LISTEN and key == "backlog" and value.isdecimal():
            return replace(args, backlog=int(value))
        if step.action is Action.SHUTDOWN and word in _HOW:
            return replace(args, how=_HOW[word])
        if step.action is Action.OPTION and key in OPTIONS_BY_NAME and value:
            return replace(args, option=option_setting(key, value))
        if step.action is Action.RECV_ALL and key == "expect" and value:
            return replace(args, expect=parse_size(value))
        if step.action is Action.BURST and key == "count" and value.isdecimal():
            return replace(args, count=int(value))
    except InputError as error:
        raise ScenarioError(line, f"{word!r}: {error.reason}") from None
    raise ScenarioError(line, f"{step.id} does not take {word!r}")


def parse(text: str) -> list[Line]:
    """Check a whole scenario; raises ScenarioError at the first bad line, before anything runs."""
    lines: list[Line] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        try:
            words = shlex.split(raw, comments=True)
        except ValueError as error:
            raise ScenarioError(number, f"{error}: close the quotes") from None
        if not words:
            continue
        head = words[0]
        if head == "pause":
            try:
                seconds = float(words[1]) if len(words) == 2 else -1
            except ValueError:
                seconds = -1
            if not 0 <= seconds <= 3600:
                raise ScenarioError(number, "pause takes a number of seconds, like `pause 2`")
            lines.append(Pause(number, seconds, raw.strip()))
        elif head == "say":
            if len(words) != 2:
                raise ScenarioError(number, 'say takes one quoted text, like `say "accept() waits here"`')
            lines.append(Say(number, words[1], raw.strip()))
        elif head == "expect":
            if len(words) < 4 or words[1] not in _STATES:
                raise ScenarioError(number, f"write `expect STATE SIDE STEP`, with STATE one of {', '.join(_STATES)}")
            errno_name = words[4] if len(words) == 5 and words[1] == "failed" else None
            if len(words) > 5 or (len(words) == 5 and errno_name is None):
                raise ScenarioError(number, "only `expect failed` takes an errno name after the step")
            lines.append(Expect(number, words[1], _step(words[2:4], number), errno_name, raw.strip()))
        else:
            step = _step(words[:2], number)
            lines.append(StepLine(number, step, _args(step, words[2:], number), raw.strip()))
    return lines


@dataclass
class Outcome:
    """What a played scenario came to."""

    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


class Player:
    """Plays parsed lines against a session, one after the other.

    `narrate` hears each `say` text and each failed `expect`; the session's own
    events go to whoever subscribed to it.
    """

    def __init__(self, session: Session, endpoint: Endpoint, narrate: Callable[[int, str], None]) -> None:
        self.session = session
        self.endpoint = endpoint
        self.narrate = narrate
        self._latest_call: dict[str, object] = {}
        """Step id to the key of its latest run: a call id, or the refusal's event number."""
        self._state: dict[object, Event | None] = {}
        """A run's latest state: None while it runs unblocked, then blocked, returned, failed or refused."""
        self._changed = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._stopped = threading.Event()
        self.speed = 1.0
        """Pauses last `seconds / speed`; a front end may change it while the scenario plays."""
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

    def play(self, lines: Iterable[Line], *, before: Callable[[Line], bool] | None = None) -> Outcome:
        """Play every line; `before`, if given, is asked before each one and may wait (a paused
        player) or answer False to stop the play there."""
        outcome = Outcome()
        for line in lines:
            if self._stopped.is_set() or (before is not None and not before(line)):
                break
            if isinstance(line, Pause):
                self._stopped.wait(line.seconds / self.speed)
            elif isinstance(line, Say):
                self.narrate(line.line, line.text)
            elif isinstance(line, Expect):
                failure = self._check(line)
                if failure:
                    outcome.failures.append(failure)
                    self.narrate(line.line, failure)
            else:
                self._run(line)
        return outcome

    def stop(self) -> None:
        """End a play at once, even in the middle of a pause, and stop listening to the session."""
        self._stopped.set()
        self._unsubscribe()
        with self._changed:
            self._changed.notify_all()

    def _run(self, line: StepLine) -> None:
        args = replace(line.args, family=self.endpoint.family, endpoint=self.endpoint)
        step_id = line.step.id
        with self._changed:
            before = self._latest_call.get(step_id)
        thread = threading.Thread(target=self.session.perform, args=(line.step, args), daemon=True)
        thread.start()
        self._threads.append(thread)
        with self._changed:
            self._changed.wait_for(
                lambda: self._latest_call.get(step_id) != before and self._latest(step_id) is not None,
                timeout=_SETTLE_SECONDS,
            )

    def _check(self, line: Expect) -> str | None:
        """Wait a moment for the expected state (another thread may be about to get there), then compare."""
        names = {StepBlocked: "blocked", StepReturned: "returned", StepFailed: "failed", StepRefused: "refused"}

        def state() -> str:
            event = self._latest(line.step.id)
            return names.get(type(event), "running") if event is not None else "not run"

        with self._changed:
            self._changed.wait_for(lambda: state() == line.state, timeout=_EXPECT_SECONDS)
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
