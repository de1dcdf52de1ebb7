"""A run of a bulk transfer summed up where its frames lie (`capture.summing`) tells what reading every frame tells.

The reader takes the frames of a run that is being summed up in a pass of its
own, a few comparisons and additions each. These tests read the same blocks
frame by frame, each frame parsed whole (`parse_frame`), numbered and handed to
`Runs` as the view's first version did, and compare the lines, the numbering
and the frames kept for the export: on made-up blocks with everything that ends
such a pass (segments out of order and sent again, other flags, a second
connection, IPv6, IP options, UDP, calls and a summary's second), and on the
blocks the kernel filled during a real transfer on loopback.
"""

from __future__ import annotations

import math
import os
import random
import socket
import struct

import pytest
from helpers import wait_for

from sockviz.core.kernel.capture import SNAP_LENGTH, Summary, flag_names, parse_frame
from sockviz.core.kernel.capture import reader as reader_module
from sockviz.core.kernel.capture.filter import program_for
from sockviz.core.kernel.capture.numbering import Numbering
from sockviz.core.kernel.capture.reader import Reader
from sockviz.core.kernel.capture.ring import BLOCK_SIZE, BLOCKS, Ring, frames_in, open_capture
from sockviz.core.kernel.capture.runs import CallLine, Runs

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="a raw socket on lo needs root")
HERE, HERE6 = socket.inet_aton("127.0.0.1"), socket.inet_pton(socket.AF_INET6, "::1")
START = 1_796_000_000
"""A wall-clock second of today's size: the float times the reader compares have its rounding."""


def _frame(src: bytes, dst: bytes, ports: tuple[int, int], seq: int, flags: int, payload: bytes, *, ack: int = 7,
           v6: bool = False, options: bytes = b"", udp: bool = False) -> bytes:  # fmt: skip
    """An Ethernet frame on lo: IPv4 (with `options`) or IPv6, carrying a TCP segment or a UDP datagram."""
    if udp:
        transport = struct.pack("!HHHH", *ports, 8 + len(payload), 0) + payload
    else:
        transport = struct.pack("!HHIIBBHHH", *ports, seq % 2**32, ack % 2**32, 5 << 4, flags, 65535, 0, 0) + payload
    protocol = socket.IPPROTO_UDP if udp else socket.IPPROTO_TCP
    if v6:
        ip = struct.pack("!IHBB16s16s", 6 << 28, len(transport), protocol, 64, src, dst)
        return b"\0" * 12 + b"\x86\xdd" + ip + transport
    ihl = 5 + len(options) // 4
    ip = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, ihl * 4 + len(transport), 0, 0, 64, protocol, 0, src, dst)
    return b"\0" * 12 + b"\x08\x00" + ip + options + transport


def _block(frames: list[tuple[int, bytes]]) -> bytes:
    """A TPACKET_V3 block as the kernel hands it over: its header, then each frame (its stamp in ns, its bytes)
    cut to SNAP_LENGTH, laid out as this kernel lays out frames on lo (mac 82, net 96, 8-byte aligned)."""
    mac = 82
    body, at = b"", 48
    for index, (stamp, frame) in enumerate(frames):
        kept = frame[:SNAP_LENGTH]
        size = (mac + len(kept) + 7) // 8 * 8
        header = struct.pack("<IIIIIIHH", 0 if index == len(frames) - 1 else size, *divmod(stamp, 10**9),
                             len(kept), len(frame), 1, mac, mac + 14)  # fmt: skip
        body += (header + bytes(mac - len(header)) + kept).ljust(size, b"\0")
        at += size
    return struct.pack("<IIIIII", 3, 0, 1, len(frames), 48, at).ljust(48, b"\0") + body


Picking = list[frozenset[int] | None]
"""The ports the reader picks (None: the kernel filter's) while it reads each block."""


def _told_frame_by_frame(blocks: list[bytes], calls: list[tuple[float, CallLine]], picking: Picking):
    """Each frame parsed whole, numbered and handed to `Runs`, the calls told before the first frame stamped at or
    after them: (the lines, each direction's numbering as (base, reached, gaps), each kept frame's stamp and the
    calls noted on it, the first kept frame stamped at or after them)."""
    numbering, runs, notes, kept = Numbering(), Runs(), list(calls), []
    calls = list(calls)
    for block, picks in zip(blocks, picking, strict=True):
        for stamp, _, data in frames_in(block):
            parsed = parse_frame(data)
            if parsed is None:
                continue
            src, dst, seq, ack, bits, length, preview = parsed
            if picks is not None and src[1] not in picks and dst[1] not in picks:
                continue
            while calls and calls[0][0] <= stamp:
                runs.call(calls.pop(0)[1])
            kept.append((stamp, tuple(line.code for wall, line in notes if wall <= stamp)))
            notes = [(wall, line) for wall, line in notes if wall > stamp]
            rel_seq, rel_ack, fresh = (
                numbering.relative(src, dst, seq, ack, bits, length) if bits <= 0xFF else (0, 0, length)
            )
            runs.segment(stamp, src, dst, flag_names(bits), rel_seq, rel_ack, length, preview, fresh)
    for _, line in calls:
        runs.call(line)
    runs.end()
    return runs.take(), _directions(numbering), kept


def _directions(numbering: Numbering) -> dict:
    """Each direction's numbering, of those that numbered a segment (the reader makes a connection's both at its
    first frame, also one it then leaves out as not the session's)."""
    directions = {ends: (pair[0].base, pair[0].reached, pair[0].gaps) for ends, pair in numbering._pairs.items()}
    return {ends: numbers for ends, numbers in directions.items() if numbers != (None, None, [])}


def _told_by_the_reader(blocks: list[bytes], calls: list[tuple[float, CallLine]], picking: Picking,
                        monkeypatch) -> tuple[list, dict, list, int]:  # fmt: skip
    """The reader's own pass over the blocks: as `_told_frame_by_frame`, and how many frames were summed where
    they lie."""
    taken = [0]
    sum_frames = reader_module.sum_frames

    def counted(block, place, *rest):
        after = sum_frames(block, place, *rest)
        taken[0] += after[0] - place
        return after

    monkeypatch.setattr(reader_module, "sum_frames", counted)
    reader = Reader(None, -1, -1, 0.0)  # type: ignore[arg-type]  # no ring: the blocks are given
    for wall, line in calls:
        reader._obey(("call", wall, 0.0, line, line.code))
    for block, picks in zip(blocks, picking, strict=True):
        reader._picking = picks
        reader._read_block(block)
    reader._tell_calls(float("inf"))
    reader._runs.end()
    kept = [(frame.stamp, frame.calls) for frame in reader._store.frames]
    return reader._runs.take(), _directions(reader._numbering), kept, taken[0]


def _stream(seed: int) -> list[tuple[int, bytes]]:
    """A bulk transfer's frames as loopback can show them, with all that a summed run meets: data in order with
    ACKs back, a segment out of order, one sent again (whole and in part), an ACK with ECE, a second connection
    over IPv6, a frame with IP options, a datagram, and a FIN; stamped 600 µs apart over two and a half seconds.
    The client's sequence numbers start at 1000, or (seed 1, 4) just before they wrap past 2**32, or (seed 2, 5)
    jump ahead (a segment after a gap) to just before its numbering relative to the SYN wraps."""
    rng = random.Random(seed)
    isn = 2**32 - 500_000 if seed % 3 == 1 else 999
    frames: list[bytes] = []
    c, s = (40000, 12354), (12354, 40000)
    six, six_back = (40001, 12355), (12355, 40001)
    frames += [_frame(HERE, HERE, c, isn, 0x02, b"", ack=0), _frame(HERE, HERE, s, 5000, 0x12, b"", ack=isn + 1)]
    frames += [_frame(HERE6, HERE6, six, 70, 0x02, b"", ack=0, v6=True)]
    frames += [_frame(HERE6, HERE6, six_back, 90, 0x12, b"", ack=71, v6=True)]
    seq, seq6, sent = isn + 1, 71, []
    for index in range(4000):
        if seed % 3 == 2 and index == 1000:
            seq = isn + 2**32 - 3_000_000  # 3 MB short of the relative wrap: the next fifty segments cross it
        roll = rng.random()
        size = rng.choice((1000, 1448, 65483))
        payload = bytes([rng.randrange(256)]) * min(size, 80)  # cut by SNAP_LENGTH anyway; the length is the IP's
        if roll < 0.01 and sent:  # sent again: a whole earlier segment, or from its middle
            old, length = rng.choice(sent)
            part = rng.choice((0, length // 2))
            frames.append(_with_length(_frame(HERE, HERE, c, old + part, 0x18, payload), length - part))
        elif roll < 0.02:  # two segments out of order
            frames.append(_with_length(_frame(HERE, HERE, c, seq + size, 0x18, payload), size))
            frames.append(_with_length(_frame(HERE, HERE, c, seq, 0x18, payload), size))
            sent += [(seq, size), (seq + size, size)]
            seq += 2 * size
        elif roll < 0.025:
            frames.append(_frame(HERE, HERE, s, 5001, 0x50, b""))  # ACK with ECE: not a plain ACK
        elif roll < 0.2:
            frames.append(_frame(HERE, HERE, s, 5001, 0x10, b"", ack=seq))
        elif roll < 0.25:
            frames.append(_frame(HERE6, HERE6, six, seq6, 0x18, payload, v6=True))
            seq6 += len(payload)
        elif roll < 0.26:
            frames.append(_frame(HERE6, HERE6, six_back, 91, 0x10, b"", ack=seq6, v6=True))
        elif roll < 0.262:
            frames.append(_frame(HERE, HERE, c, seq, 0x18, b"opt", options=b"\x01\x01\x01\x00"))
            seq += 3
        elif roll < 0.264:
            frames.append(_frame(HERE, HERE, (5353, 12354), 0, 0, b"dgram", udp=True))
        else:
            frames.append(_with_length(_frame(HERE, HERE, c, seq, 0x18, payload), size))
            sent.append((seq, size))
            seq += size
    frames.append(_frame(HERE, HERE, c, seq, 0x11, b""))
    return [(START * 10**9 + 600_000 * index, frame) for index, frame in enumerate(frames)]


def _with_length(frame: bytes, payload: int) -> bytes:
    """`frame` (IPv4, no options) saying in its IP header that it carries `payload` bytes, as a cut frame does."""
    total = 20 + 20 + payload
    return frame[:16] + struct.pack("!H", total) + frame[18:]


def _blocks_of(frames: list[tuple[int, bytes]], rng: random.Random) -> list[bytes]:
    blocks, at = [], 0
    while at < len(frames):
        size = rng.randrange(1, 900)
        blocks.append(_block(frames[at : at + size]))
        at += size
    return blocks


@pytest.mark.parametrize("seed", range(6))
def test_a_run_summed_where_it_lies_tells_what_each_frame_tells(seed, monkeypatch):
    """Made-up blocks with everything that ends a summed run, calls among them (at a frame's very stamp, the next
    float after it, a microsecond before another frame), and, for odd seeds, the reader picking the ports (as it
    does past the filter's) from the middle on, which leaves out the IPv6 connection it has numbered."""
    rng = random.Random(seed)
    frames = _stream(seed)
    blocks = _blocks_of(frames, rng)
    stamps = [stamp for stamp, _ in frames]
    picked = [stamps[rng.randrange(len(stamps))] for _ in range(5)]
    walls = sorted([*(at / 1e9 for at in picked), math.nextafter(picked[0] / 1e9, math.inf), (picked[1] - 1000) / 1e9])
    calls = [(wall, CallLine(wall, "client", f"c.call{index}()")) for index, wall in enumerate(walls)]
    picking: Picking = [None] * len(blocks)
    if seed % 2:
        picking[len(blocks) // 2 :] = [frozenset({12354, 5353})] * (len(blocks) - len(blocks) // 2)
    expected_lines, expected_numbers, expected_kept = _told_frame_by_frame(blocks, calls, picking)
    lines, numbers, kept, summed_in_place = _told_by_the_reader(blocks, calls, picking, monkeypatch)
    assert lines == expected_lines
    assert numbers == expected_numbers
    assert kept == expected_kept
    assert summed_in_place > len(frames) // 2  # the pass under test took most frames
    assert sum(isinstance(line, Summary) for line in lines) >= 3  # a second's summary, the calls', the end's


@root_only
def test_a_real_transfer_summed_where_it_lies_tells_what_each_frame_tells(loopback, monkeypatch):
    """The blocks the kernel filled with a 32 MiB send and its ACKs on loopback, read both ways; the sums are the
    bytes the sender sent."""
    size = 32 * 2**20
    raw = open_capture(program_for(frozenset({loopback.endpoint.port}))[0])
    assert not isinstance(raw, str), raw
    ring = Ring(raw, BLOCK_SIZE, BLOCKS)
    try:
        loopback.connected()
        sender = loopback.start("client-send", bulk=size)
        loopback.run("server-recv-all", expect=size)
        sender.join()
        loopback.run("client-close")
        loopback.run("server-close-conn")
        blocks: list[bytes] = []

        def every_frame_read() -> bool:  # the last ACK, after both FINs, is in a block handed over
            while (block := ring.take()) is not None:
                blocks.append(block)
            fins = [parsed for block in blocks for _, _, data in frames_in(block) if (parsed := parse_frame(data))]
            return sum(1 for parsed in fins if parsed[4] & 0x01) == 2 and fins[-1][4] == 0x10

        wait_for(every_frame_read, what="the blocks of the transfer and the closes")
        assert ring.statistics()[1] == 0, "the kernel dropped frames"
    finally:
        ring.close()
    expected_lines, expected_numbers, expected_kept = _told_frame_by_frame(blocks, [], [None] * len(blocks))
    lines, numbers, kept, summed_in_place = _told_by_the_reader(blocks, [], [None] * len(blocks), monkeypatch)
    assert lines == expected_lines
    assert numbers == expected_numbers
    assert kept == expected_kept
    assert summed_in_place > len(kept) // 2
    port = loopback.endpoint.port
    new = sum(t.new_bytes for line in lines if isinstance(line, Summary) for (_, dst), t in line.directions.items()
              if dst[1] == port)  # fmt: skip
    new += sum(line.fresh for line in lines if not isinstance(line, Summary | CallLine) and line.dst[1] == port)
    assert new == size
