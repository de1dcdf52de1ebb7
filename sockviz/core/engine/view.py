"""What a front end reads of a session: the live `Session`, or a copy of one that runs nothing.

The session screen asks these questions and no others, so it can show a session that lives in another
process: a follower's copy of the lecturer's (`sockviz.share.mirror.Mirror`), rebuilt from the event
stream and snapshots. `Session` and `TrackedSocket` have every member, so they fit as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from sockviz.core.engine.tracked import Role
from sockviz.core.kernel.lingering import Ends, Lingering
from sockviz.core.kernel.snapshot import Address, SocketSnapshot
from sockviz.core.model.events import Call, Event
from sockviz.core.model.prediction import Prediction
from sockviz.core.model.steps import Side, Step, Target


class SocketView(Protocol):
    """One socket of a session, open or closed, as the table, the detail and the guide read it."""

    # Read-only: a copy of a socket (a follower's) reads them from its latest row.
    @property
    def id(self) -> int: ...

    @property
    def name(self) -> str: ...

    @property
    def role(self) -> Role: ...

    @property
    def in_flight(self) -> list[Call]: ...

    @property
    def lasting(self) -> str | None: ...

    @property
    def after_close(self) -> Lingering | None: ...

    @property
    def ends(self) -> Ends | None: ...

    @property
    def gone(self) -> bool: ...

    @property
    def bytes_sent(self) -> int: ...

    @property
    def bytes_received(self) -> int: ...

    @property
    def last_addresses(self) -> tuple[Address | None, Address | None] | None: ...

    @property
    def closed(self) -> bool: ...

    @property
    def non_blocking(self) -> bool: ...

    @property
    def datagram(self) -> bool: ...

    @property
    def datagrams_sent(self) -> int: ...

    @property
    def datagrams_received(self) -> int: ...

    @property
    def bound_port(self) -> int | None: ...

    def snapshot(self, *, with_repr: bool = True) -> SocketSnapshot: ...

    def current_ends(self) -> Ends | None: ...


class SessionView(Protocol):
    """A session's sockets and what it knows of them, and its events as they come."""

    def now(self) -> float: ...

    @property
    def sockets(self) -> Sequence[SocketView]: ...

    def current(self, target: Target, side: Side = Side.SERVER) -> SocketView | None: ...

    def select(self, tracked: Any) -> None: ...  # Any: each kind of session takes its own kind of socket

    def predict(self, chosen: Step, args: Any = None) -> Prediction | None: ...

    def refusal(self, chosen: Step, args: Any = None) -> str | None: ...

    def last_transfer(self, side: Side) -> tuple[int, int] | None: ...

    def listening_everywhere(self) -> list[str]: ...

    def ports(self) -> frozenset[int]: ...

    def serve_status(self) -> dict[int, str]: ...

    def read_lingering(self) -> None: ...

    def subscribe(self, listener: Callable[[Event], None]) -> Callable[[], None]: ...
