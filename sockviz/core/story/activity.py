"""What a socket is doing now, in the table's words: `accept() blocked 3 s`, `in recv()`, `idle`.

In the core, not in the table's widget, because a recording keeps the same words for each socket:
a replay or a follower shows a socket as it was without asking a live session.
"""

from __future__ import annotations

from collections.abc import Iterable

from sockviz.core.model.events import Call


def waited(seconds: float) -> str:
    """How long a call has waited so far, in whole seconds as a clock counts them (`0 s`, `12 s`): the log
    tells the exact wait when the call returns. Hundredths ticking four times a second said nothing a lecture
    needs, and made `blocked in sendall() 12.34 s` (or `... 430 ms`) too wide for the table's `now` at 130
    columns (as `blocked in sendall() 12 s` still was: the call comes first, `sendall() blocked 12 s`)."""
    return f"{int(max(seconds, 0))} s"


def activity(
    calls: Iterable[Call], blocked: set[int], now: float, closed: bool, serving: dict[int, str] | None = None
) -> str:
    """What the socket is doing: `accept() blocked 3 s`, `in recv()`, `idle`; for a serve mode, what it
    says of itself (`serving (threads): 4 threads, 3 of 5 clients served`)."""
    parts = []
    for call in calls:
        if serving and call.id in serving:
            parts.append(serving[call.id])
        elif call.id in blocked:
            parts.append(f"{call.label} blocked {waited(now - call.started)}")
        else:
            parts.append(f"in {call.label}")
    if parts:
        return ", ".join(parts)
    return "—" if closed else "idle"
