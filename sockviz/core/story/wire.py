"""The wire's story: a capture that follows a session, its calls in time between the segments.

`Wire` ties a capture to a session: at each call (in the calling thread, before
the call's first segment leaves) it gives the kernel filter the session's ports
and notes the call, so that the call's line sits between the segments before
and after it, and the export writes the call on the segment it caused. A port
leaves the filter once nothing of the session is on it: its socket closed and
the kernel holds no connection of it (a TIME_WAIT keeps it for its 60 s). Which
segments get a line and which are summed up is decided beside the ring, in the
capture's reader process (`sockviz.core.kernel.capture.runs`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

from sockviz.core.engine.session import Session
from sockviz.core.kernel.capture import (
    CallLine,
    Delivery,
    Dropped,
    Ended,
    Segment,
    Summary,
    Tally,
    WireCapture,
    WireLine,
)
from sockviz.core.model.events import Event, StepCalled

__all__ = ["CallLine", "Delivery", "Dropped", "Ended", "Segment", "Summary", "Tally", "Wire", "WireLine"]

LINGER_SECONDS = 1.0
"""While a closed connection lingers (TIME_WAIT: 60 s), the kernel is asked again this often whether it still
holds it; a connection just closed is asked about at the next tick (50 ms)."""


class Wire:
    """A capture on lo that follows one session's ports and notes its calls."""

    def __init__(self, session: Session, deliver: Callable[[Delivery], object]) -> None:
        self.session = session
        self.capture = WireCapture(session.ports, deliver, session.now, before_ports=self._look_at_lingering)
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> str | None:
        """Start capturing; None when it runs, or the sentence that says why it cannot."""
        problem = self.capture.start()
        if problem is None:
            self._unsubscribe = self.session.subscribe(self._heard)
        return problem

    def stop(self, *, wait: bool = True) -> None:
        """Hear the session no more and end the capture (see `WireCapture.stop`)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.capture.stop(wait=wait)

    def _look_at_lingering(self) -> None:
        """In the capture's thread: a closed connection's ports stay in the filter until the kernel drops it."""
        with contextlib.suppress(OSError):  # the netlink query failed: they stay, and it is asked again later
            self.session.read_lingering_when_due(LINGER_SECONDS)

    def _heard(self, event: Event) -> None:
        """A session listener: runs in the calling thread before the call, so its SYN is in the filter."""
        if isinstance(event, StepCalled):
            call = event.call
            self.capture.refresh_ports()
            line = CallLine(event.at, call.step.side.value, call.code) if call.burst_of is None else None
            self.capture.note_call(line, f"{call.step.side.value}: {call.code}")  # a burst's are summed by the log

    def sockets_named(self) -> list[str]:
        """`c = 127.0.0.1:45678 -> 127.0.0.1:12354 (client)`: which address is which of the session's sockets."""
        lines = []
        for tracked in self.session.sockets:
            ends = tracked.ends or tracked.current_ends()
            if ends is not None:
                (lhost, lport), (rhost, rport) = ends[0][:2], ends[1][:2]
                where = f"{lhost}:{lport} -> {rhost}:{rport}"
            elif tracked.bound_port:
                where = f"port {tracked.bound_port}"
            else:
                continue
            lines.append(f"{tracked.name} = {where} ({tracked.role.value})")
        return lines

    def export(self, path: Path, *, plain: bool = False) -> str:
        """Save the capture (pcapng with the calls as comments, or plain pcap); the sentence for the log."""
        capture = self.capture
        saved = capture.export(path, plain=plain, header=["sockviz session", *self.sockets_named()])
        if isinstance(saved, str):
            return f"nothing saved: {saved}"
        notes = []
        if capture.dropped:
            notes.append(f"{capture.dropped} frames dropped by the kernel are not in it")
        if capture.left_out:
            notes.append(f"{capture.left_out} frames past the 32 MiB store were left out")
        note = f" ({'; '.join(notes)})" if notes else ""
        kind = "pcap" if plain else "pcapng, with the calls as packet comments"
        return f"saved {saved} frames to {path} as {kind}{note}: Wireshark and tcpdump open it"
