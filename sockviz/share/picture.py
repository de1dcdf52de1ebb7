"""The lecturer's session as followers see it between events: each socket's snapshot and what the session knows.

Read in the share's own thread, never on the lecturer's event loop: a Session's readings (its sockets,
their snapshots, its hints) are safe from any thread. Each socket becomes one JSON object; a picture
sends only the sockets whose object changed since the one before, and a follower who joins gets them all.
"""

from __future__ import annotations

from typing import Any

from sockviz.core import STEPS, Session, Side, StepArgs, Target, TrackedSocket
from sockviz.core.model.addresses import Endpoint
from sockviz.core.story.next_steps import next_line
from sockviz.share.codec import encode_snapshot

HINTED = tuple(s for s in STEPS if s.blocks_until)
"""The steps whose line carries the kernel's hint (`waits`, `2 ready`)."""

TARGETS = (Target.LISTENER, Target.CONNECTION, Target.CLIENT)


def socket_entry(tracked: TrackedSocket) -> dict[str, Any]:
    """One socket as a follower's table, detail and timeline need it."""
    snap = tracked.snapshot()
    after = tracked.after_close
    return {
        "id": tracked.id,
        "name": tracked.name,
        "role": tracked.role.value,
        "snapshot": encode_snapshot(snap),
        "in_flight": [call.id for call in tuple(tracked.in_flight)],
        "lasting": tracked.lasting,
        "after_close": None if after is None else {"state": after.state, "expires": after.expires},
        "ends": tracked.ends,
        "gone": tracked.gone,
        "bytes_sent": tracked.bytes_sent,
        "bytes_received": tracked.bytes_received,
        "bound_port": None if snap.closed else tracked.bound_port,
        "current_ends": None if snap.closed else tracked.current_ends(),
    }


def session_entry(session: Session, endpoint: Endpoint | None) -> dict[str, Any]:
    """What the lecturer's screen reads of the session itself: the sockets its steps act on, the hints on
    its steps, its transfers' progress, the sockets listening on every interface, and the guide's line."""
    current = {}
    for target in TARGETS:
        tracked = session.current(target)
        current[target.value] = None if tracked is None else tracked.id
    for side in Side:
        busy = session.current(Target.BUSY, side)
        current[f"busy-{side.value}"] = None if busy is None else busy.id
    hints = {}
    for chosen in HINTED:
        prediction = session.predict(chosen, StepArgs(endpoint=endpoint))
        hints[chosen.id] = None if prediction is None else vars(prediction)
    transfers = {side.value: session.last_transfer(side) for side in Side}
    return {
        "current": current,
        "hints": hints,
        "transfers": transfers,
        "everywhere": session.listening_everywhere(),
        "ports": sorted(session.ports()),
        "guide": next_line(session),
    }


class PictureTaker:
    """Pictures of one session, each with only what changed since the last."""

    def __init__(self, session: Session, endpoint: Endpoint | None) -> None:
        self.session = session
        self.endpoint = endpoint
        self._sent: dict[int, dict[str, Any]] = {}
        self._session_sent: dict[str, Any] = {}

    def take(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(what changed, everything): the first for followers who have the rest, the second for one who joins."""
        changed = []
        for tracked in self.session.sockets:
            entry = socket_entry(tracked)
            if self._sent.get(tracked.id) != entry:
                self._sent[tracked.id] = entry
                changed.append(entry)
        whole = session_entry(self.session, self.endpoint)
        now = self.session.now()
        delta = {"type": "picture", "at": now, "sockets": changed}
        if whole != self._session_sent:
            self._session_sent = whole
            delta["session"] = whole
        full = {"type": "picture", "at": now, "sockets": list(self._sent.values()), "session": whole}
        return delta, full
