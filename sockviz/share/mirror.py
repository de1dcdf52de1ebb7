"""A follower's copy of the lecturer's session, rebuilt from the frames the share sends.

It answers the questions the session screen asks of a live session (its sockets and their snapshots,
the socket each step acts on, the hints, the transfers, the guide's line) from the lecturer's pictures,
and tells its listeners the lecturer's events in order, as a Session does. It runs no call: every step
is refused with the reason. The benchmark's headless followers decode with this same class.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sockviz.core import (
    Call,
    Event,
    Role,
    Side,
    SocketSnapshot,
    Step,
    StepArgs,
    StepCalled,
    StepFinished,
    Target,
)
from sockviz.core.kernel.lingering import Ends, Lingering
from sockviz.core.model.prediction import Prediction
from sockviz.share.codec import decode_event, decode_snapshot

FOLLOWING = "you follow the lecturer's session: only the lecturer runs steps"
"""Why a follower's step does not run, on its greyed button and in its log."""

Listener = Callable[[Event], None]


def _ends(value: Any) -> Ends | None:
    if not value:
        return None
    (local_host, local_port), (remote_host, remote_port) = value
    return (str(local_host), int(local_port)), (str(remote_host), int(remote_port))


@dataclass(eq=False)
class MirroredSocket:
    """One of the lecturer's sockets, as its latest picture and the events since describe it."""

    id: int
    name: str
    role: Role
    shot: SocketSnapshot
    in_flight: list[Call] = field(default_factory=list)
    lasting: str | None = None
    after_close: Lingering | None = None
    ends: Ends | None = None
    gone: bool = False
    bytes_sent: int = 0
    bytes_received: int = 0
    bound_port: int | None = None
    seen_ends: Ends | None = None

    def snapshot(self, *, with_repr: bool = True) -> SocketSnapshot:
        """The lecturer's snapshot of it, as of the latest picture (with its repr)."""
        return self.shot

    @property
    def closed(self) -> bool:
        return self.shot.closed

    def current_ends(self) -> Ends | None:
        return self.seen_ends


class Mirror:
    """The lecturer's session as far as the frames tell it; fed in one thread, read from any."""

    follows = True
    """Tells a screen that nothing here runs: steps are the lecturer's."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        self._offset: float | None = None
        """The lecturer's session clock minus ours, from the freshest picture (the least delayed)."""
        self._sockets: dict[int, MirroredSocket] = {}
        self._by_name: dict[str, MirroredSocket] = {}
        self._calls: dict[int, Call] = {}
        self._listeners: list[Listener] = []
        self._session: dict[str, Any] = {}
        self._chosen: dict[Target, int] = {}
        """Sockets this follower chose in its own table: only its own view changes."""
        self.events_seen = 0
        self.last_event_at = 0.0
        """The lecturer's session time of the newest event heard."""

    # ----- what the screen reads --------------------------------------------

    def now(self) -> float:
        """The lecturer's session time, as well as this follower can tell it."""
        return self._clock() + (self._offset or 0.0)

    @property
    def sockets(self) -> tuple[MirroredSocket, ...]:
        with self._lock:
            return tuple(self._sockets.values())

    def current(self, target: Target, side: Side = Side.SERVER) -> MirroredSocket | None:
        with self._lock:
            key = f"busy-{side.value}" if target is Target.BUSY else target.value
            chosen = self._chosen.get(target)
            socket_id = chosen if chosen in self._sockets else self._session.get("current", {}).get(key)
            return self._sockets.get(socket_id) if isinstance(socket_id, int) else None

    def select(self, tracked: MirroredSocket) -> None:
        """This follower looks at another socket; the lecturer's session is not told."""
        target = {Role.SERVER: Target.LISTENER, Role.CONNECTION: Target.CONNECTION, Role.CLIENT: Target.CLIENT}
        with self._lock:
            self._chosen[target[tracked.role]] = tracked.id

    def predict(self, chosen: Step, args: StepArgs | None = None) -> Prediction | None:
        hint = self._session.get("hints", {}).get(chosen.id)
        return None if not isinstance(hint, dict) else Prediction(**hint)

    def refusal(self, chosen: Step, args: StepArgs | None = None) -> str | None:
        return FOLLOWING

    def last_transfer(self, side: Side) -> tuple[int, int] | None:
        found = self._session.get("transfers", {}).get(side.value)
        return None if not found else (int(found[0]), int(found[1]))

    def listening_everywhere(self) -> list[str]:
        return list(self._session.get("everywhere", ()))

    def ports(self) -> frozenset[int]:
        return frozenset(self._session.get("ports", ()))

    def guide(self) -> str:
        return str(self._session.get("guide", ""))

    def read_lingering(self) -> None:
        """The lecturer's kernel is asked by the lecturer; its answers come in the pictures."""

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    # ----- fed by the share's frames ------------------------------------------

    def apply(self, frame: dict[str, Any]) -> None:
        """An `events` or a `picture` frame (decoded JSON); other frames are for the app."""
        kind = frame.get("type")
        if kind == "events":
            for record in frame.get("events", ()):
                self._tell(decode_event(record))
        elif kind == "picture":
            self._picture(frame)

    def _tell(self, event: Event) -> None:
        with self._lock:
            self.events_seen += 1
            self.last_event_at = event.at
            if isinstance(event, StepCalled):
                self._calls[event.call.id] = event.call
                tracked = self._by_name.get(event.call.socket_name)
                if tracked is not None and event.call not in tracked.in_flight:
                    tracked.in_flight.append(event.call)
            elif isinstance(event, StepFinished):
                self._calls.pop(event.call.id, None)
                for tracked in self._sockets.values():
                    if event.call in tracked.in_flight:
                        tracked.in_flight.remove(event.call)
            listeners = tuple(self._listeners)
        for listener in listeners:
            listener(event)

    def _picture(self, frame: dict[str, Any]) -> None:
        at = frame.get("at")
        if isinstance(at, int | float):
            offset = float(at) - self._clock()
            self._offset = offset if self._offset is None else max(self._offset, offset)
        with self._lock:
            for entry in frame.get("sockets", ()):
                self._socket(entry)
            if isinstance(frame.get("session"), dict):
                self._session = frame["session"]

    def _socket(self, entry: dict[str, Any]) -> None:
        after = entry.get("after_close")
        calls = [self._calls[i] for i in entry.get("in_flight", ()) if i in self._calls]
        tracked = MirroredSocket(
            id=int(entry["id"]),
            name=str(entry["name"]),
            role=Role(entry["role"]),
            shot=decode_snapshot(entry["snapshot"]),
            in_flight=calls,
            lasting=entry.get("lasting"),
            after_close=None if not after else Lingering(str(after["state"]), after.get("expires")),
            ends=_ends(entry.get("ends")),
            gone=bool(entry.get("gone")),
            bytes_sent=int(entry.get("bytes_sent", 0)),
            bytes_received=int(entry.get("bytes_received", 0)),
            bound_port=entry.get("bound_port"),
            seen_ends=_ends(entry.get("current_ends")),
        )
        self._sockets[tracked.id] = tracked
        self._by_name[tracked.name] = tracked
