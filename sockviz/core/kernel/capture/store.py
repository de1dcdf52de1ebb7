"""The frames kept for the export, each with the calls noted before it: where the calls meet the packets.

The calls happen in the app and the frames arrive in the reader, so each call
is sent over as a note with its wall-clock time, and the reader joins it to the
first frame it keeps whose kernel timestamp is no earlier: the SYN carries
`c.connect(...)`, and `s.listen()`, which sends nothing, goes on the next frame.
"""

from __future__ import annotations

from pathlib import Path

from sockviz.core.kernel.capture.files import write_pcap, write_pcapng
from sockviz.core.kernel.capture.frames import Frame

STORE_LIMIT = 32 * 1024 * 1024
"""Bytes of cut frames kept for the export: about 170,000 segments."""


class Store:
    """Kept frames, oldest first, up to STORE_LIMIT bytes; the notes of calls not yet joined to a frame."""

    def __init__(self, limit: int = STORE_LIMIT) -> None:
        self._stamps: list[float] = []
        self._lengths: list[int] = []
        self._data: list[bytes] = []
        self._calls: dict[int, tuple[str, ...]] = {}
        """The calls noted before a frame, by the frame's index: few frames have any."""
        self._limit = limit
        self._stored = 0
        self._notes: list[tuple[float, str]] = []
        self.left_out = 0
        """Frames seen but not kept (past the store limit)."""

    def note(self, wall: float, text: str) -> None:
        self._notes.append((wall, text))

    def keep(self, stamp: float, length: int, data: bytes) -> None:
        """Keep a frame (in columns: it runs for every frame), with the calls noted by its time."""
        if self._stored + len(data) > self._limit:
            self.left_out += 1
            return
        if self._notes:
            calls = tuple(text for at, text in self._notes if at <= stamp)
            if calls:
                self._notes = [(at, text) for at, text in self._notes if at > stamp]
                self._calls[len(self._stamps)] = calls
        self._stamps.append(stamp)
        self._lengths.append(length)
        self._data.append(data)
        self._stored += len(data)

    @property
    def frames(self) -> list[Frame]:
        """The kept frames, oldest first."""
        calls = self._calls
        return [
            Frame(stamp, length, data, calls.get(index, ()))
            for index, (stamp, length, data) in enumerate(zip(self._stamps, self._lengths, self._data, strict=True))
        ]

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
        return len(self._stamps)
