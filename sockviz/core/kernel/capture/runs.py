"""Which segments get a line of their own and which are summed up: the compact stream the reader hands over.

In a run of data segments and ACKs the first few get a line each; the rest are
counted per direction and told as a summary, at least once a second and when
the run ends (a quiet moment, a call, a SYN, FIN or RST, a drop). Every segment
is either on a line or in a summary, so the summaries add up to what was sent,
whatever the batches the frames arrive in; frames that the kernel dropped are
said where they were dropped.

It runs in the reader process, beside the ring, so that a 256 MiB transfer's
5,000 segments cost the app a few lines, not 5,000 objects. The calls come in
as marks in time, so a call ends a run and sits between the segments before
and after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sockviz.core.kernel.capture.frames import Segment

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

    def add(self, at: float, src: tuple[str, int], dst: tuple[str, int], length: int, fresh: int) -> None:
        tally = self.directions.get((src, dst))
        if tally is None:
            tally = self.directions[(src, dst)] = Tally()
        tally.segments += 1
        tally.new_bytes += fresh
        if fresh < length:
            tally.resent += 1
            tally.resent_bytes += length - fresh
        self.last_at = at


@dataclass(frozen=True)
class CallLine:
    """A call of the session, in time between the segments."""

    at: float
    side: str
    code: str


@dataclass(frozen=True)
class Dropped:
    at: float
    count: int
    """Frames the kernel dropped since the last such line."""


@dataclass(frozen=True)
class Ended:
    """The reader process ended without being asked to (killed, say): nothing more will be captured."""

    at: float
    reason: str


WireLine = Segment | Summary | CallLine | Dropped | Ended


class Runs:
    """Turns calls, segments and drops, told in the order they happened, into the lines of the wire view.

    Lines gather until `take()`: the reader hands them over in batches.
    """

    def __init__(self) -> None:
        self._lines: list[WireLine] = []
        self._run = 0
        """Data and ACK segments in the current run that got a line."""
        self._summary: Summary | None = None
        self._last_at: float | None = None

    def take(self) -> list[WireLine]:
        """The lines told since the last take."""
        lines, self._lines = self._lines, []
        return lines

    def call(self, line: CallLine | None) -> None:
        """A call ends the run; its line, if it has one (a burst's thousand connects do not), follows."""
        self._end_run()
        if line is not None:
            self._lines.append(line)

    def segment(
        self,
        at: float,
        src: tuple[str, int],
        dst: tuple[str, int],
        flags: str,
        seq: int,
        ack: int,
        length: int,
        preview: bytes,
        fresh: int,
    ) -> None:
        """The next segment, as `Segment`'s fields: one that is summed up never becomes a `Segment` at all."""
        if flags != "ACK" and flags != "PSH-ACK":  # not data or an ACK: see Segment.is_data_or_ack
            self._end_run()
            self._lines.append(Segment(at, src, dst, flags, seq, ack, length, preview, fresh))
        elif self.summing:
            self.sum_up(at, src, dst, length, fresh)
            return
        else:
            self._run += 1
            self._lines.append(Segment(at, src, dst, flags, seq, ack, length, preview, fresh))
        self._last_at = at

    @property
    def summing(self) -> bool:
        """Whether the next data segment or ACK is summed up (then `sum_up` takes it, with no preview to cut)."""
        return self._run >= SHOW_FIRST or self._summary is not None

    @property
    def open_summary(self) -> Summary | None:
        """The summary the next data segment or ACK is added to, if one is being told (`summing` then).

        A pass that adds segments to it itself (`summing.sum_frames`) says when the last one was, with `summed`.
        """
        return self._summary

    def summed(self, at: float) -> None:
        """Segments were added to `open_summary` directly, the last of them at `at`: as many `sum_up` calls."""
        if self._summary is not None:
            self._summary.last_at = at
            self._last_at = at

    def sum_up(self, at: float, src: tuple[str, int], dst: tuple[str, int], length: int, fresh: int) -> None:
        """A data segment or ACK of a run that is being summed up: `segment` when `summing`, with fewer fields."""
        summary = self._summary
        if summary is not None and at - summary.first_at >= SUMMARY_SECONDS:
            self._lines.append(summary)
            summary = None
        if summary is None:
            summary = self._summary = Summary(at)
        summary.add(at, src, dst, length, fresh)
        self._last_at = at

    def dropped(self, at: float, count: int) -> None:
        """Frames the kernel dropped: said where it happened, after what was summed up before it."""
        if self._summary is not None:
            self._lines.append(self._summary)
            self._summary = None
        self._lines.append(Dropped(at, count))

    def tick(self, now: float) -> None:
        """Called a few times a second: a run that has gone quiet is told and ends."""
        if self._last_at is not None and now - self._last_at >= QUIET_SECONDS:
            self._end_run()

    def end(self) -> None:
        """The capture stops: what was being summed up is told."""
        self._end_run()

    def _end_run(self) -> None:
        if self._summary is not None:
            self._lines.append(self._summary)
            self._summary = None
        self._run = 0
