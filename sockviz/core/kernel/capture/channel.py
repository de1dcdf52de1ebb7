"""Messages between the app and its reader process: length-prefixed pickles over a pipe, in each direction.

Both ends are sockviz's own (the app starts the reader), so pickle carries the
lines and requests as they are. The app writes without ever blocking: a call's
note is written from the thread about to make the call, and a reader that is
stopped or slow must not hold that thread, so what the pipe has no room for
waits in an outbox that the app's receiving thread drains.
"""

from __future__ import annotations

import os
import pickle
import struct
import threading

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
