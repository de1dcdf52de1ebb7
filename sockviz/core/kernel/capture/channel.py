"""Messages between the app and a process of its own (the capture's reader, the share's process):
length-prefixed pickles over a pipe, in each direction.

Both ends are sockviz's own (the app starts the process), so pickle carries the
lines and requests as they are. The app writes without ever blocking: a call's
note is written from the thread about to make the call, and a process that is
stopped or slow must not hold that thread, so what the pipe has no room for
waits in an outbox that the app's receiving thread drains (`converse`).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import struct
import subprocess
import threading
from collections.abc import Callable
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
