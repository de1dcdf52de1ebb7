"""A follower's copy of the lecturer's session, rebuilt from the lines the share sends.

The share sends the session format (the stream's: events, each socket's row when it changes, narration)
and lines of its own (`{"share": ...}`): the facts the lecturer's screen shows beside them, the lesson
panel, the class's question. `Feed` reads each line once, in order: a `Mirror` takes the session's, and
the rest goes to whoever shows it (the follower app, or a benchmark's headless follower). A `Mirror`
answers the questions the session screen asks of a live session, and tells its listeners the lecturer's
events in order, as a Session does; it runs no call: every step is refused with the reason.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sockviz.core import Call, Event, Role, Side, SocketSnapshot, Step, StepCalled, StepFinished, Target
from sockviz.core.engine.stream import Listener, Listeners
from sockviz.core.kernel.lingering import Ends, Lingering
from sockviz.core.kernel.snapshot import Address
from sockviz.core.model.prediction import Prediction
from sockviz.core.story.recording.format import (
    Ended,
    EventRecord,
    Header,
    HeldShown,
    Reader,
    SessionStarted,
    SocketsRecord,
    read_json,
)
from sockviz.core.story.recording.sockets import SocketState

FOLLOWING = "you follow the lecturer's session: only the lecturer runs steps"
"""Why a follower's step does not run, on its greyed button and in its log."""

SHARE_LINE = '{"share"'


@dataclass(eq=False)
class MirroredSocket:
    """One of the lecturer's sockets: its newest row from the lecturer, and its calls in progress from the events."""

    state: SocketState
    mirror_facts: dict[str, Any] = field(default_factory=dict)
    """The mirror's newest facts (shared, replaced whole when new ones come)."""
    in_flight: list[Call] = field(default_factory=list)
    gone: bool = False

    @property
    def id(self) -> int:
        return self.state.id

    @property
    def name(self) -> str:
        return self.state.name

    @property
    def role(self) -> Role:
        return self.state.role

    @property
    def lasting(self) -> str | None:
        return self.state.lasting

    @property
    def after_close(self) -> Lingering | None:
        return self.state.after_close

    @property
    def ends(self) -> Ends | None:
        return self.state.ends

    @property
    def bytes_sent(self) -> int:
        return self.state.bytes_sent

    @property
    def bytes_received(self) -> int:
        return self.state.bytes_received

    @property
    def closed(self) -> bool:
        return self.state.closed

    @property
    def datagram(self) -> bool:
        return self.state.snapshot.type == "SOCK_DGRAM"

    @property
    def datagrams_sent(self) -> int:
        return int(self.mirror_facts.get("datagrams", {}).get(str(self.state.id), (0, 0))[0])

    @property
    def datagrams_received(self) -> int:
        return int(self.mirror_facts.get("datagrams", {}).get(str(self.state.id), (0, 0))[1])

    @property
    def non_blocking(self) -> bool:
        return self.state.id in self.mirror_facts.get("non_blocking", ())

    @property
    def last_addresses(self) -> tuple[Address | None, Address | None] | None:
        return self.state.addresses_while_open if self.closed else None

    @property
    def bound_port(self) -> int | None:
        laddr = self.state.snapshot.laddr
        return None if self.closed or not laddr else (laddr[1] or None)

    def snapshot(self, *, with_repr: bool = True) -> SocketSnapshot:
        """The lecturer's snapshot of it, as of its newest row (a closed socket keeps the addresses it had)."""
        return self.state.as_shown()

    def current_ends(self) -> Ends | None:
        snap = self.state.snapshot
        if self.closed or not snap.laddr or not snap.raddr:
            return None
        return (str(snap.laddr[0]), int(snap.laddr[1])), (str(snap.raddr[0]), int(snap.raddr[1]))


class Mirror:
    """The lecturer's session as far as the lines tell it; fed in one thread, read from any."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        self._offset: float | None = None
        """The lecturer's session clock minus ours, from the least delayed reading so far."""
        self._made = clock()
        self._sockets: dict[int, MirroredSocket] = {}
        self._by_name: dict[str, MirroredSocket] = {}
        self._calls: dict[int, Call] = {}
        self._holding: dict[int, list[MirroredSocket]] = {}
        """The sockets each call in flight is on, by the call's id."""
        self._listeners = Listeners(self._lock)
        self._facts: dict[str, Any] = {}
        self._chosen: dict[Target, int] = {}
        """Sockets this follower chose in its own table: only its own view changes."""
        self.held: list[tuple[str, SocketState]] = []
        """The rows the lecturer's table keeps from before the reset that began this session, by their keys."""
        self.started: SessionStarted | None = None
        self.ended = False
        self.events_seen = 0
        self.last_event: Event | None = None

    # ----- what the screen reads --------------------------------------------

    def now(self) -> float:
        """The lecturer's session time, as well as this follower can tell it."""
        offset = self._offset if self._offset is not None else -self._made  # from 0 until the lecturer's is known
        return self._clock() + offset

    @property
    def sockets(self) -> tuple[MirroredSocket, ...]:
        with self._lock:
            return tuple(self._sockets.values())

    def current(self, target: Target, side: Side = Side.SERVER) -> MirroredSocket | None:
        with self._lock:
            key = f"busy-{side.value}" if target is Target.BUSY else target.value
            chosen = self._chosen.get(target)
            socket_id = chosen if chosen in self._sockets else self._facts.get("current", {}).get(key)
            return self._sockets.get(socket_id) if isinstance(socket_id, int) else None

    def select(self, tracked: MirroredSocket) -> None:
        """This follower looks at another socket; the lecturer's session is not told."""
        target = {Role.SERVER: Target.LISTENER, Role.CONNECTION: Target.CONNECTION, Role.CLIENT: Target.CLIENT}
        with self._lock:
            self._chosen[target[tracked.role]] = tracked.id

    def predict(self, chosen: Step, args: object = None) -> Prediction | None:
        hint = self._facts.get("hints", {}).get(chosen.id)
        return Prediction(**hint) if isinstance(hint, dict) else None

    def refusal(self, chosen: Step, args: object = None) -> str | None:
        return FOLLOWING

    def last_transfer(self, side: Side) -> tuple[int, int] | None:
        found = self._facts.get("transfers", {}).get(side.value)
        return (int(found[0]), int(found[1])) if isinstance(found, list) and len(found) == 2 else None

    def listening_everywhere(self) -> list[str]:
        return [str(name) for name in self._facts.get("everywhere", ())]

    def ports(self) -> frozenset[int]:
        return frozenset(int(port) for port in self._facts.get("ports", ()))

    def serve_status(self) -> dict[int, str]:
        """What each of the lecturer's serve modes says of itself, by its call's id."""
        found = self._facts.get("serving", {})
        return {int(call): str(text) for call, text in found.items()} if isinstance(found, dict) else {}

    def guide(self) -> str:
        """The lecturer's `next:` line, as the lecturer's screen says it (in predict mode, without foretelling)."""
        return str(self._facts.get("guide", ""))

    @property
    def predicting(self) -> bool:
        """Whether the lecturer is in predict mode (its hints and foretelling are then not sent)."""
        return self._facts.get("predict") is True

    def read_lingering(self) -> None:
        """The lecturer's kernel is asked by the lecturer; its answers come in the sockets' rows."""

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Hear the lecturer's events from now on, in order, as a session's listener does."""
        return self._listeners.subscribe(listener)

    # ----- fed by the lines --------------------------------------------------

    def take(self, record: EventRecord | SocketsRecord, arrived: float | None = None) -> None:
        """A line of the lecturer's session; `arrived` is when its frame came, on this mirror's clock (a line
        held while the screen was made again is read later than it came)."""
        if isinstance(record, EventRecord):
            self._tell(record.event, arrived)
        else:
            self._heard_at(record.at, arrived)
            with self._lock:
                for state in record.sockets:
                    self._row(state)

    def lecturers_clock(self, now: float, arrived: float | None = None) -> None:
        """The lecturer's session time as the share read it just before sending it (at a join, and at each
        fresh session): the events so far may be old, and a follower who joins a quiet lecturer would
        otherwise put its notes as late as the lecturer's last event."""
        self._heard_at(now, arrived)

    def take_facts(self, facts: dict[str, Any]) -> None:
        with self._lock:
            self._facts = facts
            for tracked in self._sockets.values():
                tracked.mirror_facts = facts

    def _heard_at(self, at: float, arrived: float | None = None) -> None:
        """A reading of the lecturer's clock. It was sent before it came, so `at` minus the time it came is at
        most the true offset: the greatest such is the best estimate, short of it by that reading's transit."""
        offset = at - (self._clock() if arrived is None else arrived)
        self._offset = offset if self._offset is None else max(self._offset, offset)

    def _tell(self, event: Event, arrived: float | None = None) -> None:
        with self._lock:
            self.events_seen += 1
            self.last_event = event
            if isinstance(event, StepCalled):
                call = event.call
                self._calls[call.id] = call
                tracked = self._by_name.get(call.socket_name)
                if tracked is not None and all(flying.id != call.id for flying in tracked.in_flight):
                    self._flying(tracked, call)
            elif isinstance(event, StepFinished):
                self._calls.pop(event.call.id, None)
                self._landed(event.call)
        self._heard_at(event.at, arrived)
        failed = self._listeners.tell(event)  # outside the mirror's lock: a screen reads the mirror as it hears
        if failed:
            raise failed[0][1]  # the rest heard it; the follower's app says what failed

    def _landed(self, call: Call) -> None:
        """A call that finished is no longer in flight on the sockets it was put on (kept by the call's id, not
        found by asking every socket: a burst's hundred sockets and their hundreds of calls)."""
        number = call.id  # by its id: the event's call is equal to the one put in flight, not the same object
        for tracked in self._holding.pop(number, ()):
            tracked.in_flight[:] = [flying for flying in tracked.in_flight if flying.id != number]

    def _flying(self, tracked: MirroredSocket, call: Call) -> None:
        tracked.in_flight.append(call)
        self._holding.setdefault(call.id, []).append(tracked)

    def _row(self, state: SocketState) -> None:
        tracked = self._sockets.get(state.id)
        if tracked is None:
            tracked = MirroredSocket(state, self._facts)
            # Its calls told before its first row (an accept() on a listener just made, say) are its own too.
            for call in self._calls.values():
                if call.socket_name == state.name:
                    self._flying(tracked, call)
            self._sockets[state.id] = tracked
            self._by_name[state.name] = tracked
        else:
            tracked.state = state


@dataclass(frozen=True)
class StartedAfresh:
    """The lecturer reset the session: a new mirror, which the feed holds lines for until `release`."""

    mirror: Mirror


class Feed:
    """The share's lines, in order: the session's to a Mirror, the rest to `show`."""

    def __init__(self, show: Callable[[object], None], clock: Callable[[], float] = time.monotonic) -> None:
        self.show = show
        """Gets each `SessionStarted`, `Said`, `Note` and `Ended` record, each share message (a dict), and
        `StartedAfresh` (before the `SessionStarted` it comes with)."""
        self._clock = clock
        self.mirror = Mirror(clock)
        self.lines = 0
        self._reader = Reader()
        """The lecturer's lines read in order: a socket's row after its first is what changed in it."""
        self._held: list[tuple[str, float]] | None = None

    def frame(self, text: str) -> None:
        arrived = self._clock()
        for line in text.split("\n"):
            self.line(line, arrived)

    def line(self, line: str, arrived: float | None = None) -> None:
        """One line, that came at `arrived` (on the feed's clock; now, if not given)."""
        if arrived is None:
            arrived = self._clock()
        if self._held is not None:
            self._held.append((line, arrived))
            return
        self.lines += 1
        if line.startswith(SHARE_LINE):
            message = read_json(line, "the lecturer's line")
            kind = message.get("share")
            if kind == "facts":
                self.mirror.take_facts(message)
            elif kind == "clock":
                if isinstance(message.get("now"), int | float):
                    self.mirror.lecturers_clock(float(message["now"]), arrived)
            else:
                self.show(message)
            return
        record = self._reader.decode(line, "the lecturer's line")
        kind = record.__class__
        if kind is EventRecord or kind is SocketsRecord:
            self.mirror.take(record, arrived)  # type: ignore[arg-type] - one of the two
        elif isinstance(record, HeldShown):
            self.mirror.held = list(zip(record.keys, record.sockets, strict=False))
        elif isinstance(record, SessionStarted):
            if self.mirror.started is not None:
                self.mirror = Mirror(self._clock)
                self.mirror.started = record
                self._held = []
                self.show(StartedAfresh(self.mirror))
            self.mirror.started = record
            self.show(record)
        elif record is not None and not isinstance(record, Header):
            if isinstance(record, Ended):
                self.mirror.ended = True
            self.show(record)  # Said, Note, Ended, and any record kind a later sockviz adds

    def hold(self) -> None:
        """Keep the lines that come from now on until `release` (a screen is making itself again)."""
        if self._held is None:
            self._held = []

    def release(self) -> None:
        held, self._held = self._held, None
        for line, arrived in held or ():
            self.line(line, arrived)
