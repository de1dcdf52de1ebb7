"""The capture socket and its ring: a raw AF_PACKET socket on lo whose frames land in a TPACKET_V3 ring.

The app opens the socket (so a missing privilege is said at once, and the
filter can be swapped from the thread about to make a call); the reader
process maps the ring from the same socket and reads it a block at a time.
The kernel hands a block over when it is full or `RETIRE_MS` after its first
frame, and PACKET_STATISTICS counts the frames it had no room for.

A raw AF_PACKET socket on `lo` needs root or CAP_NET_RAW. Loopback shows each
frame twice (going out and coming in); PACKET_IGNORE_OUTGOING drops the first.
"""

from __future__ import annotations

import mmap
import socket
import struct
from collections.abc import Iterator

from sockviz.core.kernel.capture.filter import Instruction, attach_filter

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_RX_RING = 5
PACKET_STATISTICS = 6
PACKET_VERSION = 10
PACKET_IGNORE_OUTGOING = 23
TPACKET_V3 = 2
TP_STATUS_USER = 1

BLOCK_SIZE = 1 << 18
BLOCKS = 64
"""16 MiB of ring in 64 blocks. A block is handed over when full or RETIRE_MS after its first frame, so the
ring holds the frames of 64 such moments: over a second of traffic, or about 60,000 cut frames of a transfer
(a dozen 256 MiB sends), before the kernel has to drop any. Small blocks: a busy 20 ms fills one."""
_FRAME_SIZE = 1 << 11
RETIRE_MS = 20
"""A block that is not full is handed over after this long, so a lone SYN shows at once."""

NOT_PERMITTED = (
    "The wire view reads packets on lo, which needs root or CAP_NET_RAW: run sockviz with sudo, "
    "or give Python the capability (sudo setcap cap_net_raw+ep $(readlink -f $(which python3)))."
)

_BLOCK_HEADER = struct.Struct("<III")  # version, offset_to_priv, then tpacket_hdr_v1: block_status ...
_BLOCK_COUNTS = struct.Struct("<II")  # num_pkts, offset_to_first_pkt (at 12)
_BLOCK_STATE = struct.Struct("<IIII")  # block_status, num_pkts, offset_to_first_pkt, blk_len (at 8)
FRAME_HEADER = struct.Struct("<IIIIIIHH")
"""tpacket3_hdr: next_offset, sec, nsec, snaplen, len, status, mac, net (offsets from the frame's header)."""
FRAME_STAMP = struct.Struct("<II")
"""tpacket3_hdr's sec and nsec (at 4): a frame's kernel timestamp."""


def frames_in(block: bytes, skipped: frozenset[int] = frozenset()) -> Iterator[tuple[float, int, bytes]]:
    """(kernel timestamp, real length, cut frame) of each frame of a block `Ring.take` gave, but the `skipped`
    (their positions in the block)."""
    count, at = _BLOCK_COUNTS.unpack_from(block, 12)
    for index in range(count):
        next_offset, sec, nsec, snaplen, length, _, mac, _ = FRAME_HEADER.unpack_from(block, at)
        if index not in skipped:
            yield sec + nsec / 1e9, length, block[at + mac : at + mac + snaplen]
        at += next_offset


def block_frames(block: bytes) -> tuple[int, int]:
    """(frames in the block, where the first one starts)."""
    return _BLOCK_COUNTS.unpack_from(block, 12)


def open_capture(program: list[Instruction], block_size: int = BLOCK_SIZE, blocks: int = BLOCKS) -> socket.socket | str:
    """The capture socket on lo with its ring set up and the filter attached, or the sentence that says why not."""
    try:
        raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)  # protocol 0: nothing arrives before bind
    except PermissionError:
        return NOT_PERMITTED
    try:
        attach_filter(raw, program)  # before bind: no frame of another port gets in
        raw.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
        raw.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V3)
        frames = block_size * blocks // _FRAME_SIZE
        request = struct.pack("IIIIIII", block_size, blocks, _FRAME_SIZE, frames, RETIRE_MS, 0, 0)
        raw.setsockopt(SOL_PACKET, PACKET_RX_RING, request)
        raw.bind(("lo", ETH_P_ALL))
    except OSError as error:
        raw.close()
        return f"The capture on lo could not start: {error}"
    return raw


class Ring:
    """The reader's side: the ring mapped from the capture socket, read a block at a time."""

    def __init__(self, raw: socket.socket, block_size: int, blocks: int) -> None:
        self.raw = raw
        self.block_size = block_size
        self.blocks = blocks
        self._map = mmap.mmap(raw.fileno(), block_size * blocks, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        self._block = 0
        """The next block to read: the kernel fills them in turn."""
        self.frames_taken = 0
        """Frames in the blocks taken so far."""

    def waiting(self) -> tuple[int, int, int]:
        """(blocks handed over and not read yet, frames in them and in the block the kernel is filling, frames in
        that one): how far behind; with `frames_taken`, looked at again later, how busy lo is; and whether frames
        still come (the kernel hands a block over RETIRE_MS or so after its first frame, so a block being filled
        that has none means none came since)."""
        ring, ready, frames, filling = self._map, 0, 0, 0
        while ready < self.blocks:
            offset = ((self._block + ready) % self.blocks) * self.block_size
            status, count, _, _ = _BLOCK_STATE.unpack_from(ring, offset + 8)
            frames += count
            if not status & TP_STATUS_USER:
                filling = count
                break
            ready += 1
        return ready, frames, filling

    def take(self) -> bytes | None:
        """The next block the kernel handed over, copied whole (its used part), or None; the block goes back to
        the kernel at once, so it can fill it again while the copy is read (one copy a block, not one a frame)."""
        ring, offset = self._map, self._block * self.block_size
        status, count, _, used = _BLOCK_STATE.unpack_from(ring, offset + 8)
        if not status & TP_STATUS_USER:
            return None
        block = ring[offset : offset + used]
        self.frames_taken += count
        struct.pack_into("<I", ring, offset + 8, 0)  # TP_STATUS_KERNEL: the kernel may fill it again
        self._block = (self._block + 1) % self.blocks
        return block

    def statistics(self) -> tuple[int, int]:
        """PACKET_STATISTICS: (frames the filter passed, frames dropped) since the last reading, which resets them."""
        try:
            packets, drops, _ = struct.unpack("III", self.raw.getsockopt(SOL_PACKET, PACKET_STATISTICS, 12))
        except OSError:
            return 0, 0
        return packets, drops

    def close(self) -> None:
        self._map.close()
        self.raw.close()
