"""The wire: TCP segments on loopback, in time with the calls that caused them.

The capture module is imported only when the pane first opens, so it costs
start-up nothing. A bulk transfer's thousands of data segments and ACKs are
summed up per batch; handshakes, FINs and RSTs always get a line of their own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Unpack

from rich.text import Text
from textual.message import Message
from textual.widgets import RichLog

from sockviz.core import Session, StepCalled
from sockviz.core.model.payload import show_bytes
from sockviz.core.story.owners import owner_of
from sockviz.widgets.options import WidgetOptions

SUM_UP_AFTER = 12
"""A batch with more data and ACK segments than this gets one summary line for them."""


@dataclass
class WireSegments(Message):
    """Segments from the capture thread, a batch at a time."""

    segments: list


class WirePane(RichLog):
    """The wire view."""

    def __init__(self, **kwargs: Unpack[WidgetOptions]) -> None:
        super().__init__(markup=False, highlight=False, wrap=True, max_lines=5000, **kwargs)
        self.border_title = "wire (lo)"
        self.capture = None
        self._session: Session | None = None

    def start(self, session, post: Callable[[Message], object]) -> None:
        """Begin capturing, or say in one sentence why it cannot."""
        if self.capture is not None:
            return
        from sockviz.core.kernel.capture import WireCapture  # only when the wire view first opens

        self.capture = WireCapture(session.uses_port, lambda batch: post(WireSegments(batch)), session.now)
        problem = self.capture.start()
        if problem:
            self.capture = None
            self.write(Text(problem, style="italic"))
        self._session = session

    def _owner(self, src: tuple[str, int], dst: tuple[str, int]) -> str:
        """The session's name for the socket that sent from `src` to `dst`."""
        return owner_of(self._session.sockets if self._session else (), src, dst)

    def on_unmount(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self.capture is not None:
            self.capture.stop()

    def show_call(self, event: StepCalled) -> None:
        """Calls go in the same view, so each segment sits under the call that caused it."""
        if self.capture is not None and event.call.burst_of is None:
            self.write(
                Text.assemble((f"{event.at:8.3f} ", "dim"), (f"{event.call.step.side.value}: {event.call.code}", "dim"))
            )

    def show_segments(self, segments: list) -> None:
        bulk = [s for s in segments if s.is_data_or_ack]
        summed = len(bulk) > SUM_UP_AFTER
        for segment in segments:
            if summed and segment.is_data_or_ack:
                continue
            self.write(self._line(segment))
        if summed:
            self.write(self._summary(bulk))

    def _line(self, segment) -> Text:
        who = f"{self._owner(segment.src, segment.dst)} → {self._owner(segment.dst, segment.src)}"
        style = "bold" if segment.flags not in ("ACK", "PSH-ACK") else ""
        if "RST" in segment.flags:
            style = "bold red"
        text = Text.assemble(
            (f"{segment.at:8.3f} ", "dim"),
            (f"{who:<14} ", ""),
            (f"{segment.flags:<8} ", style),
            (f"seq={segment.seq} ack={segment.ack} len={segment.length}", "dim"),
        )
        if segment.length:
            text.append(f" {show_bytes(segment.preview, 32)}")
        return text

    def _summary(self, bulk: list) -> Text:
        directions: Counter[str] = Counter()
        payload: Counter[str] = Counter()
        for segment in bulk:
            key = f"{self._owner(segment.src, segment.dst)} → {self._owner(segment.dst, segment.src)}"
            directions[key] += 1
            payload[key] += segment.length
        parts = ", ".join(f"{key}: {count} segments, {payload[key]} bytes" for key, count in directions.items())
        return Text.assemble((f"{bulk[-1].at:8.3f} ", "dim"), (f"… {parts}", "italic"))

    def export(self, path) -> str:
        """Save the capture as pcap; the sentence for the log."""
        if self.capture is None:
            return "nothing captured: open the wire view (w) first"
        count = self.capture.export_pcap(path)
        note = f" ({self.capture.left_out} frames past the 32 MiB store were left out)" if self.capture.left_out else ""
        return f"saved {count} frames to {path}{note}: Wireshark and tcpdump open it"
