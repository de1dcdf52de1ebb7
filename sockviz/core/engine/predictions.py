"""Would a step block if it ran now? The kernel's answer, asked with the sockets the step would meet.

A step's hint in its pane and predict mode's evidence both come from here, as does what a select()
watches (the call's own socket and every open connection), which the call itself then watches too.
The kernel's side of the question is core/kernel/predict.py; this module knows the session's sockets.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from sockviz.core.engine.tracked import Role, TrackedSocket
from sockviz.core.model.prediction import Prediction
from sockviz.core.model.step_args import StepArgs
from sockviz.core.model.steps import Action, Step

if TYPE_CHECKING:
    from sockviz.core.kernel.readiness import Readiness


class Predictions:
    """The kernel's would-it-block answers for the session's sockets."""

    def __init__(self, lock: threading.RLock, sockets: list[TrackedSocket], servers: list[TrackedSocket]) -> None:
        self._lock = lock
        self._sockets = sockets
        self._servers = servers
        self._select_watch: tuple[tuple[TrackedSocket, int], tuple[TrackedSocket, ...], Readiness] | None = None
        """What the last select() hint watched: for (its socket, how many sockets the session had), the sockets
        and their registration for the kernel's polls, made again when either changes."""

    def for_step(self, chosen: Step, tracked: TrackedSocket, args: StepArgs) -> Prediction | None:
        """Would this step block on `tracked` if run now? None when it never waits."""
        from sockviz.core.kernel.predict import predict, predict_select  # with the first socket's question

        if chosen.action is Action.SELECT:
            watched, readiness = self._watched_for_hint(tracked)
            return predict_select(readiness, lambda i: watched[i].name, timeout=args.timeout, write=args.select_write)
        listeners = []
        if chosen.action is Action.CONNECT:
            with self._lock:
                listeners = [t.sock for t in self._servers if not t.closed]
        return predict(
            chosen.action,
            tracked.sock,
            payload_size=_payload_size(tracked, args),
            listeners=listeners,
            address=args.endpoint.address if args.endpoint else None,
        )

    def _watched_for_hint(self, tracked: TrackedSocket) -> tuple[tuple[TrackedSocket, ...], Readiness]:
        """What a select() on `tracked` would watch, registered for the kernel's polls once while the session's
        sockets stay the same: a new socket (a connection accepted) makes them again, and one closed since is
        never ready (`Readiness`), as a closed connection is not watched. With a thousand connections, watching
        them afresh for each hint was most of what a refresh of the screen grew by."""
        from sockviz.core.kernel.readiness import Readiness

        with self._lock:
            made = self._select_watch
            if made is None or made[0][0] is not tracked or made[0][1] != len(self._sockets):
                watched = self.watched_by_select(tracked)
                made = self._select_watch = (tracked, len(self._sockets)), watched, Readiness(t.sock for t in watched)
            _, watched, readiness = made
        return watched, readiness

    def watched_by_select(self, tracked: TrackedSocket) -> tuple[TrackedSocket, ...]:
        """What a select() on `tracked` watches: that socket (closed or not: then select() fails for real) and
        every open connection of the server, oldest first."""
        conns = [t for t in self._sockets if t.role is Role.CONNECTION and not t.closed and t is not tracked]
        return (tracked, *conns)


def _payload_size(tracked: TrackedSocket, args: StepArgs) -> int | None:
    if args.bulk is not None:
        return args.bulk
    data = args.payload if args.payload is not None else tracked.last_received
    return None if data is None else len(data)
