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


UDP_BITS = 0x100
"""Past TCP's flag byte: a UDP datagram (it has no flags, no sequence numbers)."""
ICMP_UNREACHABLE_BITS = 0x200
"""Past TCP's flag byte: an ICMP (or ICMPv6) port unreachable, the answer to a datagram nobody listens for."""
ICMP_UNREACHABLE = "ICMP port unreachable"


def flag_names(bits: int) -> str:
    """`SYN-ACK`, `PSH-ACK`...: the names of the flags set in the TCP header's flag byte; `UDP` for a datagram."""
    if bits & UDP_BITS:
        return "UDP"
    if bits & ICMP_UNREACHABLE_BITS:
        return ICMP_UNREACHABLE
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


TCP4_HEADERS = struct.Struct("!BxH5xB2x12sIIBB")
"""From an IPv4 header with no options: version and length, total length, protocol, then the addresses and ports
(12 bytes: a connection's frames all share them), seq, ack, data offset and flags. The reader reads a segment of
a bulk transfer with this one unpack, in place in its block."""
TCP6_HEADERS = struct.Struct("!4xHBx36sIIBB")
"""The same from an IPv6 header (no extension headers: none occur on loopback TCP): payload length, next header,
addresses and ports (36 bytes), seq, ack, data offset and flags."""


def ends_of(key: bytes) -> Ends:
    """The two ends written in the key of TCP4_HEADERS or TCP6_HEADERS (12 or 36 bytes)."""
    return _ends(key, socket.AF_INET, 4) if len(key) == 12 else _ends(key, socket.AF_INET6, 16)


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


def _udp(frame: bytes, udp: int, key: bytes, family: int, size: int) -> Parsed | None:
    """A UDP datagram: its ends, UDP_BITS, its payload's length (from the UDP header) and preview."""
    if len(frame) < udp + 8:
        return None
    src, dst = _ends(key, family, size)
    length = max((frame[udp + 4] << 8 | frame[udp + 5]) - 8, 0)
    preview = frame[udp + 8 : udp + 8 + min(length, PREVIEW_BYTES)]
    return src, dst, 0, 0, UDP_BITS, length, preview


def _unreachable(frame: bytes, inner: int, inner_udp: int, src_host: str, dst_host: str) -> Parsed | None:
    """An ICMP port unreachable, told as going from the port nobody listens on back to the datagram's sender.

    It quotes the datagram it answers: `inner` is where the quoted IP header starts, `inner_udp` its UDP header.
    """
    if len(frame) < inner_udp + 4:
        return None
    sport, dport = struct.unpack_from("!HH", frame, inner_udp)
    return (src_host, dport), (dst_host, sport), 0, 0, ICMP_UNREACHABLE_BITS, 0, b""


def _icmp4(frame: bytes, icmp: int) -> Parsed | None:
    if len(frame) < icmp + 8 + 20 or frame[icmp] != 3 or frame[icmp + 1] != 3:  # destination, port unreachable
        return None
    inner = icmp + 8
    if frame[inner + 9] != socket.IPPROTO_UDP:
        return None
    hosts = socket.inet_ntop(socket.AF_INET, frame[26:30]), socket.inet_ntop(socket.AF_INET, frame[30:34])
    return _unreachable(frame, inner, inner + (frame[inner] & 0x0F) * 4, *hosts)


def _icmp6(frame: bytes) -> Parsed | None:
    icmp = ETHER_HEADER + 40
    if len(frame) < icmp + 8 + 40 or frame[icmp] != 1 or frame[icmp + 1] != 4:  # destination, port unreachable
        return None
    inner = icmp + 8
    if frame[inner + 6] != socket.IPPROTO_UDP:
        return None
    hosts = socket.inet_ntop(socket.AF_INET6, frame[22:38]), socket.inet_ntop(socket.AF_INET6, frame[38:54])
    return _unreachable(frame, inner, inner + 40, *hosts)


def parse_frame(frame: bytes) -> Parsed | None:
    """(src, dst, seq, ack, flags, payload length, preview) of a TCP frame with an Ethernet header.

    The frame may be cut short: the payload length comes from the IP header, so it is the
    segment's real length; the preview is whatever payload the frame still holds. A UDP
    datagram comes as UDP_BITS with no numbers, an ICMP port unreachable as ICMP_UNREACHABLE_BITS
    with the ports of the datagram it answers. None for anything else. It runs for every frame,
    so it reads bytes by index and keeps the addresses it has written out.
    """
    size = len(frame)
    if size < ETHER_HEADER + 20:
        return None
    ethertype = frame[12] << 8 | frame[13]
    if ethertype == 0x0800:
        ihl = (frame[14] & 0x0F) * 4
        if ihl < 20:
            return None
        if frame[23] == socket.IPPROTO_UDP:
            udp = ETHER_HEADER + ihl
            return _udp(frame, udp, frame[26:34] + frame[udp : udp + 4], socket.AF_INET, 4)
        if frame[23] == socket.IPPROTO_ICMP:
            return _icmp4(frame, ETHER_HEADER + ihl)
        if frame[23] != socket.IPPROTO_TCP:
            return None
        ip_length = (frame[16] << 8 | frame[17]) - ihl
        tcp = ETHER_HEADER + ihl
        if size < tcp + 14:
            return None
        key = frame[26:34] + frame[tcp : tcp + 4]  # the addresses, then the ports past any IP options
        src, dst = _ends(key, socket.AF_INET, 4)
    elif ethertype == 0x86DD:
        if size >= ETHER_HEADER + 48 and frame[20] == socket.IPPROTO_UDP:
            return _udp(frame, ETHER_HEADER + 40, frame[22:58], socket.AF_INET6, 16)
        if size >= ETHER_HEADER + 48 and frame[20] == socket.IPPROTO_ICMPV6:
            return _icmp6(frame)
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
