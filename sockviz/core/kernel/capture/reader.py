"""The reader process: reads the ring, parses and numbers each frame, keeps it, and sends the app its lines.

It runs apart from the app (started by `process`, importing no more than it
needs), so the few microseconds of Python each frame costs are spent outside
the app's GIL, which the app's sending and receiving threads need between their
calls. While a transfer keeps lo busy it leaves the frames in the ring for a
moment (DEFER_SECONDS), so that a short burst has the CPU to itself and the
reader catches up after it; frames the ring has no room for are counted by the
kernel and said. It runs at the app's priority: at nice 10 a busy machine (a
load of 80 here) starved it and the ring overflowed.

It ends when the app asks, when the app's end of the control pipe closes (the
app is gone, however it went), and, as a last resort, when the thread that
started it dies (PR_SET_PDEATHSIG): it never outlives the app.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import signal
import socket
import time
from pathlib import Path

from sockviz.core.kernel.capture.channel import Decoder, encode
from sockviz.core.kernel.capture.frames import (
    ETHER_HEADER,
    PREVIEW_BYTES,
    TCP4_HEADERS,
    TCP6_HEADERS,
    ends_of,
    flag_names,
    parse_frame,
)
from sockviz.core.kernel.capture.numbering import Address, Numbering, Pair, numbered
from sockviz.core.kernel.capture.ring import FRAME_HEADER, FRAME_STAMP, RETIRE_MS, Ring, block_frames
from sockviz.core.kernel.capture.runs import SUMMARY_SECONDS, CallLine, Runs
from sockviz.core.kernel.capture.store import NEVER, Store
from sockviz.core.kernel.capture.summing import sum_frames

BATCH_SECONDS = 0.05
"""Lines go to the app this often at most."""
CALL_DELAY = 3 * RETIRE_MS / 1000
"""A call's line waits this long for frames from before it, which the kernel may still be holding in a block."""
BUSY_RATE = 6000
"""Frames a second (400 MB/s of 64 KiB segments) that mean a transfer is under way: a lesson's calls send a few
segments each. Told from the frames the kernel has put in the ring since the reader last looked."""
DEFER_SECONDS = 1.0
"""How long the reader leaves a busy transfer's frames in the ring (and sends the app nothing), so as not to take
CPU from it: a 256 MiB send takes 0.1 s on a quiet machine here and 0.3 s at a load of 8, and at 0.25 s the
reader read the ring, and the app drew its lines, in the middle of the loaded one. The ring holds over a second
of frames at any speed (a block is handed over 20 ms after its first frame), and a long transfer's lines come
once a second."""
LONGEST_LOOK = 0.16
"""While a transfer keeps lo busy, the reader looks at the ring after twice as long each time, from RETIRE_MS up
to this (and sooner if the ring would fill half-way meanwhile): each look is a wake-up that takes a core from the
transfer, and at RETIRE_MS a 256 MiB send had seven. Its end is seen at the first look after the kernel hands
over its last block, which it does RETIRE_MS or so after the last frame."""
NOTES_GATHER_MS = 10
"""After the app's notes wake the reader on a quiet lo, the next ones wait this long at most (a block handed over
still wakes it): a session's setup makes six calls within a few milliseconds, each a wake-up of its own before. A
stop or an export waits as long."""
_PR_SET_PDEATHSIG = 1
_KNOWN = 4096
"""Connections whose ends and numbering the reader finds by their bytes: forgotten all at once past this many."""


class Reader:
    """The loop of the reader process."""

    def __init__(self, ring: Ring, control: int, data: int, offset: float) -> None:
        self._ring = ring
        self._control = control
        self._data = data
        self._offset = offset
        """Wall-clock seconds minus the session's: kernel timestamps to the session's clock."""
        self._decoder = Decoder()
        self._numbering = Numbering()
        self._runs = Runs()
        self._store = Store()
        self._known: dict[bytes, tuple[Address, Address, Pair]] = {}
        """A connection's ends and the numbering of its directions, by the bytes of its addresses and ports."""
        self._calls: list[tuple[float, CallLine | None]] = []
        """Calls not told yet, by wall-clock time: each goes in before the first frame stamped after it."""
        self._picking: frozenset[int] | None = None
        """The session's ports, when the kernel filter keeps every TCP frame (too many ports) and this picks."""
        self._packets = 0
        self._dropped = 0
        self._stopping = False

    def run(self) -> None:
        poller = select.poll()
        poller.register(self._ring.raw.fileno(), select.POLLIN | select.POLLERR)
        poller.register(self._control, select.POLLIN)
        self._send(("reading",))
        notes = select.poll()
        notes.register(self._control, select.POLLIN)
        frames_only = select.poll()
        frames_only.register(self._ring.raw.fileno(), select.POLLIN | select.POLLERR)
        sent_at = looked_at = time.monotonic()
        behind_since: float | None = None
        seen = 0
        look = RETIRE_MS / 1000
        ready_before = 0
        while not self._stopping:
            heard = self._read_control()
            ready, waiting, filling = self._ring.waiting()
            now = time.monotonic()
            came, seen = self._ring.frames_taken + waiting - seen, self._ring.frames_taken + waiting
            interval = max(now - looked_at, RETIRE_MS / 1000)
            busy = came >= BUSY_RATE * interval  # frames came at a transfer's rate
            if behind_since is not None and not filling:
                busy = False  # and stopped: none since the kernel handed over the last block (a look is not a wake
                # at a handover, when the kernel has not begun the next block yet: those come only when quiet)
            looked_at = now
            if busy and behind_since is None:
                behind_since = now
            elif not busy:
                behind_since = None  # lo is quiet again: what it sent is read as soon as it is handed over
            if ready and (not busy or 2 * ready >= self._ring.blocks or now - (behind_since or now) >= DEFER_SECONDS):
                self._read_ring()  # lo is quiet again, the ring is half full, or the transfer has had its time
                behind_since = None
            if behind_since is None and now - sent_at >= BATCH_SECONDS:  # not while a transfer's frames wait:
                self._send_lines()  # each delivery costs the app's event loop, which the transfer's threads need
                sent_at = time.monotonic()
            if self._stopping:
                break
            if behind_since is not None:  # a transfer is under way: leave it the CPU, its frames wait in the ring
                look = _next_look(look, ready - ready_before, interval, self._ring.blocks // 2 - ready)
                look = min(look, max(behind_since + DEFER_SECONDS - now, RETIRE_MS / 1000))
                ready_before = ready
                notes.poll(look * 1000)
            else:
                look, ready_before = RETIRE_MS / 1000, 0
                if not ready and heard:  # the calls of a burst come a few ms apart: their notes are read together
                    frames_only.poll(min(self._quiet_wait(now - sent_at), NOTES_GATHER_MS))
                elif not ready:  # wakes when a block is handed over or a note comes
                    poller.poll(self._quiet_wait(now - sent_at))
        # The block being filled is handed over within RETIRE_MS: read it, so a stop loses nothing caught.
        deadline = time.monotonic() + 3 * RETIRE_MS / 1000
        while time.monotonic() < deadline:
            if not self._read_ring():
                poller.poll(RETIRE_MS)
        self._tell_calls(float("inf"))
        self._runs.end()
        self._send_lines()

    def _quiet_wait(self, since_sent: float) -> float:
        """Milliseconds to wait on a quiet lo: until the first call waiting to be told is due (and a delivery may
        go), or 100."""
        if not self._calls:
            return 100
        due = max(self._calls[0][0] + CALL_DELAY - time.time(), BATCH_SECONDS - since_sent)
        return min(max(due * 1000, 1), 100)

    # ----- what the app says -----

    def _read_control(self) -> bool:
        """Obey what the app has said since the last look; whether it said anything."""
        heard = False
        while True:
            try:
                data = os.read(self._control, 1 << 16)
            except BlockingIOError:
                return heard
            if not data:  # the app closed its end, or is gone
                self._stopping = True
                return True
            heard = True
            for message in self._decoder.feed(data):
                self._obey(message)

    def _obey(self, message: object) -> None:
        match message:
            case ("call", float(wall), float(offset), line, str(text)):
                self._offset = offset
                self._store.note(wall, text)
                self._calls.append((wall, line))
                self._calls.sort(key=lambda call: call[0])  # from several threads: nearly in order already
            case ("ports", frozenset() as picking):
                self._picking = picking
            case ("more ports", frozenset() as more):
                self._picking = more if self._picking is None else self._picking | more
            case ("export", str(path), bool(plain), list(header)):
                self._read_ring()  # everything caught so far goes in
                try:
                    answer: object = self._store.write(Path(path), plain=plain, header=header)
                except OSError as error:
                    answer = f"could not save {path}: {error.strerror or error}"
                self._send(("exported", answer, self._dropped, self._store.left_out))
            case ("stop",):
                self._stopping = True

    # ----- the ring -----

    def _read_ring(self) -> bool:
        """Read every block the kernel has handed over; whether there was one."""
        read = False
        while (block := self._ring.take()) is not None:
            read = True
            self._read_block(block)
        return read

    def _read_block(self, block: bytes) -> None:
        """One pass over a block's frames: each is numbered, told (on a line or in a summary) and kept.

        While a run is being summed up, its frames are added to the summary where they lie (`sum_frames`: two
        unpacks and a few additions a frame, the counts in locals), up to the first frame that pass cannot take
        as this one would (a segment out of order or sent again, another flag, a new connection, the time of a
        call): this pass takes that one. Here a TCP segment (IPv4 with no options, or IPv6) is read in place
        with one unpack, its connection is found by the bytes of its addresses and ports, and no frame is
        copied. Anything else (UDP, ICMP, IP options) is cut out and parsed whole (`parse_frame`); what is not
        the session's is not kept.
        """
        runs, store, calls, picking, known = self._runs, self._store, self._calls, self._picking, self._known
        offset = self._offset
        count, at = block_frames(block)
        keeping = store.has_room(block)
        kept = first = store.kept
        skipped: list[int] = []
        note_at = store.next_note_at if keeping else NEVER
        call_at = calls[0][0] if calls else NEVER
        place = 0
        while place < count:
            summary = runs.open_summary
            if summary is not None:  # a run is being summed up: its frames are added where they lie
                horizon = min(call_at, note_at, summary.first_at + SUMMARY_SECONDS + offset)
                start = place
                place, at, last = sum_frames(block, place, count, at, horizon, summary, known.get, picking)
                if last >= 0:
                    kept += place - start
                    sec, nsec = FRAME_STAMP.unpack_from(block, last + 4)
                    runs.summed(sec + nsec / 1e9 - offset)
                if place >= count:
                    break
            next_offset, sec, nsec, snaplen, _, _, mac, net = FRAME_HEADER.unpack_from(block, at)
            here, at = at, at + next_offset
            place += 1
            stamp = sec + nsec / 1e9
            family = block[here + net - 2] if net == mac + ETHER_HEADER else 0  # the ethertype's first byte
            ends, seq, ack, bits, payload, payload_at = None, 0, 0, 0, 0, 0
            if family == 0x08 and snaplen >= 48:  # IPv4
                vihl, total, protocol, key, seq, ack, data_offset, bits = TCP4_HEADERS.unpack_from(block, here + net)
                if vihl == 0x45 and protocol == 6:
                    header = 20 + (data_offset >> 4) * 4
                    payload, payload_at = total - header, here + net + header
                    ends = known.get(key) or self._connection(key)
            elif family == 0x86 and snaplen >= 68:  # IPv6
                total, protocol, key, seq, ack, data_offset, bits = TCP6_HEADERS.unpack_from(block, here + net)
                if protocol == 6:
                    header = (data_offset >> 4) * 4
                    payload, payload_at = total - header, here + net + 40 + header
                    ends = known.get(key) or self._connection(key)
            if ends is not None:
                src, dst, pair = ends
                preview = None
            else:
                parsed = parse_frame(block[here + mac : here + mac + snaplen])
                if parsed is None:
                    skipped.append(place - 1)
                    continue
                src, dst, seq, ack, bits, payload, preview = parsed
                pair = self._numbering.pair(src, dst) if bits <= 0xFF else None  # UDP, ICMP: no numbers
            if picking is not None and src[1] not in picking and dst[1] not in picking:
                skipped.append(place - 1)
                continue
            if stamp >= call_at:
                self._tell_calls(stamp)
                offset, call_at = self._offset, calls[0][0] if calls else NEVER
            if stamp >= note_at:
                note_at = store.join(kept, stamp)
            kept += 1
            if payload < 0:
                payload = 0
            rel_seq, rel_ack, fresh = (0, 0, payload) if pair is None else numbered(pair, seq, ack, bits, payload)
            plain = bits & 0x1F
            if (plain == 0x10 or plain == 0x18) and runs.summing:  # ACK, PSH-ACK: see Segment.is_data_or_ack
                runs.sum_up(stamp - offset, src, dst, payload, fresh)
                continue
            if preview is None:
                end = min(payload_at + min(payload, PREVIEW_BYTES), here + mac + snaplen)
                preview = block[payload_at:end]
            runs.segment(stamp - offset, src, dst, flag_names(bits), rel_seq, rel_ack, payload, preview, fresh)
        if keeping:
            store.keep_block(block, kept - first, skipped)
        else:
            store.leave_out(kept - first)

    def _connection(self, key: bytes) -> tuple[Address, Address, Pair]:
        """A connection's ends and numbering, by the bytes of its addresses and ports (the first frame of it)."""
        known = self._known
        if len(known) >= _KNOWN:
            known.clear()
        src, dst = ends_of(key)
        connection = known[key] = (src, dst, self._numbering.pair(src, dst))
        return connection

    def _tell_calls(self, until: float) -> None:
        """The calls made by `until` (wall-clock), in order: each ends a run."""
        calls = self._calls
        while calls and calls[0][0] <= until:
            self._runs.call(calls.pop(0)[1])

    # ----- to the app -----

    def _send_lines(self) -> None:
        packets, drops = self._ring.statistics()
        self._packets += packets
        now = time.time()
        if drops:
            self._dropped += drops
            self._runs.dropped(now - self._offset, drops)
        self._tell_calls(now - CALL_DELAY)  # no frame from before them can still be on its way
        self._runs.tick(now - self._offset)
        lines = self._runs.take()
        if lines or packets:
            self._send(("lines", lines, drops, self._packets, self._dropped, self._store.left_out))

    def _send(self, message: object) -> None:
        data = encode(message)
        view = memoryview(data)
        while view:
            written = os.write(self._data, view)  # blocks while the app is busy: the ring holds the frames
            view = view[written:]


def _next_look(look: float, handed_over: int, interval: float, room: int) -> float:
    """Seconds until the next look at a busy ring: twice the last, up to LONGEST_LOOK, and no longer than it takes
    the kernel to hand over half the `room` (blocks until the ring is half full) at the pace of the last
    `interval`, in which it handed over `handed_over` blocks."""
    look = min(2 * look, LONGEST_LOOK)
    if handed_over > 0:
        look = min(look, room / 2 * interval / handed_over)
    return max(look, RETIRE_MS / 1000)


def _die_with_the_app(app: int) -> None:
    """SIGKILL when the thread that started this process ends; at once if the app is already gone."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != app:
        os._exit(0)


def main(argv: list[str]) -> int:
    """`reader CAPTURE_FD CONTROL_FD DATA_FD APP_PID BLOCK_SIZE BLOCKS OFFSET`, as the app starts it."""
    capture, control, data, app, block_size, blocks = (int(value) for value in argv[:6])
    _die_with_the_app(app)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a ^C in the terminal is for the app, which then stops this
    os.set_blocking(control, False)
    ring = Ring(socket.socket(fileno=capture), block_size, blocks)
    try:
        Reader(ring, control, data, float(argv[6])).run()
    except BrokenPipeError:  # the app is gone
        return 0
    finally:
        ring.close()
    return 0
