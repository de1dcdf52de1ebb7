"""The wire's story: a capture that follows a session, and the lines a view shows of it.

`Wire` ties a capture to a session: at each call (in the calling thread, before
the call's first segment leaves) it gives the kernel filter the session's ports
and notes the call, so the export can write it on the segment it caused.

`WireStory` decides which segments get a line of their own and which are summed
up, whatever the sizes of the batches they arrive in: in a run of data segments
and ACKs the first few get a line each, the rest are counted and told as a
summary per direction, at least once a second and when the run ends (a quiet
moment, a call, a SYN, FIN or RST). Every segment is either on a line or in a
summary, so the summaries add up to what was sent; frames that the kernel
dropped are said, where they were dropped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sockviz.core.engine.session import Session
from sockviz.core.kernel.capture import Delivery, Segment, WireCapture
from sockviz.core.model.events import Event, StepCalled
from sockviz.core.story.pcap import write_pcap, write_pcapng

SHOW_FIRST = 8
"""Data segments and ACKs of a run that get a line each before the rest are summed up."""
QUIET_SECONDS = 0.3
"""A run with no segment for this long has ended: its summary is told."""
SUMMARY_SECONDS = 1.0
"""A long run is told at least this often."""

Direction = tuple[tuple[str, int], tuple[str, int]]


@dataclass
class Tally:
    """A direction's segments in a summary."""

    segments: int = 0
    new_bytes: int = 0
    """Payload bytes that were new: the sum over a transfer is what was sent."""
    resent: int = 0
    resent_bytes: int = 0


@dataclass
class Summary:
    """Segments of a run that got no line of their own, per direction, in the order first seen."""

    first_at: float
    last_at: float = 0.0
    directions: dict[Direction, Tally] = field(default_factory=dict)

    def add(self, segment: Segment) -> None:
        tally = self.directions.setdefault((segment.src, segment.dst), Tally())
        tally.segments += 1
        tally.new_bytes += segment.fresh
        if segment.fresh < segment.length:
            tally.resent += 1
            tally.resent_bytes += segment.length - segment.fresh
        self.last_at = segment.at


@dataclass(frozen=True)
class CallLine:
    at: float
    side: str
    code: str


@dataclass(frozen=True)
class Dropped:
    at: float
    count: int
    """Frames the kernel dropped since the last such line."""


WireLine = Segment | Summary | CallLine | Dropped


class WireStory:
    """Turns calls, segments and drops into the lines of the wire view."""

    def __init__(self) -> None:
        self._run = 0
        """Data and ACK segments in the current run that got a line."""
        self._summary: Summary | None = None
        self._last_at: float | None = None

    def call(self, event: StepCalled) -> list[WireLine]:
        out = self._end_run()
        if event.call.burst_of is None:  # a burst's thousand connects are summed up by the log
            out.append(CallLine(event.at, event.call.step.side.value, event.call.code))
        return out

    def delivery(self, delivery: Delivery, now: float) -> list[WireLine]:
        out: list[WireLine] = []
        for segment in delivery.segments:
            if not segment.is_data_or_ack:
                out += self._end_run()
                out.append(segment)
            elif self._run < SHOW_FIRST and self._summary is None:
                self._run += 1
                out.append(segment)
            else:
                if self._summary is not None and segment.at - self._summary.first_at >= SUMMARY_SECONDS:
                    out.append(self._summary)
                    self._summary = None
                if self._summary is None:
                    self._summary = Summary(segment.at)
                self._summary.add(segment)
            self._last_at = segment.at
        if delivery.dropped:
            if self._summary is not None:
                out.append(self._summary)
                self._summary = None
            out.append(Dropped(now, delivery.dropped))
        return out

    def tick(self, now: float) -> list[WireLine]:
        """Called a few times a second: a run that has gone quiet is told and ends."""
        if self._last_at is not None and now - self._last_at >= QUIET_SECONDS:
            return self._end_run()
        return []

    def _end_run(self) -> list[WireLine]:
        out: list[WireLine] = [self._summary] if self._summary is not None else []
        self._summary = None
        self._run = 0
        return out


class Wire:
    """A capture on lo that follows one session's ports and notes its calls."""

    def __init__(self, session: Session, deliver: Callable[[Delivery], object]) -> None:
        self.session = session
        self.capture = WireCapture(session.ports, deliver, session.now)
        self._unsubscribe: Callable[[], None] | None = None
        self.started = time.time()

    def start(self) -> str | None:
        """Start capturing; None when it runs, or the sentence that says why it cannot."""
        problem = self.capture.start()
        if problem is None:
            self._unsubscribe = self.session.subscribe(self._heard)
        return problem

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.capture.stop()

    def _heard(self, event: Event) -> None:
        """A session listener: runs in the calling thread before the call, so its SYN is in the filter."""
        if isinstance(event, StepCalled):
            self.capture.refresh_ports()
            self.capture.note_call(f"{event.call.step.side.value}: {event.call.code}")

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
        frames = capture.frames
        if plain:
            write_pcap(path, frames)
        else:
            header = ["sockviz session", *self.sockets_named()]
            later = capture.calls_after_the_last_frame
            if later:
                header += ["calls after the last captured frame:", *later]
            write_pcapng(path, frames, "\n".join(header))
        notes = []
        if capture.dropped:
            notes.append(f"{capture.dropped} frames dropped by the kernel are not in it")
        if capture.left_out:
            notes.append(f"{capture.left_out} frames past the 32 MiB store were left out")
        note = f" ({'; '.join(notes)})" if notes else ""
        kind = "pcap" if plain else "pcapng, with the calls as packet comments"
        return f"saved {len(frames)} frames to {path} as {kind}{note}: Wireshark and tcpdump open it"
