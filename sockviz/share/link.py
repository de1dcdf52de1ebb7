"""The lecturer's end of the pipe to the share's process: start it, hand it messages, hear its answers, end it.

As the capture's reader process is started (core/kernel/capture/process.py): a bare interpreter whose
`sockviz` packages are plain namespaces of their folders, so it imports the share's own modules and aiohttp
and never sockviz's core or UI (tens of milliseconds here, a second on a busy machine). It is started from
the link's own thread, which lives as long as it does: PR_SET_PDEATHSIG ends the process with that thread,
and the thread's end of the pipe closing ends it too. Messages go as the capture's channel sends them
(length-prefixed pickles, both ends sockviz's own), and the lecturer's side never blocks on a full pipe: what
does not fit waits in the outbox, up to MAX_WAITING bytes; beyond, a stuck process is let go of (killed) and
the bar says so, rather than the lecturer's memory growing without end.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import sockviz
from sockviz.core.kernel.capture.channel import Outbox, converse, last_words, reap

STOP_SECONDS = 1.0
"""How long a stop waits for the share's process to close its followers before killing it."""
MAX_WAITING = 64 << 20
"""Bytes the lecturer keeps for a share's process that does not read (stopped, or stuck): past that it is ended."""
TICK_SECONDS = 0.025
"""How often the link's thread calls `tick` (the lecturer's facts are looked at then)."""

_START = """
import sys, types
for name in ("sockviz", "sockviz.core", "sockviz.core.kernel", "sockviz.core.kernel.capture"):
    package = types.ModuleType(name)
    package.__path__ = [sys.argv[1] + "/" + name.replace(".", "/")]
    sys.modules[name] = package
from sockviz.share.process import main
sys.exit(main(sys.argv[2:]))
"""


class ProcessLink:
    """The share's process and the pipes to it, from a thread of the lecturer's own."""

    def __init__(self, heard: Callable[[object], None], tick: Callable[[], None], ended: Callable[[str], None]) -> None:
        self._heard = heard
        """Each message from the share's process, in the link's thread."""
        self._tick = tick
        """Called every TICK_SECONDS in the link's thread."""
        self._ended = ended
        """Why the share's process ended, when nobody asked it to (in words for the lecturer's bar)."""
        self._outbox: Outbox | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._stop_asked = 0.0

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def start(self, listener: socket.socket, code: str) -> None:
        """Start the process with the listening socket (it serves it from now on) and the join code."""
        control_read, control_write = os.pipe()
        data_read, data_write = os.pipe()
        self._outbox = Outbox(control_write)
        self._outbox.send(("code", code))
        started = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(listener, control_read, data_read, data_write, started), name="sockviz-share",
            daemon=True,
        )  # fmt: skip
        self._thread.start()
        started.wait()

    def send(self, message: object) -> None:
        """To the share's process, in order, never blocking (from any thread)."""
        outbox = self._outbox
        if outbox is None:
            return
        outbox.send(message)
        if outbox.waiting_bytes > MAX_WAITING and not self._stopping and self._process is not None:
            with contextlib.suppress(OSError):
                self._process.kill()

    def stop(self, timeout: float = STOP_SECONDS + 0.5) -> None:
        """Ask the process to tell its followers and end; killed if it has not within STOP_SECONDS."""
        thread = self._thread
        if thread is None:
            return
        if not self._stopping:
            self._stop_asked = time.monotonic()
            self._stopping = True
            self.send(("stop",))
        thread.join(timeout)

    # ----- the link's thread -----

    def _run(
        self, listener: socket.socket, control_read: int, data_read: int, data_write: int, started: threading.Event
    ) -> None:
        outbox = self._outbox
        assert outbox is not None
        root = str(Path(sockviz.__file__).resolve().parent.parent)
        command = [sys.executable, "-c", _START, root, str(listener.fileno()), str(control_read), str(data_write)]
        command.append(str(os.getpid()))
        with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a process that says much never blocks on it
            problem = self._start(command, listener, control_read, data_write, errors)
            started.set()
            try:
                if not problem:
                    self._take(data_read, outbox)
            finally:
                self._end(data_read, outbox, problem, errors)

    def _start(
        self, command: list[str], listener: socket.socket, control_read: int, data_write: int, errors: IO[bytes]
    ) -> str:
        """Start the process with its ends of the pipes and the listener; "" when it runs, or why it could not."""
        try:
            self._process = subprocess.Popen(
                command,
                pass_fds=(listener.fileno(), control_read, data_write),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=errors,  # never onto the lecturer's screen: a failure is said in the bar instead
            )
        except OSError as error:
            return f"the share's process could not start: {error}"
        finally:
            os.close(control_read)
            os.close(data_write)
            listener.close()  # the process has its own copy, which it serves
        return ""

    def _take(self, data_read: int, outbox: Outbox) -> None:
        converse(data_read, outbox, self._heard, self._tick_or_end, TICK_SECONDS)

    def _tick_or_end(self) -> None:
        if not self._stopping:
            self._tick()
        elif time.monotonic() - self._stop_asked >= STOP_SECONDS and self._process is not None:
            with contextlib.suppress(OSError):
                self._process.kill()  # stuck (or stopped): its end of the pipe closes with it, which ends this

    def _end(self, data_read: int, outbox: Outbox, problem: str, errors: IO[bytes]) -> None:
        status = reap(self._process, STOP_SECONDS)
        outbox.close()
        os.close(data_read)
        if problem:
            self._ended(problem)
        elif not self._stopping:
            self._ended(f"the share's process ended (status {status}{last_words(errors)}): followers see no more")
