"""The app's side of the capture: it opens the capture socket, starts the reader process, and takes its lines.

The app keeps the socket too, so a call's thread swaps the kernel filter itself,
before the call's first segment leaves, with no round trip. Everything
per frame happens in the reader process; the app gets a few lines a second
from a thread that waits on a pipe, and stopping ends the reader within a
second whatever state it is in (asked, then killed).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import sockviz
from sockviz.core.kernel.capture.channel import Outbox, converse, last_words, reap
from sockviz.core.kernel.capture.filter import attach_filter, program_for
from sockviz.core.kernel.capture.ring import BLOCK_SIZE, BLOCKS, open_capture
from sockviz.core.kernel.capture.runs import CallLine, Ended, WireLine

STOP_SECONDS = 1.0
"""How long a stop waits for the reader to finish (it reads the last block, about 60 ms) before killing it."""
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


class WireCapture:
    """Captures the session's TCP segments on lo in a reader process of its own."""

    def __init__(
        self,
        ports: Callable[[], Iterable[int]],
        deliver: Callable[[Delivery], object],
        clock: Callable[[], float],
        *,
        block_size: int = BLOCK_SIZE,
        blocks: int = BLOCKS,
    ) -> None:
        self._ports = ports
        self._deliver = deliver
        self._clock = clock
        self._block_size = block_size
        self._blocks = blocks
        """The ring: `blocks` blocks of `block_size` bytes (a multiple of the page size), about 240 bytes a frame."""
        self._raw: socket.socket | None = None
        self._outbox: Outbox | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None
        self._filter_lock = threading.Lock()
        self._wanted: frozenset[int] | None = None
        """The ports the filter was last given."""
        self._stopping = False
        self._stop_asked = 0.0
        self._ports_at = 0.0
        self._answer: object = None
        self._answered = threading.Event()
        self.packets = 0
        """Frames the kernel filter passed (PACKET_STATISTICS), dropped ones included."""
        self.dropped = 0
        """Frames the kernel dropped because the ring was full, since the capture began."""
        self.left_out = 0
        """Frames seen but not kept for export (past the store limit)."""
        self.every_tcp_frame = False
        """True once the session has too many ports for the kernel filter: then it keeps all TCP on lo."""
        self.reading = threading.Event()
        """Set once the reader has mapped the ring and reads it (frames from before then wait in the ring)."""

    @property
    def pid(self) -> int | None:
        """The reader process, while it runs."""
        return None if self._process is None else self._process.pid

    def start(self) -> str | None:
        """Start capturing; None when it runs, or the sentence that says why it cannot."""
        wanted = frozenset(self._ports())
        program, self.every_tcp_frame = program_for(wanted)
        raw = open_capture(program, self._block_size, self._blocks)
        if isinstance(raw, str):
            return raw
        self._raw, self._wanted = raw, wanted
        control_read, control_write = os.pipe()
        data_read, data_write = os.pipe()
        self._outbox = Outbox(control_write)
        if self.every_tcp_frame:
            self._tell_ports(wanted, None)
        started = threading.Event()
        problem: list[str] = []
        self._thread = threading.Thread(
            target=self._receive,
            args=(control_read, data_read, data_write, started, problem),
            name="sockviz-wire",
            daemon=True,
        )
        self._thread.start()
        started.wait()
        if problem:
            self._thread.join()
            self._thread = None
            return problem[0]
        return None

    def stop(self, *, wait: bool = True) -> None:
        """Ask the reader to finish; the receiving thread kills it if it has not within STOP_SECONDS.

        With `wait`, returns once it is gone (its last lines delivered); a view that is going away
        need not wait, and its thread ends by itself.
        """
        thread = self._thread
        if thread is None:
            return
        if not self._stopping:
            self._stop_asked = time.monotonic()
            self._stopping = True
            if self._outbox is not None:
                self._outbox.send(("stop",))
        if wait:
            thread.join()
            self._thread = None

    # ----- what to keep -----

    def refresh_ports(self) -> None:
        """Give the kernel filter the session's ports as they are now; cheap when they have not changed.

        Called in the thread that is about to make a call, so the new port is in the filter before the
        SYN leaves.
        """
        raw = self._raw
        if raw is None:
            return
        ports = frozenset(self._ports())  # before the filter's lock: a session listener holds the session's
        with self._filter_lock:
            if ports == self._wanted or self._raw is None:
                return
            before, self._wanted = self._wanted, ports
            if self.every_tcp_frame:
                self._tell_ports(ports, before)
                return
            program, self.every_tcp_frame = program_for(ports)
            if self.every_tcp_frame:
                self._tell_ports(ports, None)  # before the filter lets the other ports in
            with contextlib.suppress(OSError):  # the capture closed meanwhile
                attach_filter(raw, program)

    def _tell_ports(self, ports: frozenset[int], before: frozenset[int] | None) -> None:
        """The reader picks the session's frames itself: tell it the ports, only the new ones when none went."""
        if self._outbox is None:
            return
        if before is not None and before <= ports:
            self._outbox.send(("more ports", ports - before))  # a burst adds a port a connect: not the whole set
        else:
            self._outbox.send(("ports", ports))

    def note_call(self, line: CallLine | None, comment: str) -> None:
        """A call starts now: its line goes between the segments, and its comment on the next frame saved."""
        if self._outbox is not None:
            self._outbox.send(("call", time.time(), time.time() - self._clock(), line, comment))

    # ----- export -----

    def export(self, path: Path, *, plain: bool, header: list[str]) -> int | str:
        """Have the reader save what it kept: the number of frames saved, or the sentence that says why not."""
        if self._thread is None or self._outbox is None or self._stopping:
            return "the capture has stopped"
        self._answered.clear()
        self._outbox.send(("export", str(path), plain, header))
        if not self._answered.wait(EXPORT_SECONDS):
            return f"the capture did not save {path} within {EXPORT_SECONDS:.0f} s"
        answer = self._answer
        return answer if isinstance(answer, int | str) else "the capture ended before saving"

    # ----- the receiving thread -----

    def _receive(
        self, control_read: int, data_read: int, data_write: int, started: threading.Event, problem: list[str]
    ) -> None:
        """Start the reader, then take its messages until it ends. The reader dies with this thread."""
        raw, outbox = self._raw, self._outbox
        assert raw is not None and outbox is not None
        package_root = str(Path(sockviz.__file__).resolve().parent.parent)
        command = [sys.executable, "-S", "-E", "-c", _START_READER, package_root, str(raw.fileno()), str(control_read)]
        command += [str(data_write), str(os.getpid()), str(self._block_size), str(self._blocks)]
        command += [repr(time.time() - self._clock())]
        try:
            self._process = subprocess.Popen(
                command,
                pass_fds=(raw.fileno(), control_read, data_write),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,  # never onto the app's screen: a failure is told in the pane instead
            )
        except OSError as error:
            problem.append(f"The capture's reader could not start: {error}")
        finally:
            os.close(control_read)
            os.close(data_write)
        started.set()
        try:
            if not problem:
                self._take(data_read, outbox)
        finally:
            self._end(data_read, outbox, raw)

    def _take(self, data_read: int, outbox: Outbox) -> None:
        self._ports_at = time.monotonic()
        converse(data_read, outbox, self._heard, self._tick, _PORTS_SECONDS)

    def _tick(self) -> None:
        if time.monotonic() - self._ports_at >= _PORTS_SECONDS:
            self.refresh_ports()
            self._ports_at = time.monotonic()
        if self._stopping and time.monotonic() - self._stop_asked >= STOP_SECONDS and self._process is not None:
            with contextlib.suppress(OSError):
                self._process.kill()  # stuck (or stopped): its end of the pipe closes with it, which ends this

    def _heard(self, message: object) -> None:
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

    def _end(self, data_read: int, outbox: Outbox, raw: socket.socket) -> None:
        process = self._process
        status = reap(process, STOP_SECONDS)
        with self._filter_lock:  # refresh_ports() may be attaching a filter in another thread
            self._raw = None
            raw.close()
        outbox.close()
        os.close(data_read)
        self._answer = None
        self._answered.set()
        said_last = last_words(process.stderr if process is not None else None)
        if process is not None and process.stderr is not None:
            process.stderr.close()
        if not self._stopping and process is not None:
            said = f"the capture's reader process ended (status {status}{said_last}): nothing more is captured"
            self._deliver(Delivery([Ended(self._clock(), said)]))
