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
`option`, `expect=N` for `recv-all`, `timeout=SECONDS` (and `write=1`, to watch the
connections for writing too) for `select`, `count=N` for
`burst` (with `send="..."` each client sends it, waits for its echo and keeps its
connection `hold=SECONDS`, 0.1 unless said, then closes). A step that acts on a
socket also takes `on=NAME` (`client close on=c`) to act on that one. Each step starts in a
thread of its own and the next line runs once it has returned, failed, or blocked
(a serve mode: once it began).
`expect STATE SIDE STEP` checks the latest run of that step: `blocked`,
`returned`, `failed` (optionally with an errno name: `failed ECONNREFUSED`) or
`refused`. `family ipv6` (or `family ipv4`), before the first step, says which
address family the lesson is about: a front end switches to it (to ::1 for a
lesson on loopback), and a player on the other family stops at that line.
`transport udp` (or `transport tcp`) chooses what the socket() lines after it
make, as the app's TCP/UDP switch does; a lesson may switch in the middle, to
set TCP against UDP. `recv size=8` gives recv() (recvfrom() on UDP) a buffer of
its own. The whole file is checked before anything runs; a bad line is reported
with its number.

In the app a lesson stops after each `say` until the lecturer goes on (space or
`n`). `pace SECONDS` gives a lesson a pace of its own instead: from that line on,
each `say` is followed by a pause of that many seconds, in the app and in
`sockviz run` alike.
"""

from __future__ import annotations

import shlex
import socket
from dataclasses import dataclass, field, replace

from sockviz.core.model.bulk import parse_size
from sockviz.core.model.errors import InputError
from sockviz.core.model.options import OPTIONS_BY_NAME, option_setting, parse_timeout
from sockviz.core.model.payload import parse_payload
from sockviz.core.model.step_args import SHUTDOWN_NAMES, StepArgs, parse_hold
from sockviz.core.model.steps import STEPS_BY_ID, Action, Step
from sockviz.core.model.transport import TRANSPORTS, Transport

_HOW = {name: how for how, name in SHUTDOWN_NAMES.items()}
_STATES = ("blocked", "returned", "failed", "refused")
FAMILIES = {"ipv4": socket.AF_INET, "ipv6": socket.AF_INET6}
"""The words of a `family` line, and the address family each means."""


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
    on: str | None = None
    """`on=c2`: the socket the step acts on, by its name in the session; None: the step's current one."""


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


@dataclass(frozen=True)
class Pace:
    """From here on, each `say` is followed by a pause of `seconds` instead of a wait for the lecturer."""

    line: int
    seconds: float
    source: str = ""


@dataclass(frozen=True)
class Family:
    """`family ipv6`: the lesson is about this address family, and runs only on it."""

    line: int
    family: socket.AddressFamily
    source: str = ""

    @property
    def word(self) -> str:
        return "IPv6" if self.family == socket.AF_INET6 else "IPv4"


@dataclass(frozen=True)
class UseTransport:
    """`transport udp`: the socket() lines from here on make UDP sockets (`transport tcp`: TCP ones)."""

    line: int
    transport: Transport
    source: str = ""


Line = StepLine | Pause | Say | Expect | Family | Pace | UseTransport


def family_of(lines: list[Line]) -> socket.AddressFamily | None:
    """The address family a scenario asks for with a `family` line, or None if any will do."""
    return next((line.family for line in lines if isinstance(line, Family)), None)


def transport_of(lines: list[Line]) -> Transport | None:
    """The transport a scenario starts on, when a `transport` line comes before its first step; else None."""
    for line in lines:
        if isinstance(line, UseTransport):
            return line.transport
        if isinstance(line, StepLine):
            return None
    return None


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


def _args(step: Step, rest: list[str], line: int) -> tuple[StepArgs, str | None]:
    """The step's arguments, and the socket it acts on if an `on=NAME` names one."""
    args, on = StepArgs(), None
    targets = [word for word in rest if word.startswith("on=") and len(word) > 3 and step.action not in _NO_TARGET]
    values = [word for word in rest if word not in targets]
    if len(targets) > 1 or (len(values) > 1 and step.action not in (Action.BURST, Action.SELECT)):
        raise ScenarioError(line, f"{step.id} takes one argument at most (and on=NAME); quote a message with spaces")
    for word in values:
        args = _arg(step, args, word, line)
    if targets:
        on = targets[0].removeprefix("on=")
    return args, on


_NO_TARGET = (Action.SOCKET, Action.BURST, Action.CANCEL)
"""Steps that make their socket, or pick the busy one: `on=NAME` means nothing to them."""


def _arg(step: Step, args: StepArgs, word: str, line: int) -> StepArgs:
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
        if step.action is Action.RECV and key == "size" and value.isdecimal() and 1 <= int(value) <= 65536:
            return replace(args, bufsize=int(value))
        if step.action is Action.RECV_ALL and key == "expect" and value:
            return replace(args, expect=parse_size(value))
        if step.action is Action.BURST and key == "count" and value.isdecimal():
            return replace(args, count=int(value))
        if step.action is Action.BURST and key == "send" and value:
            return replace(args, payload=parse_payload(value))
        if step.action is Action.BURST and key == "hold" and value:
            return replace(args, hold=parse_hold(value))
        if step.action is Action.SELECT and key == "timeout" and value:
            return replace(args, timeout=parse_timeout(value))
        if step.action is Action.SELECT and key == "write" and value in ("0", "1"):
            return replace(args, select_write=value == "1")
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
        elif head == "pace":
            try:
                seconds = float(words[1]) if len(words) == 2 else -1
            except ValueError:
                seconds = -1
            if not 0 <= seconds <= 600:
                raise ScenarioError(number, "pace takes the seconds to wait after each say, like `pace 3`")
            lines.append(Pace(number, seconds, raw.strip()))
        elif head == "say":
            if len(words) != 2:
                raise ScenarioError(number, 'say takes one quoted text, like `say "accept() waits here"`')
            lines.append(Say(number, words[1], raw.strip()))
        elif head == "family":
            if len(words) != 2 or words[1].lower() not in FAMILIES:
                raise ScenarioError(number, "write `family ipv4` or `family ipv6`")
            if any(isinstance(earlier, StepLine | Family) for earlier in lines):
                raise ScenarioError(number, "a `family` line comes once, before the first step")
            lines.append(Family(number, FAMILIES[words[1].lower()], raw.strip()))
        elif head == "transport":
            if len(words) != 2 or words[1].lower() not in TRANSPORTS:
                raise ScenarioError(number, "write `transport tcp` or `transport udp`")
            lines.append(UseTransport(number, TRANSPORTS[words[1].lower()], raw.strip()))
        elif head == "expect":
            if len(words) < 4 or words[1] not in _STATES:
                raise ScenarioError(number, f"write `expect STATE SIDE STEP`, with STATE one of {', '.join(_STATES)}")
            errno_name = words[4] if len(words) == 5 and words[1] == "failed" else None
            if len(words) > 5 or (len(words) == 5 and errno_name is None):
                raise ScenarioError(number, "only `expect failed` takes an errno name after the step")
            lines.append(Expect(number, words[1], _step(words[2:4], number), errno_name, raw.strip()))
        else:
            step = _step(words[:2], number)
            args, on = _args(step, words[2:], number)
            lines.append(StepLine(number, step, args, raw.strip(), on))
    return lines
