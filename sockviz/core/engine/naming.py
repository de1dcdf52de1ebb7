"""The names the session gives its sockets (`s`, `conn2`, `c3`), and the Python line each call is shown as.

A call's line names sockets the session owns, including the one an accept() is about to make, so the
names and the line are made together, while the session holds its lock.
"""

from __future__ import annotations

from sockviz.core.engine.tracked import Role, TrackedSocket
from sockviz.core.model.bulk import PIECE, send_piece
from sockviz.core.model.code_lines import code_line
from sockviz.core.model.step_args import StepArgs
from sockviz.core.model.steps import Step

_NAME_BASES = {Role.SERVER: "s", Role.CONNECTION: "conn", Role.CLIENT: "c"}


class Names:
    """How many sockets of each role the session has named, and so the next one's name."""

    def __init__(self) -> None:
        self._counts: dict[Role, int] = dict.fromkeys(Role, 0)

    def next(self, role: Role) -> str:
        """The name of a new socket of this role: `s`, then `s2`, `s3`..."""
        self._counts[role] += 1
        return self._of(role, self._counts[role])

    def of_accepted(self, waiting: int) -> str:
        """The name accept() will give: one more than those accepted and the `waiting` accepts before it."""
        return self._of(Role.CONNECTION, self._counts[Role.CONNECTION] + 1 + waiting)

    @staticmethod
    def _of(role: Role, count: int) -> str:
        return _NAME_BASES[role] + ("" if count == 1 else str(count))


def call_line(
    chosen: Step,
    args: StepArgs,
    tracked: TrackedSocket | None,
    name: str,
    *,
    new: str,
    datagram: bool,
    connected: bool,
    watching: tuple[str, ...] = (),
) -> str:
    """The call's Python line: the session gives it the names it owns (`new`: the socket the call makes)
    and the socket's send piece."""
    piece = PIECE
    if args.bulk is not None and tracked is not None and not tracked.closed:
        piece = send_piece(tracked.sock)
    in_flight = tracked is not None and bool(tracked.in_flight)
    return code_line(chosen, args, name, new=new, piece=piece, in_flight=in_flight, datagram=datagram,
                     connected=connected, watching=watching)  # fmt: skip
