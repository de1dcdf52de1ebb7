"""The frames kept for the export, each with the calls noted before it: where the calls meet the packets.

The calls happen in the app and the frames arrive in the reader, so each call
is sent over as a note with its wall-clock time, and the reader joins it to the
first frame it keeps whose kernel timestamp is no earlier: the SYN carries
`c.connect(...)`, and `s.listen()`, which sends nothing, goes on the next frame.

The frames are kept as the ring's blocks, one copy a block (a frame of a bulk
transfer costs the reader nothing here); the export walks the blocks. A frame
the reader does not keep (not the session's, or nothing it reads) is skipped
by its place in its block.
"""

from __future__ import annotations

from pathlib import Path

from sockviz.core.kernel.capture.files import write_pcap, write_pcapng
from sockviz.core.kernel.capture.frames import Frame
from sockviz.core.kernel.capture.ring import frames_in

STORE_LIMIT = 48 * 1024 * 1024
"""Bytes of blocks kept for the export: about 190,000 segments of a bulk transfer (264 bytes each with the
ring's header, a cut data segment 182 of them)."""

NEVER = float("inf")


class Store:
    """Kept blocks, oldest first, up to STORE_LIMIT bytes; the notes of calls not yet joined to a frame."""

    def __init__(self, limit: int = STORE_LIMIT) -> None:
        self._blocks: list[tuple[bytes, frozenset[int]]] = []
        """Each block kept, with the places of its frames that are not."""
        self._calls: dict[int, tuple[str, ...]] = {}
        """The calls noted before a frame, by the frame's index among those kept: few frames have any."""
        self._limit = limit
        self._stored = 0
        self._notes: list[tuple[float, str]] = []
        self.kept = 0
        """Frames kept so far: the index the next one kept gets."""
        self.left_out = 0
        """Frames seen but not kept (past the store limit)."""

    def note(self, wall: float, text: str) -> None:
        self._notes.append((wall, text))

    @property
    def next_note_at(self) -> float:
        """When the earliest call not joined to a frame yet was made (wall-clock); NEVER when none waits."""
        return min(at for at, _ in self._notes) if self._notes else NEVER

    def has_room(self, block: bytes) -> bool:
        return self._stored + len(block) <= self._limit

    def join(self, index: int, stamp: float) -> float:
        """The calls noted by `stamp` go on the kept frame `index`; returns `next_note_at`."""
        calls = tuple(text for at, text in self._notes if at <= stamp)
        if calls:
            self._notes = [(at, text) for at, text in self._notes if at > stamp]
            self._calls[index] = self._calls.get(index, ()) + calls
        return self.next_note_at

    def keep_block(self, block: bytes, kept: int, skipped: list[int]) -> None:
        """Keep a block whose `kept` frames the reader has numbered (from `self.kept` on), but the `skipped`."""
        self._blocks.append((block, frozenset(skipped)))
        self._stored += len(block)
        self.kept += kept

    def leave_out(self, frames: int) -> None:
        """A block past the limit: its frames are counted, not kept."""
        self.left_out += frames

    @property
    def frames(self) -> list[Frame]:
        """The kept frames, oldest first."""
        calls = self._calls
        kept = [frame for block, skipped in self._blocks for frame in frames_in(block, skipped)]
        return [Frame(stamp, length, data, calls.get(index, ())) for index, (stamp, length, data) in enumerate(kept)]

    @property
    def calls_after_the_last_frame(self) -> list[str]:
        return [text for _, text in self._notes]

    def write(self, path: Path, *, plain: bool, header: list[str]) -> int:
        """Save the kept frames (pcapng with the calls as comments, or plain pcap); how many were saved."""
        if plain:
            write_pcap(path, self.frames)
        else:
            later = self.calls_after_the_last_frame
            if later:
                header = [*header, "calls after the last captured frame:", *later]
            write_pcapng(path, self.frames, "\n".join(header))
        return self.kept
