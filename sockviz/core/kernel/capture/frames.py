"""What a captured frame says: a TCP segment's addresses, numbers, flags and the first bytes of its payload.

Frames arrive cut after their headers and a preview (the kernel filter's snap
length), so a frame's payload length is read from its IP header: a cut frame
still counts its real size.
"""

from __future__ import annotations

import socket
import struct
from typing import NamedTuple

ETHER_HEADER = 14
"""Frames on lo carry a zeroed Ethernet header."""
PREVIEW_BYTES = 48
"""Payload bytes kept per segment: what the view previews and the export keeps."""
SNAP_LENGTH = ETHER_HEADER + 60 + 60 + PREVIEW_BYTES
"""Largest IPv4 header (60; IPv6's is 40) and TCP header (60), then the preview: the rest stays in the kernel."""

_FLAG_NAMES = ((0x02, "SYN"), (0x01, "FIN"), (0x04, "RST"), (0x08, "PSH"), (0x10, "ACK"))


class Segment(NamedTuple):
    """One TCP segment as it crossed loopback (a tuple: the capture makes thousands a second)."""

    at: float
    """Seconds since the session began, on the session's clock."""
    src: tuple[str, int]
    dst: tuple[str, int]
    flags: str
    """`SYN`, `SYN-ACK`, `ACK`, `PSH-ACK`, `FIN-ACK`, `RST`..."""
    seq: int
    """Relative, as Wireshark numbers it: 0 on the SYN, 1 on the first segment seen mid-connection."""
    ack: int
    """Relative to the other direction's numbering; 0 when the ACK flag is off."""
    length: int
    """Payload bytes of the segment as sent, read from the IP header (not what the capture kept)."""
    preview: bytes
    """The first bytes of the payload (up to PREVIEW_BYTES)."""
    fresh: int = 0
    """Payload bytes not seen before in this direction; the rest were sent again (a retransmission)."""

    @property
    def retransmitted(self) -> bool:
        """Every byte of its payload had been seen already."""
        return self.length > 0 and self.fresh == 0

    @property
    def is_data_or_ack(self) -> bool:
        """The segments a bulk transfer is made of, which a view may sum up."""
        return self.flags in ("ACK", "PSH-ACK")


class Frame(NamedTuple):
    """One kept frame for the export: the cut bytes, the real length, and the calls noted before it."""

    stamp: float
    """Wall-clock seconds, from the kernel's timestamp."""
    length: int
    """The frame's real length on the wire."""
    data: bytes
    """The frame cut after its headers and preview."""
    calls: tuple[str, ...] = ()


def flag_names(bits: int) -> str:
    """`SYN-ACK`, `PSH-ACK`...: the names of the flags set in the TCP header's flag byte."""
    return _FLAGS_BY_BITS[bits & 0xFF]


def _names_of(bits: int) -> str:
    names = [name for bit, name in _FLAG_NAMES if bits & bit]
    return "-".join(names) if names else "none"


_FLAGS_BY_BITS = [_names_of(bits) for bits in range(256)]

Parsed = tuple[tuple[str, int], tuple[str, int], int, int, int, int, bytes]
Ends = tuple[tuple[str, int], tuple[str, int]]

_TCP_NUMBERS = struct.Struct("!IIBB")  # seq, ack, data offset, flags: after the two ports
_ENDS: dict[bytes, Ends] = {}
"""(src, dst) by the bytes that hold them (addresses, then ports): a connection's frames all share them."""
_ENDS_KEPT = 4096


def _ends(key: bytes, family: int, size: int) -> Ends:
    """The two ends written in `key`: the source and destination addresses (`size` bytes each), then two ports."""
    ends = _ENDS.get(key)
    if ends is None:
        if len(_ENDS) >= _ENDS_KEPT:
            _ENDS.clear()
        src, dst = socket.inet_ntop(family, key[:size]), socket.inet_ntop(family, key[size : 2 * size])
        sport, dport = struct.unpack_from("!HH", key, 2 * size)
        ends = _ENDS[key] = ((src, sport), (dst, dport))
    return ends


def parse_frame(frame: bytes) -> Parsed | None:
    """(src, dst, seq, ack, flags, payload length, preview) of a TCP frame with an Ethernet header.

    The frame may be cut short: the payload length comes from the IP header, so it is the
    segment's real length; the preview is whatever payload the frame still holds. None for
    anything that is not TCP over IPv4 or IPv6. It runs for every frame, so it reads bytes
    by index and keeps the addresses it has written out.
    """
    size = len(frame)
    if size < ETHER_HEADER + 20:
        return None
    ethertype = frame[12] << 8 | frame[13]
    if ethertype == 0x0800:
        ihl = (frame[14] & 0x0F) * 4
        if frame[23] != socket.IPPROTO_TCP or ihl < 20:
            return None
        ip_length = (frame[16] << 8 | frame[17]) - ihl
        tcp = ETHER_HEADER + ihl
        if size < tcp + 14:
            return None
        key = frame[26:34] + frame[tcp : tcp + 4]  # the addresses, then the ports past any IP options
        src, dst = _ends(key, socket.AF_INET, 4)
    elif ethertype == 0x86DD:
        if size < ETHER_HEADER + 54 or frame[20] != socket.IPPROTO_TCP:
            return None  # extension headers do not occur on loopback TCP
        ip_length = frame[18] << 8 | frame[19]
        tcp = ETHER_HEADER + 40
        src, dst = _ends(frame[22:58], socket.AF_INET6, 16)
    else:
        return None
    seq, ack, data_offset, bits = _TCP_NUMBERS.unpack_from(frame, tcp + 4)
    header = (data_offset >> 4) * 4
    length = max(ip_length - header, 0)
    start = tcp + header
    preview = frame[start : start + (length if length < PREVIEW_BYTES else PREVIEW_BYTES)]
    return src, dst, seq, ack, bits, length, preview
