"""What a socket is doing now, in the table's words: `blocked in accept() 3.2 s`, `in recv()`, `idle`.

In the core, not in the table's widget, because a recording keeps the same words for each socket:
a replay or a follower shows a socket as it was without asking a live session.
"""

from __future__ import annotations

from collections.abc import Iterable

from sockviz.core.model.events import Call
from sockviz.core.story.sentences import duration


def activity(
    calls: Iterable[Call], blocked: set[int], now: float, closed: bool, serving: dict[int, str] | None = None
) -> str:
    """What the socket is doing: `blocked in accept() 3.2 s`, `in recv()`, `idle`; for a serve mode, what it
    says of itself (`serving (threads): 4 threads, 3 of 5 clients served`)."""
    parts = []
    for call in calls:
        if serving and call.id in serving:
            parts.append(serving[call.id])
        elif call.id in blocked:
            parts.append(f"blocked in {call.label} {duration(now - call.started)}")
        else:
            parts.append(f"in {call.label}")
    if parts:
        return ", ".join(parts)
    return "—" if closed else "idle"
