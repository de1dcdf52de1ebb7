"""A process of the app's own (the capture's reader, the share's process): its life, and the messages to and fro,
length-prefixed pickles over a pipe in each direction.

Both ends are sockviz's own (the app starts the process), so pickle carries the
lines and requests as they are. The app writes without ever blocking: a call's
note is written from the thread about to make the call, and a process that is
stopped or slow must not hold that thread, so what the pipe has no room for
waits in an outbox that the app's receiving thread drains (`converse`).

`ChildProcess` is the life both processes share: started from a thread of the
app's that lives as long as it does (the process dies with that thread, by
PR_SET_PDEATHSIG on its side, and ends when its end of the pipe closes), asked
to stop and killed STOP_SECONDS later if it has not, reaped, and its end told
when nobody asked for it, with the last line it wrote to its stderr (a file,
not a pipe: a process that says much never blocks on it).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from typing import IO

_LENGTH = struct.Struct("<I")


def encode(message: object) -> bytes:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(body)) + body


class Decoder:
    """Whole messages out of the bytes a pipe gives, in whatever pieces it gives them."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[object]:
        buffer = self._buffer
        buffer += data
        messages = []
        start = 0
        while len(buffer) - start >= _LENGTH.size:
            (length,) = _LENGTH.unpack_from(buffer, start)
            end = start + _LENGTH.size + length
            if len(buffer) < end:
                break
            messages.append(pickle.loads(buffer[start + _LENGTH.size : end]))
            start = end
        del buffer[:start]
        return messages


class Outbox:
    """Messages to a non-blocking pipe, in order; what does not fit now is written by a later `flush`."""

    def __init__(self, fd: int) -> None:
        os.set_blocking(fd, False)
        self.fd = fd
        self._pending = bytearray()
        self._lock = threading.Lock()
        self.closed = False

    def send(self, message: object) -> None:
        data = encode(message)
        with self._lock:
            if self.closed:
                return
            self._pending += data
            self._write()

    def flush(self) -> None:
        with self._lock:
            if not self.closed:
                self._write()

    @property
    def waiting(self) -> bool:
        return bool(self._pending)

    @property
    def waiting_bytes(self) -> int:
        """How much waits for room in the pipe (a reader that does not read lets it grow)."""
        return len(self._pending)

    def _write(self) -> None:
        while self._pending:
            try:
                written = os.write(self.fd, self._pending)
            except BlockingIOError:
                return
            except OSError:  # the reader is gone: nothing it would do with the rest
                self._pending.clear()
                return
            del self._pending[:written]

    def close(self) -> None:
        with self._lock:
            if not self.closed:
                self.closed = True
                os.close(self.fd)


def converse(
    data: int, outbox: Outbox, heard: Callable[[object], None], tick: Callable[[], None], period: float
) -> None:
    """The receiving thread's loop, until the process closes its end of `data` (it ended, however it ended):
    what waits in the outbox is written as the pipe has room, each message goes to `heard`, and `tick` is
    called at least every `period` seconds."""
    decoder = Decoder()
    while True:
        writing = [outbox.fd] if outbox.waiting else []
        readable, writable, _ = select.select([data], writing, [], period)
        if writable:
            outbox.flush()
        if readable:
            read = os.read(data, 1 << 20)
            if not read:
                return
            for message in decoder.feed(read):
                heard(message)
        tick()


def reap(process: subprocess.Popen[bytes] | None, seconds: float) -> int | None:
    """The process's exit status: waited for `seconds`, then killed (a process never outlives its stop)."""
    if process is None:
        return None
    try:
        return process.wait(seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def last_words(errors: IO[bytes] | None) -> str:
    """The last line the process wrote to `errors` (its stderr), as `: line`, or ""."""
    if errors is None:
        return ""
    with contextlib.suppress(OSError, ValueError):
        if errors.seekable():
            errors.seek(max(0, errors.seek(0, os.SEEK_END) - 4096))
        lines = errors.read().decode(errors="replace").strip().splitlines()
        return f": {lines[-1]}" if lines else ""
    return ""


STOP_SECONDS = 1.0
"""How long a stop waits for the process to finish before killing it."""


class ChildProcess:
    """A process of the app's own and the pipes to it, from a thread of the app's that lives as long as it does.

    A subclass starts it with `launch` and hears it: each message (`heard`), a tick every `tick_seconds`
    while it runs unasked to stop (`tick`), the moment it is gone, before its pipes close (`gone`), and an end
    nobody asked for, in words (`ended`).
    """

    tick_seconds = 0.05
    """How often the receiving thread calls `tick`."""

    def __init__(self, thread_name: str) -> None:
        self._thread_name = thread_name
        self._outbox: Outbox | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._stop_asked = 0.0

    @property
    def pid(self) -> int | None:
        """The process, while it runs."""
        return None if self._process is None else self._process.pid

    @property
    def stopping(self) -> bool:
        """Whether it was asked to stop."""
        return self._stopping

    def launch(
        self, command: Callable[[int, int], list[str]], keep: Iterable[int], first: Iterable[object] = ()
    ) -> str:
        """Start the process, `command(control, data)` given the fds of its ends of the two pipes, with those and
        the fds in `keep`; the `first` messages wait for it in the outbox. "" once it runs, or why it could not
        start (the receiving thread has ended then)."""
        control_read, control_write = os.pipe()
        data_read, data_write = os.pipe()
        outbox = self._outbox = Outbox(control_write)
        for message in first:
            outbox.send(message)
        started = threading.Event()
        problem: list[str] = []
        fds = (*keep, control_read, data_write)
        thread = self._thread = threading.Thread(
            target=self._run, args=(command(control_read, data_write), fds, data_read, started, problem),
            name=self._thread_name, daemon=True,
        )  # fmt: skip
        thread.start()
        started.wait()
        if problem:
            thread.join()
            self._thread = None
            return problem[0]
        return ""

    def send(self, message: object) -> None:
        """To the process, in order, never blocking (from any thread)."""
        if self._outbox is not None:
            self._outbox.send(message)

    def stop(self, timeout: float | None = None) -> None:
        """Ask the process to finish (`("stop",)`); the receiving thread kills it if it has not within
        STOP_SECONDS. Returns once it is gone, or `timeout` seconds at most (0: at once)."""
        thread = self._thread
        if thread is None:
            return
        if not self._stopping:
            self._stop_asked = time.monotonic()
            self._stopping = True
            self.send(("stop",))
        if timeout != 0:
            thread.join(timeout)
            if not thread.is_alive():
                self._thread = None

    def kill(self) -> None:
        """Let go of a process that is stuck: its end of the pipe closes with it, which ends the receiving thread."""
        if self._process is not None:
            with contextlib.suppress(OSError):
                self._process.kill()

    # ----- what a subclass hears, in the receiving thread -----

    def heard(self, message: object) -> None:
        """A message from the process."""

    def tick(self) -> None:
        """Every `tick_seconds` while the process runs and was not asked to stop."""

    def gone(self) -> None:
        """The process has ended and been reaped; its pipes are still open."""

    def ended(self, why: str) -> None:
        """The process ended when nobody asked it to: `why`, a clause for a sentence."""

    # ----- the receiving thread -----

    def _run(
        self, command: list[str], fds: tuple[int, ...], data_read: int, started: threading.Event, problem: list[str]
    ) -> None:
        outbox = self._outbox
        assert outbox is not None
        with tempfile.TemporaryFile() as errors:  # never onto the app's screen: an end is told in words instead
            try:
                self._process = subprocess.Popen(
                    command, pass_fds=fds, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors
                )
            except OSError as error:
                problem.append(str(error))
            finally:
                for fd in fds[-2:]:  # the process's ends of the pipes: it has its own copies
                    os.close(fd)
            started.set()
            try:
                if not problem:
                    converse(data_read, outbox, self.heard, self._tick_or_kill, self.tick_seconds)
            finally:
                status = reap(self._process, STOP_SECONDS)
                self.gone()
                outbox.close()
                os.close(data_read)
                if not problem and not self._stopping:
                    self.ended(f"ended (status {status}{last_words(errors)})")

    def _tick_or_kill(self) -> None:
        if not self._stopping:
            self.tick()
        elif time.monotonic() - self._stop_asked >= STOP_SECONDS:
            self.kill()  # stuck (or stopped)
