"""What ended a blocked call's wait, told only as far as it is known.

A wait ends because the other end did something (a client connected, the peer
sent, read or closed), because this side shut its own socket, or because the
socket's timeout ran out, which is no wake-up at all. The other end may be a
socket of this session, whose calls are known, or a program outside it; and
sometimes sockviz cannot tell (a peer of this session that did nothing it
saw). Each of these is said as what it is, never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable

from sockviz.core.model.events import Call
from sockviz.core.model.lazy_dataclass import lazy_dataclass
from sockviz.core.model.record import FrozenRecord
from sockviz.core.model.steps import Action

OUTSIDE = object()
"""The partner of a call is not one of the session's sockets: whatever it did came from outside."""

_ENDINGS = (Action.CLOSE, Action.SHUTDOWN)
_PARTNER_WAKERS: dict[Action, tuple[Action, ...]] = {
    Action.ACCEPT: (Action.CONNECT,),
    Action.RECV: (Action.SEND, *_ENDINGS),
    Action.RECV_ALL: (Action.SEND, *_ENDINGS),
    Action.SEND: (Action.RECV, Action.RECV_ALL, *_ENDINGS),
    Action.CONNECT: (Action.ACCEPT, *_ENDINGS),
    Action.SELECT: (Action.SEND, *_ENDINGS),
}
"""For a blocked call, what the socket at the other end can do to end its wait."""

_OUTSIDE_WORDS: dict[Action, str] = {
    Action.ACCEPT: "a client outside this session",
    Action.RECV: "the peer, a program outside this session",
    Action.RECV_ALL: "the peer, a program outside this session",
    Action.SEND: "the peer, a program outside this session",
    Action.CONNECT: "the other end, a program outside this session",
    Action.SELECT: "the peer of a connection, a program outside this session",
}


@lazy_dataclass(frozen=True, repr=False, eq=False)
class Overlap(FrozenRecord):
    """Another call that ran at some moment of the wait: begun before it ended, and not ended before it began."""

    call: Call
    order: int
    """When it began, on the session's count of beginnings and endings (a clock may stand still)."""


@lazy_dataclass(frozen=True, repr=False, eq=False)
class Wake(FrozenRecord):
    """What ended a wait: `words` for the log (None when unknown or nothing woke it), `call` when it was one."""

    words: str | None = None
    call: Call | None = None
    timed_out: bool = False


def find_waker(call: Call, overlaps: Iterable[Overlap], partner: str | object | None, *, timed_out: bool) -> Wake:
    """What ended the wait of `call`.

    `partner` is the name of the session's socket at the other end (for accept() the client that
    was accepted, for connect() the listener), OUTSIDE when that end is not the session's, and None
    when sockviz does not know which it is.
    """
    if timed_out:
        return Wake(timed_out=True)
    latest_first = sorted((o for o in overlaps if o.call.id != call.id), key=lambda o: o.order, reverse=True)
    if isinstance(partner, str):
        kinds = _PARTNER_WAKERS.get(call.step.action, ())
        found = next((o.call for o in latest_first if o.call.socket_name == partner and o.call.step.action in kinds),
                     None)  # fmt: skip
        if found is not None:
            return Wake(found.who, found)
        if call.step.action is Action.ACCEPT:  # the connection came from this client's connect(), told long ago
            return Wake(f"client {partner}.connect()")
    own = next(
        (o.call for o in latest_first if o.call.socket_name == call.socket_name and o.call.step.action in _ENDINGS),
        None,
    )
    if own is not None:
        return Wake(own.who, own)
    if partner is OUTSIDE:
        return Wake(_OUTSIDE_WORDS.get(call.step.action, "something outside this session"))
    return Wake()
