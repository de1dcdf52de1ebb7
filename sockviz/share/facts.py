"""What the lecturer's screen reads of the session itself, beyond its events and sockets, for followers.

The session format carries the events and each socket's row; a follower's screen also shows the sockets
each step acts on, the kernel's hints on the steps (`waits`, `2 ready`), a transfer's progress, the
sockets listening on every interface and the log's `next:` line. In predict mode the lecturer's screen hides
the hints and the guide's foretelling (`it waits for one`) until the class has answered, so the facts carry
the mode and leave out what the lecturer's screen leaves out: a follower's screen says no more. The share
reads them from the live session right after events (in the recorder's thread) and now and then (in the
link's; its readings are safe from any thread) and sends them when they change, as a share line.
"""

from __future__ import annotations

from typing import Any

from sockviz.core import STEPS, Session, Side, StepArgs, Target
from sockviz.core.model.addresses import Endpoint
from sockviz.core.story.next_steps import next_line

HINTED = tuple(s for s in STEPS if s.blocks_until)
"""The steps whose line carries the kernel's hint (`waits`, `2 ready`)."""

TARGETS = (Target.LISTENER, Target.CONNECTION, Target.CLIENT)


def session_facts(
    session: Session, endpoint: Endpoint | None, *, predicting: bool = False, guide: str | None = None
) -> dict[str, Any]:
    """The sockets the steps act on (by id), the hints, the transfers, the wildcard listeners and the guide;
    `predicting` (the lecturer's predict mode): no hints, and a guide that names the steps but not what they do.
    `guide`: the lecturer's screen's own, when it says another (a lesson's next line) than the session's."""
    current: dict[str, int | None] = {}
    for target in TARGETS:
        tracked = session.current(target)
        current[target.value] = None if tracked is None else tracked.id
    for side in Side:
        busy = session.current(Target.BUSY, side)
        current[f"busy-{side.value}"] = None if busy is None else busy.id
    hints = {}
    for chosen in () if predicting else HINTED:
        prediction = session.predict(chosen, StepArgs(endpoint=endpoint))
        hints[chosen.id] = None if prediction is None else vars(prediction)
    return {
        "current": current,
        "hints": hints,
        "transfers": {side.value: session.last_transfer(side) for side in Side},
        "everywhere": session.listening_everywhere(),
        "ports": sorted(session.ports()),
        "guide": guide or next_line(session, target=endpoint, telling=not predicting),
        "predict": predicting,
        "serving": session.serve_status(),
        "non_blocking": [t.id for t in session.sockets if not t.closed and t.non_blocking],
        "datagrams": {str(t.id): (t.datagrams_sent, t.datagrams_received) for t in session.sockets if t.datagram},
    }
