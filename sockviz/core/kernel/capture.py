"""The packets behind each call: TCP segments on loopback, for the session's ports.

A raw AF_PACKET socket bound to `lo` sees every frame (it needs root or
CAP_NET_RAW). Loopback shows each frame twice, once going out and once coming
in; PACKET_IGNORE_OUTGOING drops the first copy. Headers are parsed with
struct: IPv4 or IPv6, then TCP. The capture runs in its own thread, waits
with a timeout so it can stop, and hands segments over in batches.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_IGNORE_OUTGOING = 23
_ETHER_HEADER = 14
_STORE_LIMIT = 32 * 1024 * 1024
"""Frames kept for the pcap export; a 256 MiB send would not fit, so the export says what it left out."""
_BATCH_SECONDS = 0.05

NOT_PERMITTED = (
    "The wire view reads packets on lo, which needs root or CAP_NET_RAW: run sockviz with sudo, "
    "or give Python the capability (sudo setcap cap_net_raw+ep $(readlink -f $(which python3)))."
)

_FLAG_NAMES = ((0x02, "SYN"), (0x01, "FIN"), (0x04, "RST"), (0x08, "PSH"), (0x10, "ACK"))


@dataclass(frozen=True)
class Segment:
    """One TCP segment as it crossed loopback."""

    at: float
    """Seconds since the session began, on the session's clock."""
    src: tuple[str, int]
    dst: tuple[str, int]
    flags: str
    """`SYN`, `SYN-ACK`, `ACK`, `PSH-ACK`, `FIN-ACK`, `RST`..."""
    seq: int
    """Relative to the first sequence number seen in this direction (the SYN's, usually)."""
    ack: int
    """Relative to the other direction's first sequence number; 0 before it is known."""
    length: int
    """Payload bytes."""
    preview: bytes
    """The first bytes of the payload."""

    @property
    def is_data_or_ack(self) -> bool:
        """The segments a bulk transfer is made of, which a view may sum up."""
        return self.flags in ("ACK", "PSH-ACK")


def flag_names(bits: int) -> str:
    names = [name for bit, name in _FLAG_NAMES if bits & bit]
    return "-".join(names) if names else "none"


def parse_frame(frame: bytes) -> tuple[tuple[str, int], tuple[str, int], int, int, int, bytes] | None:
    """(src, dst, seq, ack, flags, payload) of a TCP frame with an Ethernet header; None for anything else."""
    if len(frame) < _ETHER_HEADER + 20:
        return None
    ethertype = struct.unpack_from("!H", frame, 12)[0]
    offset = _ETHER_HEADER
    if ethertype == 0x0800:
        ihl = (frame[offset] & 0x0F) * 4
        if frame[offset + 9] != socket.IPPROTO_TCP:
            return None
        total = struct.unpack_from("!H", frame, offset + 2)[0]
        src_ip = socket.inet_ntop(socket.AF_INET, frame[offset + 12 : offset + 16])
        dst_ip = socket.inet_ntop(socket.AF_INET, frame[offset + 16 : offset + 20])
        end = offset + total
        offset += ihl
    elif ethertype == 0x86DD:
        if frame[offset + 6] != socket.IPPROTO_TCP:
            return None  # extension headers do not occur on loopback TCP
        payload_length = struct.unpack_from("!H", frame, offset + 4)[0]
        src_ip = socket.inet_ntop(socket.AF_INET6, frame[offset + 8 : offset + 24])
        dst_ip = socket.inet_ntop(socket.AF_INET6, frame[offset + 24 : offset + 40])
        offset += 40
        end = offset + payload_length
    else:
        return None
    sport, dport, seq, ack, data_offset, bits = struct.unpack_from("!HHIIBB", frame, offset)
    payload = frame[offset + (data_offset >> 4) * 4 : end]
    return (src_ip, sport), (dst_ip, dport), seq, ack, bits, payload


class _Numbering:
    """Relative sequence numbers, per direction of each connection, as Wireshark shows them."""

    def __init__(self) -> None:
        self._first: dict[tuple[tuple[str, int], tuple[str, int]], int] = {}

    def relative(self, src: tuple[str, int], dst: tuple[str, int], seq: int, ack: int, bits: int) -> tuple[int, int]:
        key = (src, dst)
        if bits & 0x02 or key not in self._first:  # a SYN starts the numbering again
            self._first[key] = seq
        rel_seq = (seq - self._first[key]) % 2**32
        back = self._first.get((dst, src))
        rel_ack = (ack - back) % 2**32 if back is not None and bits & 0x10 else 0
        return rel_seq, rel_ack


class WireCapture:
    """Captures the session's TCP segments on lo in a thread of its own."""

    def __init__(
        self,
        uses_port: Callable[[int], bool],
        deliver: Callable[[list[Segment]], object],
        clock: Callable[[], float],
    ) -> None:
        self._uses_port = uses_port
        self._deliver = deliver
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._frames: list[tuple[float, bytes]] = []
        self._stored = 0
        self.left_out = 0
        """Frames seen but not kept for export (past the store limit)."""

    def start(self) -> str | None:
        """Start capturing; None when it runs, or the sentence that says why it cannot."""
        try:
            raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        except PermissionError:
            return NOT_PERMITTED
        try:
            raw.bind(("lo", 0))
            raw.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 * 1024 * 1024)
            raw.settimeout(0.1)  # so the thread sees a stop within 0.1 s
        except OSError as error:
            raw.close()
            return f"The capture on lo could not start: {error}"
        self._thread = threading.Thread(target=self._run, args=(raw,), name="sockviz-wire", daemon=True)
        self._thread.start()
        return None

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self, raw: socket.socket) -> None:
        numbering = _Numbering()
        batch: list[Segment] = []
        sent_at = time.monotonic()
        with raw:
            while not self._stop.is_set():
                with contextlib.suppress(TimeoutError):
                    frame = raw.recv(262144)
                    segment = self._segment(frame, numbering)
                    if segment is not None:
                        batch.append(segment)
                if batch and (time.monotonic() - sent_at >= _BATCH_SECONDS or self._stop.is_set()):
                    self._deliver(batch)
                    batch, sent_at = [], time.monotonic()
            if batch:
                self._deliver(batch)

    def _segment(self, frame: bytes, numbering: _Numbering) -> Segment | None:
        parsed = parse_frame(frame)
        if parsed is None:
            return None
        src, dst, seq, ack, bits, payload = parsed
        if not (self._uses_port(src[1]) or self._uses_port(dst[1])):
            return None
        now = time.time()
        if self._stored + len(frame) <= _STORE_LIMIT:
            self._frames.append((now, frame))
            self._stored += len(frame)
        else:
            self.left_out += 1
        rel_seq, rel_ack = numbering.relative(src, dst, seq, ack, bits)
        return Segment(self._clock(), src, dst, flag_names(bits), rel_seq, rel_ack, len(payload), payload[:48])

    def export_pcap(self, path: Path) -> int:
        """Write the kept frames as a pcap file that Wireshark and tcpdump open; returns how many."""
        frames = list(self._frames)
        with path.open("wb") as out:
            out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))  # LINKTYPE_ETHERNET
            for stamp, frame in frames:
                seconds = int(stamp)
                out.write(struct.pack("<IIII", seconds, int((stamp - seconds) * 1e6), len(frame), len(frame)))
                out.write(frame)
        return len(frames)
