"""The frames of a bulk transfer summed up where they lie: the reader's pass for a run that is being summed.

A 256 MiB send is about 4,500 cut frames, nearly all data segments and ACKs that
only add to a summary. The reader's pass over a frame (`Reader._read_block`)
makes a dozen Python steps and calls for each (numbering, summing up, the calls'
times); here a run of such frames costs two unpacks and a few comparisons and
additions each, with the counts kept in local variables and written to the
summary and the numbering once, when the run of frames ends. Anything this pass
does not know how to take exactly as the reader's pass would (a new connection,
a segment out of order or sent again, a flag other than ACK or PSH-ACK, a frame
at or after the moment a call was made, UDP, ICMP, IP options) ends it, and the
reader's pass takes that frame: the lines and the numbering come out the same
(a test compares the two).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Container

from sockviz.core.kernel.capture.numbering import Address, Pair
from sockviz.core.kernel.capture.runs import Summary, Tally

Connection = tuple[Address, Address, Pair]
"""A connection's ends and the numbering of its directions, as the reader keeps them by the bytes of its key."""

_STAMP = struct.Struct("<IIII")
"""tpacket3_hdr's next_offset, sec, nsec and snaplen (the frame header is the kernel's byte order)."""
_MOD = 2**32
_NS = 10**9
_CUSHION_NS = 10_000
"""Frames this close to the horizon are left to the reader's pass, which compares the times as floats: a frame
this pass takes is surely before it, whatever the rounding of either."""
_HEADERS: dict[int, tuple[struct.Struct, struct.Struct, int]] = {}
"""By where the network header starts in a frame: the IPv4 and IPv6 unpacks, and the frame's mac and net."""


def _headers(net: int) -> tuple[struct.Struct, struct.Struct, int]:
    """The unpacks of a frame whose network header starts `net` bytes past its tpacket3_hdr, after an Ethernet
    header. From the header's mac and net offsets (at 24, as one word: each frame is checked to have these), its
    ethertype, then IPv4's version and header length, total length, protocol, the 12 bytes of addresses and
    ports, seq, data offset and flags; and, from the network header, IPv6's payload length, next header, the 36
    bytes of addresses and ports, seq, data offset and flags. With the word that mac and net make."""
    headers = _HEADERS.get(net)
    if headers is None:
        four = struct.Struct(f"!I{net - 2 - 28}xHBxH5xB2x12sI4xBB")
        six = struct.Struct("!4xHBx36sI4xBB")
        link = int.from_bytes(struct.pack("<HH", net - 14, net), "big")  # as the "!I" at 24 reads them
        headers = _HEADERS[net] = (four, six, link)
    return headers


def sum_frames(
    block: bytes,
    place: int,
    count: int,
    at: int,
    horizon: float,
    summary: Summary,
    known: Callable[[bytes], Connection | None],
    picking: Container[int] | None,
) -> tuple[int, int, int]:
    """Add to `summary` the frames of `block` from the `place`-th (starting at byte `at`) while each is a TCP
    data segment or ACK of a connection `known` gives, numbered already in both directions, new data in order
    or no data, and stamped before `horizon` (wall-clock: the next call, the next call's note, or the time the
    summary is told by). Returns (the place of the first frame not taken, where it starts, where the last
    frame taken starts, or -1 if none was): the reader takes that frame, and the summary's times are the
    caller's to set from the last frame's stamp.

    Each direction's numbering is kept in locals while frames come (`expected`: the sequence number that new
    data would start at; -1 where the reader's pass has to decide), and written back at the end.
    """
    if horizon == float("inf"):
        stop_sec, stop_nsec = 1 << 62, 0
    else:
        stop_sec, stop_nsec = divmod(int(horizon) * _NS + int((horizon - int(horizon)) * _NS) - _CUSHION_NS, _NS)
    _, _, _, _, _, _, mac, net = struct.unpack_from("<IIIIIIHH", block, at)
    if mac != net - 14:
        return place, at, -1
    four, six, link_of_lo = _headers(net)
    stamp_of, ip_of, ip6_of = _STAMP.unpack_from, four.unpack_from, six.unpack_from
    directions = summary.directions
    a_key = b_key = b""
    a_tally = b_tally = Tally()  # placeholders: written to only once a key is set
    a_pair = b_pair = None
    a_reached = b_reached = a_expected = b_expected = -1
    a_segments = a_bytes = b_segments = b_bytes = 0
    last = -1
    try:
        while place < count:
            step, sec, nsec, snaplen = stamp_of(block, at)
            if sec >= stop_sec and (sec > stop_sec or nsec >= stop_nsec):
                break
            link, ethertype, vihl, total, protocol, key, seq, data_offset, flags = ip_of(block, at + 24)
            if link != link_of_lo:
                break
            if ethertype == 0x0800 and vihl == 0x45 and protocol == 6 and snaplen >= 48:
                payload = total - 20 - (data_offset >> 4) * 4
            elif ethertype == 0x86DD and snaplen >= 68:
                total, protocol, key, seq, data_offset, flags = ip6_of(block, at + net)
                if protocol != 6:
                    break
                payload = total - (data_offset >> 4) * 4
            else:
                break
            if (flags != 0x10 and flags != 0x18) or payload < 0:  # ACK, PSH-ACK (with no other flag)
                break
            if key == a_key:
                if payload:
                    if seq != a_expected:
                        break
                    a_expected = (a_expected + payload) & 0xFFFFFFFF
                    a_bytes += payload
                a_segments += 1
            elif key == b_key:
                if payload:
                    if seq != b_expected:
                        break
                    b_expected = (b_expected + payload) & 0xFFFFFFFF
                    b_bytes += payload
                b_segments += 1
            else:  # a direction not seen in this pass yet: it takes the place of the one seen longer ago
                connection = known(key)
                if connection is None:
                    break
                src, dst, pair = connection
                forward, back = pair
                if forward.base is None or back.base is None:
                    break  # the reader's pass sets the base from this frame
                if picking is not None and src[1] not in picking and dst[1] not in picking:
                    break
                if b_pair is not None:
                    _write_back(b_tally, b_pair, b_reached, b_segments, b_bytes)
                b_key, b_pair, b_segments, b_bytes = a_key, a_pair, a_segments, a_bytes
                b_tally, b_reached, b_expected = a_tally, a_reached, a_expected
                tally = directions.get((src, dst))
                if tally is None:
                    tally = directions[(src, dst)] = Tally()
                a_key, a_pair, a_tally, a_segments, a_bytes = key, pair, tally, 0, 0
                a_reached = forward.reached if forward.reached is not None else -1  # -1: no data seen yet, the
                a_expected = -1 if a_reached < 0 else (forward.base + a_reached) % _MOD  # reader's pass begins it
                continue  # the same frame again, now that its direction is known
            last = at
            at += step
            place += 1
    except struct.error:  # a frame too short for the unpack at the block's end: not a TCP segment
        pass
    if a_pair is not None:
        _write_back(a_tally, a_pair, a_reached, a_segments, a_bytes)
    if b_pair is not None:
        _write_back(b_tally, b_pair, b_reached, b_segments, b_bytes)
    return place, at, last


def _write_back(tally: Tally, pair: Pair, reached: int, segments: int, new_bytes: int) -> None:
    """A direction's counts into its tally, and the data it reached into its numbering (as `cover` keeps it:
    relative to the direction's base, not wrapped)."""
    tally.segments += segments
    tally.new_bytes += new_bytes
    if new_bytes:
        pair[0].reached = reached + new_bytes
