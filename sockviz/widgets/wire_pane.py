"""The wire: TCP segments on loopback, in time with the calls that caused them.

The capture modules are imported only when the pane first opens, so they cost
start-up nothing. Which segments get a line and which are summed up, and where
each call goes between them, is decided in the capture's reader process; this
pane only draws the lines it delivers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Unpack

from rich.text import Text
from textual.geometry import Size
from textual.message import Message
from textual.reactive import Reactive
from textual.timer import Timer
from textual.widgets import RichLog

from sockviz.core.story.owners import owner_of
from sockviz.widgets.inks import ink
from sockviz.widgets.options import WidgetOptions

if TYPE_CHECKING:
    from sockviz.core import Session
    from sockviz.core.story.wire import Delivery, Segment, Summary, Wire

PREVIEW_SHOWN = 32
"""Payload bytes a segment's line shows."""


@dataclass
class WireSegments(Message):
    """What the capture delivered: its lines, and how many frames the kernel dropped."""

    delivery: Delivery
    source: Wire
    """The capture it came from: a reset's old capture may still deliver its last lines to the new pane."""


class WirePane(RichLog):
    """The wire view."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "wire-pane--aside",
        "wire-pane--flags",
        "wire-pane--reset",
        "wire-pane--note",
        "wire-pane--dropped",
    }
    """
    | Class | Description |
    | :- | :- |
    | `wire-pane--aside` | The time, the calls between the segments, and a segment's numbers. |
    | `wire-pane--flags` | Flags other than a plain ACK: SYN, FIN and the like. |
    | `wire-pane--reset` | A segment with RST. |
    | `wire-pane--note` | "sent again", a summed-up run of segments, why nothing is captured. |
    | `wire-pane--dropped` | Frames the kernel dropped, and a capture that ended on its own. |
    """
    DEFAULT_CSS = """
    WirePane {
        display: none;
        border: round $accent;
    }
    WirePane:focus {
        border: round $primary;
    }
    WirePane > .wire-pane--aside { color: $text-muted; }
    WirePane > .wire-pane--flags { text-style: bold; }
    WirePane > .wire-pane--reset { color: $text-error; text-style: bold; }
    WirePane > .wire-pane--note { text-style: italic; }
    WirePane > .wire-pane--dropped { text-style: bold; }
    """

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)
    """RichLog's, with no layout of the screen when it changes: the pane's size is the screen's to give, and
    its lines change only how far it scrolls. With Textual's own, every delivery of lines during a bulk send
    laid the whole screen out again (about 12 ms of the UI thread each, at 160x50, with the send waiting)."""

    def watch_virtual_size(self, size: Size) -> None:
        """Move the scrollbar (one that must appear still lays the screen out) and draw the new lines: RichLog
        leaves the repaint to the layout."""
        self._scroll_update(size)
        self.refresh()

    def __init__(self, **kwargs: Unpack[WidgetOptions]) -> None:
        super().__init__(markup=False, highlight=False, wrap=True, max_lines=5000, **kwargs)
        self.border_title = "wire (lo)"
        self.wire: Wire | None = None
        self._session: Session | None = None
        self._hold_for = 0.0
        """While a bulk transfer's bytes are on their way: how long a delivery may wait to be drawn (0: not)."""
        self._held: list[Delivery] = []
        self._held_timer: Timer | None = None

    def start(self, session: Session, post: Callable[[Message], object]) -> None:
        """Begin capturing, or say in one sentence why it cannot."""
        if self.wire is not None:
            return
        from sockviz.core.story.wire import Wire  # only when the wire view first opens

        self._session = session
        wire = self.wire = Wire(session, lambda delivery: post(WireSegments(delivery, wire)))
        problem = self.wire.start()
        if problem:
            self.wire = None
            self.write(Text(problem, style=ink(self, "wire-pane--note")))

    def on_unmount(self) -> None:
        self.stop()

    def stop(self) -> None:
        """The pane is going away (a reset, quitting): its capture ends in the background, never holding the UI."""
        if self.wire is not None:
            self.wire.stop(wait=False)

    def show_delivery(self, delivery: Delivery, source: Wire) -> None:
        """Draw a delivery of this pane's own capture (one from before a reset is another session's), or keep it
        for a moment while a transfer's bytes move (`hold`)."""
        if self._session is None or source is not self.wire:
            return
        if self._hold_for or self._held:  # what waits goes first: the lines keep their order
            self._held.append(delivery)
            if self._hold_for and self._held_timer is None:
                self._held_timer = self.set_timer(self._hold_for, self._draw_held)
            return
        self._draw(delivery)

    def hold(self, seconds: float | None) -> None:
        """While a bulk transfer's bytes are on their way, a delivery waits until it ends, `seconds` at most: each
        drawing holds the GIL the transfer's threads need (a 256 MiB send here lasts about a tenth of a second,
        and its first segments came in the middle of it). None: what waits is drawn next (after the message being
        handled, not inside it), and what comes at once."""
        self._hold_for = seconds or 0.0
        if seconds is None and self._held:
            self.call_later(self._draw_held)

    def _draw_held(self) -> None:
        if self._held_timer is not None:
            self._held_timer.stop()
            self._held_timer = None
        held, self._held = self._held, []
        for delivery in held:
            self._draw(delivery)

    def _draw(self, delivery: Delivery) -> None:
        from sockviz.core.story.wire import CallLine, Dropped, Ended, Summary

        aside = ink(self, "wire-pane--aside")
        for line in delivery.lines:
            if isinstance(line, CallLine):
                text = Text(f"{line.at:8.3f} {line.side}: {line.code}", style=aside)
            elif isinstance(line, Summary):
                text = self._summary(line)
            elif isinstance(line, Dropped):
                said = f"{line.count} frames dropped by the kernel (the capture's ring was full): not shown, not saved"
                text = Text.assemble((f"{line.at:8.3f} ", aside), (said, ink(self, "wire-pane--dropped")))
            elif isinstance(line, Ended):
                text = Text.assemble((f"{line.at:8.3f} ", aside), (line.reason, ink(self, "wire-pane--dropped")))
            else:
                text = self._line(line)
            self.write(text, scroll_end=False)
        if delivery.lines and self.auto_scroll:
            # Once for the delivery, in this frame: RichLog's own scroll comes a frame after each write, which
            # drew the pane twice for every delivery.
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    def _who(self, src: tuple[str, int], dst: tuple[str, int]) -> str:
        assert self._session is not None
        sockets = self._session.sockets
        return f"{owner_of(sockets, src, dst)} → {owner_of(sockets, dst, src)}"

    def _line(self, segment: Segment) -> Text:
        if "RST" in segment.flags:
            flags = ink(self, "wire-pane--reset")
        else:
            flags = ink(self, "wire-pane--flags") if segment.flags not in ("ACK", "PSH-ACK") else ""
        aside = ink(self, "wire-pane--aside")
        if segment.flags == "UDP":  # a datagram: no flags, no sequence numbers, nothing sent back
            numbers = f"len={segment.length}"
        elif segment.flags.startswith("ICMP"):
            numbers = f"(nothing listens on port {segment.src[1]}: the kernel answered the datagram)"
        else:
            numbers = f"seq={segment.seq} ack={segment.ack} len={segment.length}"
        text = Text.assemble(
            (f"{segment.at:8.3f} ", aside),
            (f"{self._who(segment.src, segment.dst):<14} ", ""),
            (f"{segment.flags:<8} ", flags),
            (numbers, aside),
        )
        if segment.retransmitted:
            text.append(" (sent again)", ink(self, "wire-pane--note"))
        elif segment.fresh < segment.length:
            text.append(f" ({segment.length - segment.fresh:,} bytes sent again)", ink(self, "wire-pane--note"))
        if segment.length:
            text.append(f" {preview(segment.preview, segment.length)}")
        return text

    def _summary(self, summary: Summary) -> Text:
        parts = []
        for (src, dst), tally in summary.directions.items():
            part = f"{self._who(src, dst)}: {tally.segments:,} segments, {tally.new_bytes:,} bytes"
            if tally.resent:
                part += f" ({tally.resent:,} sent again, {tally.resent_bytes:,} bytes)"
            parts.append(part)
        said = f"… {', '.join(parts)}"
        return Text.assemble(
            (f"{summary.last_at:8.3f} ", ink(self, "wire-pane--aside")), (said, ink(self, "wire-pane--note"))
        )

    def export(self, path: Path, *, plain: bool = False) -> str:
        """Save the capture as pcapng (or plain pcap); the sentence for the log."""
        if self.wire is None:
            return "nothing captured: open the wire view (w) first"
        return self.wire.export(path, plain=plain)


def preview(kept: bytes, length: int) -> str:
    """The payload's first bytes, escaped, and how many more the segment really carried."""
    shown = kept[:PREVIEW_SHOWN]
    rest = length - len(shown)
    return f"{shown!r}… ({rest:,} more bytes)" if rest > 0 else repr(shown)
