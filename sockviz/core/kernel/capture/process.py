"""The app's side of the capture: it opens the capture socket, starts the reader process, and takes its lines.

The app keeps the socket too, so a call's thread swaps the kernel filter itself,
before the call's first segment leaves, with no round trip. Everything
per frame happens in the reader process; the app gets a few lines a second
from a thread that waits on a pipe, and stopping ends the reader within a
second whatever state it is in (asked, then killed: `channel.ChildProcess`, as the share's process).
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import sockviz
from sockviz.core.kernel.capture.channel import ChildProcess
from sockviz.core.kernel.capture.filter import attach_filter, program_for
from sockviz.core.kernel.capture.ring import BLOCK_SIZE, BLOCKS, open_capture
from sockviz.core.kernel.capture.runs import CallLine, Ended, WireLine

EXPORT_SECONDS = 10.0
"""How long an export waits for the reader to write the file."""
_PORTS_SECONDS = 0.05
"""How often the receiving thread gives the filter the session's ports (a listener's port learnt on return)."""

_START_READER = """
import sys, types
for name in ("sockviz", "sockviz.core"):
    package = types.ModuleType(name)
    package.__path__ = [sys.argv[1] + "/" + name.replace(".", "/")]
    sys.modules[name] = package
from sockviz.core.kernel.capture.reader import main
sys.exit(main(sys.argv[2:]))
"""
"""How the reader process starts: a bare interpreter (-S -E) that imports the capture's own modules and no more.

`sockviz.core` imports the whole engine (tens of milliseconds, a second on a busy machine), which the
reader has no use for, so its package and sockviz's are made here as plain namespaces of their folders.
"""


@dataclass(frozen=True)
class Delivery:
    """What the reader hands over, every 50 ms or so while there is something to tell."""

    lines: list[WireLine] = field(default_factory=list)
    dropped: int = 0
    """Frames the kernel dropped since the last delivery (the ring was full): they are in no view or file."""


class WireCapture(ChildProcess):
    """Captures the session's TCP segments on lo in a reader process of its own."""

    tick_seconds = _PORTS_SECONDS
    """The receiving thread gives the filter the session's ports this often (a listener's port learnt on return)."""

    def __init__(
        self,
        ports: Callable[[], Iterable[int]],
        deliver: Callable[[Delivery], object],
        clock: Callable[[], float],
        *,
        block_size: int = BLOCK_SIZE,
        blocks: int = BLOCKS,
        before_ports: Callable[[], object] | None = None,
    ) -> None:
        super().__init__("sockviz-wire")
        self._ports = ports
        self._before_ports = before_ports
        """Called in the receiving thread before each tick's ports: a Wire asks the kernel there which closed
        connections it still holds, so their ports go once their TIME_WAIT has."""
        self._deliver = deliver
        self._clock = clock
        self._block_size = block_size
        self._blocks = blocks
        """The ring: `blocks` blocks of `block_size` bytes (a multiple of the page size), about 260 bytes a frame."""
        self._raw: socket.socket | None = None
        self._filter_lock = threading.Lock()
        self._wanted: frozenset[int] | None = None
        """The ports the filter was last given."""
        self._answer: object = None
        self._answered = threading.Event()
        self.packets = 0
        """Frames the kernel filter passed (PACKET_STATISTICS), dropped ones included."""
        self.dropped = 0
        """Frames the kernel dropped because the ring was full, since the capture began."""
        self.left_out = 0
        """Frames seen but not kept for export (past the store limit)."""
        self.every_tcp_frame = False
        """True while the session has too many ports for the kernel filter: then it keeps all TCP on lo."""
        self._reader_picks = False
        """True once the reader has been told the ports (every_tcp_frame was): it is told each change from then on."""
        self.reading = threading.Event()
        """Set once the reader has mapped the ring and reads it (frames from before then wait in the ring)."""

    def start(self) -> str | None:
        """Start capturing; None when it runs, or the sentence that says why it cannot."""
        wanted = frozenset(self._ports())
        program, self.every_tcp_frame = program_for(wanted)
        raw = open_capture(program, self._block_size, self._blocks)
        if isinstance(raw, str):
            return raw
        self._raw, self._wanted, self._reader_picks = raw, wanted, self.every_tcp_frame
        first = [("ports", wanted)] if self.every_tcp_frame else []
        package_root = str(Path(sockviz.__file__).resolve().parent.parent)

        def command(control: int, data: int) -> list[str]:
            command = [sys.executable, "-S", "-E", "-c", _START_READER, package_root, str(raw.fileno())]
            command += [str(control), str(data), str(os.getpid()), str(self._block_size), str(self._blocks)]
            return [*command, repr(time.time() - self._clock())]

        problem = self.launch(command, (raw.fileno(),), first)
        return f"The capture's reader could not start: {problem}" if problem else None

    def stop(self, timeout: float | None = None, *, wait: bool = True) -> None:
        """Ask the reader to finish; the receiving thread kills it if it has not within STOP_SECONDS.

        With `wait`, returns once it is gone (its last lines delivered); a view that is going away
        need not wait, and its thread ends by itself.
        """
        super().stop(timeout if wait else 0)

    # ----- what to keep -----

    @property
    def filtered_ports(self) -> frozenset[int]:
        """The ports the kernel filter (or, past MAX_FILTER_PORTS, the reader) keeps frames of now."""
        return self._wanted or frozenset()

    def refresh_ports(self) -> None:
        """Give the kernel filter the session's ports as they are now, come and gone; cheap when none changed.

        Called in the thread that is about to make a call, so the new port is in the filter before the
        SYN leaves; and every tick, so a port the session has left goes.
        """
        raw = self._raw
        if raw is None:
            return
        ports = frozenset(self._ports())  # before the filter's lock: a session listener holds the session's
        with self._filter_lock:
            if ports == self._wanted or self._raw is None:
                return
            before, self._wanted = self._wanted, ports
            program, every = program_for(ports)
            if every or self._reader_picks:  # before the filter lets the other ports in
                self._tell_ports(ports, before if self._reader_picks else None)
                self._reader_picks = True
            if every and self.every_tcp_frame:
                return  # the filter keeps every TCP frame already
            self.every_tcp_frame = every
            with contextlib.suppress(OSError):  # the capture closed meanwhile
                attach_filter(raw, program)

    def _tell_ports(self, ports: frozenset[int], before: frozenset[int] | None) -> None:
        """The reader picks the session's frames: tell it the ports, only the new ones when none went."""
        if before is not None and before <= ports:
            self.send(("more ports", ports - before))  # a burst adds a port a connect: not the whole set
        else:
            self.send(("ports", ports))

    def note_call(self, line: CallLine | None, comment: str) -> None:
        """A call starts now: its line goes between the segments, and its comment on the next frame saved."""
        self.send(("call", time.time(), time.time() - self._clock(), line, comment))

    # ----- export -----

    def export(self, path: Path, *, plain: bool, header: list[str]) -> int | str:
        """Have the reader save what it kept: the number of frames saved, or the sentence that says why not."""
        if self._thread is None or self._outbox is None or self.stopping:
            return "the capture has stopped"
        self._answered.clear()
        self.send(("export", str(path), plain, header))
        if not self._answered.wait(EXPORT_SECONDS):
            return f"the capture did not save {path} within {EXPORT_SECONDS:.0f} s"
        answer = self._answer
        return answer if isinstance(answer, int | str) else "the capture ended before saving"

    # ----- the receiving thread -----

    def tick(self) -> None:
        if self._before_ports is not None:
            self._before_ports()
        self.refresh_ports()

    def heard(self, message: object) -> None:
        match message:
            case ("reading",):
                self.reading.set()
            case ("lines", list(lines), int(dropped), int(packets), int(dropped_so_far), int(left_out)):
                self.packets, self.dropped, self.left_out = packets, dropped_so_far, left_out
                if lines or dropped:
                    self._deliver(Delivery(lines, dropped))
            case ("exported", answer, int(dropped_so_far), int(left_out)):
                self.dropped, self.left_out = dropped_so_far, left_out
                self._answer = answer
                self._answered.set()

    def gone(self) -> None:
        with self._filter_lock:  # refresh_ports() may be attaching a filter in another thread
            raw, self._raw = self._raw, None
            if raw is not None:
                raw.close()
        self._answer = None
        self._answered.set()

    def ended(self, why: str) -> None:
        self._deliver(Delivery([Ended(self._clock(), f"the capture's reader process {why}: nothing more is captured")]))
