"""Capture files: pcapng with the session's calls as packet comments, and plain pcap.

Frames are kept cut after their headers and preview, with their real length,
so each record says both (captured and original length) and tcpdump and
Wireshark show each segment's true size. Formats: the pcapng draft
(draft-ietf-opsawg-pcapng) and libpcap's classic file header.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from pathlib import Path

from sockviz.core.kernel.capture.frames import SNAP_LENGTH, Frame

LINKTYPE_ETHERNET = 1
_OPT_END, _OPT_COMMENT, _SHB_USERAPPL, _IF_NAME = 0, 1, 4, 2


def _option(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def _options(options: Iterable[tuple[int, str]]) -> bytes:
    body = b"".join(_option(code, text.encode("utf-8")) for code, text in options)
    return body + struct.pack("<HH", _OPT_END, 0) if body else b""


def _block(kind: int, body: bytes) -> bytes:
    length = 12 + len(body)
    return struct.pack("<II", kind, length) + body + struct.pack("<I", length)


def write_pcapng(path: Path, frames: list[Frame], comment: str) -> None:
    """One section (its comment names the session's sockets), one interface (lo), a block per frame."""
    with path.open("wb") as out:
        shb = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + _options(
            [(_OPT_COMMENT, comment), (_SHB_USERAPPL, "sockviz")]
        )
        out.write(_block(0x0A0D0D0A, shb))
        out.write(_block(1, struct.pack("<HHI", LINKTYPE_ETHERNET, 0, SNAP_LENGTH) + _options([(_IF_NAME, "lo")])))
        for frame in frames:
            micros = round(frame.stamp * 1e6)  # the default resolution of an interface: microseconds
            data = frame.data + b"\0" * (-len(frame.data) % 4)
            body = struct.pack("<IIIII", 0, micros >> 32, micros & 0xFFFFFFFF, len(frame.data), frame.length)
            out.write(_block(6, body + data + _options((_OPT_COMMENT, call) for call in frame.calls)))


def write_pcap(path: Path, frames: list[Frame]) -> None:
    """The classic format, for tools that do not read pcapng: no comments."""
    with path.open("wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, SNAP_LENGTH, LINKTYPE_ETHERNET))
        for frame in frames:
            seconds = int(frame.stamp)
            micros = min(round((frame.stamp - seconds) * 1e6), 999_999)
            out.write(struct.pack("<IIII", seconds, micros, len(frame.data), frame.length))
            out.write(frame.data)
