"""The packets behind each call: TCP segments on loopback, for the session's ports, captured as tcpdump does.

The kernel does the heavy part: a classic BPF filter on the capture socket keeps
only the session's ports and cuts each frame after its headers and a preview
(`filter`), and the frames land in a memory-mapped TPACKET_V3 ring (`ring`). A
reader process of its own (`reader`) reads the ring a block at a time, parses
each frame (`frames`), numbers it as Wireshark does (`numbering`), keeps it for
the export with the calls joined as comments (`store`, `files`), and decides
which segments get a line and which are summed up (`runs`). The app's side
(`process`) starts and stops it and takes its lines over a pipe (`channel`), a
few a second, so the capture costs the app's GIL almost nothing. All of it is
the standard library: nothing to install, nothing imported before the wire view
opens.
"""

from sockviz.core.kernel.capture.filter import MAX_FILTER_PORTS, bpf_program
from sockviz.core.kernel.capture.frames import PREVIEW_BYTES, SNAP_LENGTH, Frame, Segment, flag_names, parse_frame
from sockviz.core.kernel.capture.process import Delivery, WireCapture
from sockviz.core.kernel.capture.ring import NOT_PERMITTED
from sockviz.core.kernel.capture.runs import CallLine, Dropped, Ended, Summary, Tally, WireLine

__all__ = [
    "MAX_FILTER_PORTS",
    "NOT_PERMITTED",
    "PREVIEW_BYTES",
    "SNAP_LENGTH",
    "CallLine",
    "Delivery",
    "Dropped",
    "Ended",
    "Frame",
    "Segment",
    "Summary",
    "Tally",
    "WireCapture",
    "WireLine",
    "bpf_program",
    "flag_names",
    "parse_frame",
]
