"""The packets behind each call: TCP segments on loopback, for the session's ports.

The kernel does the heavy part, as tcpdump has it do: a classic BPF filter on
the capture socket (SO_ATTACH_FILTER) keeps only TCP segments to or from the
session's ports and cuts each frame after its headers and a preview of its
payload, so a 64 KiB segment costs a couple of hundred bytes, not 64 KiB. The
frames land in a memory-mapped TPACKET_V3 ring that the capture thread reads a
block at a time, and PACKET_STATISTICS counts the frames the ring had no room
for, so a drop is said, never hidden. All of it is the standard library
(socket, struct, mmap, select): nothing to install, nothing imported before the
wire view opens.

A raw AF_PACKET socket on `lo` needs root or CAP_NET_RAW. Loopback shows each
frame twice (going out and coming in); PACKET_IGNORE_OUTGOING drops the first.
"""

from __future__ import annotations

import contextlib
import mmap
import select
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple

from sockviz.core.kernel.numbering import Numbering

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_RX_RING = 5
PACKET_STATISTICS = 6
PACKET_VERSION = 10
PACKET_IGNORE_OUTGOING = 23
TPACKET_V3 = 2
TP_STATUS_USER = 1
SO_ATTACH_FILTER = 26

_ETHER_HEADER = 14
PREVIEW_BYTES = 48
"""Payload bytes kept per segment: what the view previews and the export keeps."""
SNAP_LENGTH = _ETHER_HEADER + 60 + 60 + PREVIEW_BYTES
"""Largest IPv4 header (60; IPv6's is 40) and TCP header (60), then the preview: the rest stays in the kernel."""
MAX_FILTER_PORTS = 400
"""Past this many ports the kernel keeps every TCP frame on lo (still cut short) and the thread picks."""
_BLOCK_SIZE = 1 << 20
_BLOCKS = 8
_FRAME_SIZE = 1 << 11
_RETIRE_MS = 20
"""A block that is not full is handed over after this long, so a lone SYN shows at once."""
_STORE_LIMIT = 32 * 1024 * 1024
"""Bytes of cut frames kept for the export: about 170,000 segments."""
_BATCH_SECONDS = 0.05

NOT_PERMITTED = (
    "The wire view reads packets on lo, which needs root or CAP_NET_RAW: run sockviz with sudo, "
    "or give Python the capability (sudo setcap cap_net_raw+ep $(readlink -f $(which python3)))."
)

_FLAG_NAMES = ((0x02, "SYN"), (0x01, "FIN"), (0x04, "RST"), (0x08, "PSH"), (0x10, "ACK"))
_BLOCK_HEADER = struct.Struct("<III")  # version, offset_to_priv, then tpacket_hdr_v1: block_status ...
_BLOCK_COUNTS = struct.Struct("<II")  # num_pkts, offset_to_first_pkt (at 12)
_PACKET_HEADER = struct.Struct("<IIIIIIH")  # next_offset, sec, nsec, snaplen, len, status, mac


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


@dataclass(frozen=True)
class Delivery:
    """What the capture thread hands over every 50 ms or so."""

    segments: list[Segment]
    dropped: int = 0
    """Frames the kernel dropped since the last delivery (the ring was full): they are in no view or file."""


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


def parse_frame(frame: bytes) -> Parsed | None:
    """(src, dst, seq, ack, flags, payload length, preview) of a TCP frame with an Ethernet header.

    The frame may be cut short: the payload length comes from the IP header, so it is the
    segment's real length; the preview is whatever payload the frame still holds. None for
    anything that is not TCP over IPv4 or IPv6.
    """
    if len(frame) < _ETHER_HEADER + 20:
        return None
    ethertype = struct.unpack_from("!H", frame, 12)[0]
    offset = _ETHER_HEADER
    if ethertype == 0x0800:
        ihl = (frame[offset] & 0x0F) * 4
        if frame[offset + 9] != socket.IPPROTO_TCP:
            return None
        ip_length = struct.unpack_from("!H", frame, offset + 2)[0] - ihl
        src_ip = socket.inet_ntop(socket.AF_INET, frame[offset + 12 : offset + 16])
        dst_ip = socket.inet_ntop(socket.AF_INET, frame[offset + 16 : offset + 20])
        offset += ihl
    elif ethertype == 0x86DD:
        if len(frame) < offset + 40 or frame[offset + 6] != socket.IPPROTO_TCP:
            return None  # extension headers do not occur on loopback TCP
        ip_length = struct.unpack_from("!H", frame, offset + 4)[0]
        src_ip = socket.inet_ntop(socket.AF_INET6, frame[offset + 8 : offset + 24])
        dst_ip = socket.inet_ntop(socket.AF_INET6, frame[offset + 24 : offset + 40])
        offset += 40
    else:
        return None
    if len(frame) < offset + 14:
        return None
    sport, dport, seq, ack, data_offset, bits = struct.unpack_from("!HHIIBB", frame, offset)
    header = (data_offset >> 4) * 4
    length = max(ip_length - header, 0)
    start = offset + header
    preview = frame[start : start + min(length, PREVIEW_BYTES)]
    return (src_ip, sport), (dst_ip, dport), seq, ack, bits, length, preview


# ----- the kernel filter ---------------------------------------------------------------------------------

_LD_H_ABS, _LD_B_ABS, _LDX_B_MSH, _LD_H_IND = 0x28, 0x30, 0xB1, 0x48
_JEQ_K, _JSET_K, _JA, _RET_K = 0x15, 0x45, 0x05, 0x06


def bpf_program(ports: Iterable[int] | None, snap: int = SNAP_LENGTH) -> list[tuple[int, int, int, int]]:
    """Classic BPF for `tcp and (port P or port Q ...)` on an Ethernet frame, keeping `snap` bytes.

    None for ports keeps every TCP frame. Each port test is a `jeq` and a long jump to the accepting
    return (a conditional jump reaches only 255 instructions), so the program has 4 instructions
    per port, well under the kernel's 4,096 for MAX_FILTER_PORTS.
    """
    wanted = sorted(set(ports)) if ports is not None else None
    code: list[tuple[int, int, int, int]] = []
    accept: list[int] = []  # indexes of jumps to patch to the accepting return
    drop: list[int] = []

    def emit(op: int, jt: int = 0, jf: int = 0, k: int = 0) -> int:
        code.append((op, jt, jf, k))
        return len(code) - 1

    def port_tests(load: int, load_at: int) -> None:
        emit(load, k=load_at)
        if wanted is None:
            accept.append(emit(_JA))
            return
        for port in wanted:
            emit(_JEQ_K, 0, 1, port)
            accept.append(emit(_JA))

    emit(_LD_H_ABS, k=12)  # the ethertype
    ipv4 = emit(_JEQ_K, k=0x0800)
    ipv6 = emit(_JEQ_K, k=0x86DD)
    drop.append(emit(_JA))
    code[ipv4] = (_JEQ_K, len(code) - ipv4 - 1, 0, 0x0800)
    emit(_LD_B_ABS, k=_ETHER_HEADER + 9)  # IPv4: protocol
    tcp4 = emit(_JEQ_K, k=socket.IPPROTO_TCP)
    drop.append(emit(_JA))
    code[tcp4] = (_JEQ_K, 1, 0, socket.IPPROTO_TCP)
    emit(_LD_H_ABS, k=_ETHER_HEADER + 6)  # a later fragment has no TCP header
    emit(_JSET_K, 0, 1, 0x1FFF)
    drop.append(emit(_JA))
    emit(_LDX_B_MSH, k=_ETHER_HEADER)  # X = the IPv4 header's length
    port_tests(_LD_H_IND, _ETHER_HEADER)
    port_tests(_LD_H_IND, _ETHER_HEADER + 2)
    drop.append(emit(_JA))
    code[ipv6] = (_JEQ_K, len(code) - ipv6 - 1, 0, 0x86DD)
    emit(_LD_B_ABS, k=_ETHER_HEADER + 6)  # IPv6: next header
    emit(_JEQ_K, 1, 0, socket.IPPROTO_TCP)
    drop.append(emit(_JA))
    port_tests(_LD_H_ABS, _ETHER_HEADER + 40)
    port_tests(_LD_H_ABS, _ETHER_HEADER + 42)
    drop.append(emit(_JA))
    dropping = emit(_RET_K, k=0)
    accepting = emit(_RET_K, k=snap)
    for index in accept:
        code[index] = (_JA, 0, 0, accepting - index - 1)
    for index in drop:
        code[index] = (_JA, 0, 0, dropping - index - 1)
    return code


def attach_filter(raw: socket.socket, program: list[tuple[int, int, int, int]]) -> None:
    """SO_ATTACH_FILTER: the kernel swaps the old program for the new one at once."""
    import ctypes  # only the capture needs it

    instructions = b"".join(struct.pack("HBBI", *instruction) for instruction in program)
    buffer = ctypes.create_string_buffer(instructions)
    fprog = struct.pack("HL", len(program), ctypes.addressof(buffer))  # struct sock_fprog
    raw.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)


# ----- the capture ---------------------------------------------------------------------------------------


class WireCapture:
    """Captures the session's TCP segments on lo in a thread of its own."""

    def __init__(
        self,
        ports: Callable[[], Iterable[int]],
        deliver: Callable[[Delivery], object],
        clock: Callable[[], float],
        *,
        block_size: int = _BLOCK_SIZE,
        blocks: int = _BLOCKS,
    ) -> None:
        self._ports = ports
        self._block_size = block_size
        self._blocks = blocks
        """The ring: `blocks` blocks of `block_size` bytes (a multiple of the page size), about 240 bytes a frame."""
        self._deliver = deliver
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._raw: socket.socket | None = None
        self._filter_lock = threading.Lock()
        self._filtered: frozenset[int] | None = None
        self._wanted: frozenset[int] | None = None
        """The ports the filter was last given; None before the first filter."""
        self._frames: list[Frame] = []
        self._pending_calls: list[tuple[float, str]] = []
        self._calls_lock = threading.Lock()
        self._stored = 0
        self.left_out = 0
        """Frames seen but not kept for export (past the store limit)."""
        self.packets = 0
        """Frames the kernel filter passed (PACKET_STATISTICS), dropped ones included."""
        self.dropped = 0
        """Frames the kernel dropped because the ring was full, since the capture began."""
        self.every_tcp_frame = False
        """True once the session has too many ports for the kernel filter: then it keeps all TCP on lo."""

    def start(self) -> str | None:
        """Start capturing; None when it runs, or the sentence that says why it cannot."""
        try:
            raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)  # protocol 0: nothing arrives before bind
        except PermissionError:
            return NOT_PERMITTED
        try:
            self._raw = raw
            self.refresh_ports()
            raw.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
            raw.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V3)
            size, count = self._block_size, self._blocks
            request = struct.pack("IIIIIII", size, count, _FRAME_SIZE, size * count // _FRAME_SIZE, _RETIRE_MS, 0, 0)
            raw.setsockopt(SOL_PACKET, PACKET_RX_RING, request)
            ring = mmap.mmap(raw.fileno(), size * count, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
            raw.bind(("lo", ETH_P_ALL))
        except OSError as error:
            self._raw = None
            raw.close()
            return f"The capture on lo could not start: {error}"
        self._thread = threading.Thread(target=self._run, args=(raw, ring), name="sockviz-wire", daemon=True)
        self._thread.start()
        return None

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    # ----- what to keep -----

    def refresh_ports(self) -> None:
        """Give the kernel filter the session's ports as they are now; cheap when they have not changed.

        Called in the thread that is about to connect (a session listener), so the new port is in the
        filter before the SYN leaves.
        """
        raw = self._raw
        if raw is None:
            return
        ports = frozenset(self._ports())  # before the filter's lock: a session listener holds the session's
        with self._filter_lock:
            if ports == self._wanted:
                return
            self._wanted = ports
            if self.every_tcp_frame:
                return
            if len(ports) > MAX_FILTER_PORTS:
                self.every_tcp_frame = True
                program = bpf_program(None)
            else:
                program = bpf_program(ports)
            with contextlib.suppress(OSError):  # the capture closed meanwhile
                attach_filter(raw, program)
                self._filtered = ports

    def note_call(self, text: str) -> None:
        """Remember a call at this moment: the export writes it as a comment on the next frame."""
        with self._calls_lock:
            self._pending_calls.append((time.time(), text))

    # ----- the thread -----

    def _run(self, raw: socket.socket, ring: mmap.mmap) -> None:
        numbering = Numbering()
        batch: list[Segment] = []
        sent_at = time.monotonic()
        poller = select.poll()
        poller.register(raw.fileno(), select.POLLIN | select.POLLERR)
        block = 0
        try:
            while not self._stop.is_set():
                offset = block * self._block_size
                status = _BLOCK_HEADER.unpack_from(ring, offset)[2]
                if status & TP_STATUS_USER:
                    self._read_block(ring, offset, numbering, batch)
                    struct.pack_into("<I", ring, offset + 8, 0)  # TP_STATUS_KERNEL: the kernel may fill it again
                    block = (block + 1) % self._blocks
                else:
                    poller.poll(100)  # wakes when a block is handed over; 0.1 s so a stop is seen
                if time.monotonic() - sent_at >= _BATCH_SECONDS:
                    self.refresh_ports()  # ports learnt when a call returned (an ephemeral listener's, say)
                    dropped = self._read_drops(raw)
                    if batch or dropped:
                        self._deliver(Delivery(batch, dropped))
                        batch = []
                    sent_at = time.monotonic()
            # The block being filled is handed over within _RETIRE_MS: read it, so a stop loses nothing caught.
            deadline = time.monotonic() + 3 * _RETIRE_MS / 1000
            while time.monotonic() < deadline:
                offset = block * self._block_size
                if _BLOCK_HEADER.unpack_from(ring, offset)[2] & TP_STATUS_USER:
                    self._read_block(ring, offset, numbering, batch)
                    struct.pack_into("<I", ring, offset + 8, 0)
                    block = (block + 1) % self._blocks
                else:
                    poller.poll(_RETIRE_MS)
            dropped = self._read_drops(raw)
            if batch or dropped:
                self._deliver(Delivery(batch, dropped))
        finally:
            self._raw = None
            with self._filter_lock:  # refresh_ports() may be attaching a filter in another thread
                ring.close()
                raw.close()

    def _read_drops(self, raw: socket.socket) -> int:
        """PACKET_STATISTICS: (packets, drops, freezes) since the last reading, which resets them."""
        try:
            packets, drops, _ = struct.unpack("III", raw.getsockopt(SOL_PACKET, PACKET_STATISTICS, 12))
        except OSError:
            return 0
        self.packets += packets
        self.dropped += drops
        return drops

    def _read_block(self, ring: mmap.mmap, offset: int, numbering: Numbering, batch: list[Segment]) -> None:
        count, first = _BLOCK_COUNTS.unpack_from(ring, offset + 12)
        at = offset + first
        wall_to_session = time.time() - self._clock()
        uses = self._wanted or frozenset()
        for _ in range(count):
            next_offset, sec, nsec, snaplen, length, _, mac = _PACKET_HEADER.unpack_from(ring, at)
            data = ring[at + mac : at + mac + snaplen]
            at += next_offset
            parsed = parse_frame(data)
            if parsed is None:
                continue
            src, dst, seq, ack, bits, payload_length, preview = parsed
            if src[1] not in uses and dst[1] not in uses:
                continue
            stamp = sec + nsec / 1e9
            self._keep(stamp, length, data)
            rel_seq, rel_ack, fresh = numbering.relative(src, dst, seq, ack, bits, payload_length)
            batch.append(
                Segment(
                    stamp - wall_to_session,
                    src,
                    dst,
                    flag_names(bits),
                    rel_seq,
                    rel_ack,
                    payload_length,
                    preview,
                    fresh,
                )
            )

    def _keep(self, stamp: float, length: int, data: bytes) -> None:
        calls: tuple[str, ...] = ()
        if self._pending_calls:
            with self._calls_lock:
                calls = tuple(text for at, text in self._pending_calls if at <= stamp)
                self._pending_calls = [(at, text) for at, text in self._pending_calls if at > stamp]
        frame = Frame(stamp, length, data, calls)
        if self._stored + len(data) <= _STORE_LIMIT:
            self._frames.append(frame)
            self._stored += len(data)
        else:
            self.left_out += 1

    # ----- export -----

    @property
    def frames(self) -> list[Frame]:
        """The kept frames, oldest first."""
        return list(self._frames)

    @property
    def calls_after_the_last_frame(self) -> list[str]:
        with self._calls_lock:
            return [text for _, text in self._pending_calls]
