"""The wire view's lines as text: what the pane draws, what a recording keeps, and what a follower is sent.

The capture's reader hands over segments, summed-up runs, the calls between them, drops and its own end
(`sockviz.core.kernel.capture.runs`). Each becomes one line of text, in parts that each carry a kind (the
time and numbers are `aside`, flags other than a plain ACK are `flags`, a reset is `reset`...), so that a
front end draws the kinds in its own theme. The lecturer's pane draws these parts, and the same parts go
into the session format's `wire` records: a follower's pane and a replay's draw what the lecturer's drew,
with the sockets named as the lecturer's session named them, and no frame ever leaves the lecturer.

The capture's modules are imported only when a line is first made, so the wire costs start-up nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sockviz.core.kernel.capture import Segment, Summary, WireLine

Part = tuple[str, str]
"""A piece of a line and its kind: `""` (plain), `aside`, `flags`, `reset`, `note` or `dropped`."""

KINDS = ("", "aside", "flags", "reset", "note", "dropped")
"""Every kind a part may have: a reader draws any other (a later sockviz's) as plain text."""

PREVIEW_SHOWN = 32
"""Payload bytes a segment's line shows."""

Who = Callable[[tuple[str, int], tuple[str, int]], str]
"""Names the sender and receiver of a segment (`c → s`), from the session's sockets."""


def wire_text(line: WireLine, who: Who) -> tuple[Part, ...]:
    """One line of the wire view, in parts."""
    from sockviz.core.kernel.capture import CallLine, Dropped, Ended, Summary

    if isinstance(line, CallLine):
        return ((f"{line.at:8.3f} {line.side}: {line.code}", "aside"),)
    if isinstance(line, Summary):
        return summary_text(line, who)
    if isinstance(line, Dropped):
        said = f"{line.count} frames dropped by the kernel (the capture's ring was full): not shown, not saved"
        return (f"{line.at:8.3f} ", "aside"), (said, "dropped")
    if isinstance(line, Ended):
        return (f"{line.at:8.3f} ", "aside"), (line.reason, "dropped")
    return segment_text(line, who)


def line_at(line: WireLine) -> float:
    """When a line happened, on the session's clock (a summary: its last segment)."""
    from sockviz.core.kernel.capture import Summary

    return line.last_at if isinstance(line, Summary) else line.at


def segment_text(segment: Segment, who: Who) -> tuple[Part, ...]:
    plain_ack = segment.flags in ("ACK", "PSH-ACK")
    flags = "reset" if "RST" in segment.flags else "" if plain_ack else "flags"
    if segment.flags == "UDP":  # a datagram: no flags, no sequence numbers, nothing sent back
        numbers = f"len={segment.length}"
    elif segment.flags.startswith("ICMP"):
        numbers = f"(nothing listens on port {segment.src[1]}: the kernel answered the datagram)"
    else:
        numbers = f"seq={segment.seq} ack={segment.ack} len={segment.length}"
    parts: list[Part] = [
        (f"{segment.at:8.3f} ", "aside"),
        (f"{who(segment.src, segment.dst):<14} ", ""),
        (f"{segment.flags:<8} ", flags),
        (numbers, "aside"),
    ]
    if segment.retransmitted:
        parts.append((" (sent again)", "note"))
    elif segment.fresh < segment.length:
        parts.append((f" ({segment.length - segment.fresh:,} bytes sent again)", "note"))
    if segment.length:
        parts.append((f" {preview(segment.preview, segment.length)}", ""))
    return tuple(parts)


def summary_text(summary: Summary, who: Who) -> tuple[Part, ...]:
    said = []
    for (src, dst), tally in summary.directions.items():
        part = f"{who(src, dst)}: {tally.segments:,} segments, {tally.new_bytes:,} bytes"
        if tally.resent:
            part += f" ({tally.resent:,} sent again, {tally.resent_bytes:,} bytes)"
        said.append(part)
    return (f"{summary.last_at:8.3f} ", "aside"), (f"… {', '.join(said)}", "note")


def preview(kept: bytes, length: int) -> str:
    """The payload's first bytes, escaped, and how many more the segment really carried."""
    shown = kept[:PREVIEW_SHOWN]
    rest = length - len(shown)
    return f"{shown!r}… ({rest:,} more bytes)" if rest > 0 else repr(shown)


def plain(parts: tuple[Part, ...]) -> str:
    """The line as plain text, for a log, a test or jq."""
    return "".join(text for text, _ in parts)
