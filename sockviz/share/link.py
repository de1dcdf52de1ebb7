"""The lecturer's end of the pipe to the share's process: start it, hand it messages, hear its answers, end it.

As the capture's reader process is started (core/kernel/capture/process.py): a bare interpreter whose
`sockviz` packages are plain namespaces of their folders, so it imports the share's own modules and aiohttp
and never sockviz's core or UI (tens of milliseconds here, a second on a busy machine). It is started from
the link's own thread, which lives as long as it does: PR_SET_PDEATHSIG ends the process with that thread,
and the thread's end of the pipe closing ends it too. Messages go as the capture's channel sends them
(length-prefixed pickles, both ends sockviz's own), its life is the capture's (`channel.ChildProcess`: asked to
stop, killed STOP_SECONDS later), and the lecturer's side never blocks on a full pipe: what
does not fit waits in the outbox, up to MAX_WAITING bytes; beyond, a stuck process is let go of (killed) and
the bar says so, rather than the lecturer's memory growing without end.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path

import sockviz
from sockviz.core.kernel.capture.channel import STOP_SECONDS, ChildProcess

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


class ProcessLink(ChildProcess):
    """The share's process and the pipes to it, from a thread of the lecturer's own."""

    tick_seconds = TICK_SECONDS

    def __init__(self, heard: Callable[[object], None], tick: Callable[[], None], ended: Callable[[str], None]) -> None:
        super().__init__("sockviz-share")
        self._hear = heard
        """Each message from the share's process, in the link's thread."""
        self._tick = tick
        """Called every TICK_SECONDS in the link's thread."""
        self._ended = ended
        """Why the share's process ended, when nobody asked it to (in words for the lecturer's bar)."""

    def start(self, listener: socket.socket, code: str) -> None:
        """Start the process with the listening socket (it serves it from now on) and the join code."""
        root, served = str(Path(sockviz.__file__).resolve().parent.parent), str(listener.fileno())

        def command(control: int, data: int) -> list[str]:
            return [sys.executable, "-c", _START, root, served, str(control), str(data), str(os.getpid())]

        try:
            problem = self.launch(command, (listener.fileno(),), [("code", code)])
        finally:
            listener.close()  # the process has its own copy, which it serves
        if problem:
            self._ended(f"the share's process could not start: {problem}")

    def send(self, message: object) -> None:
        """To the share's process, in order, never blocking (from any thread)."""
        super().send(message)
        outbox = self._outbox
        if outbox is not None and outbox.waiting_bytes > MAX_WAITING and not self.stopping:
            self.kill()

    def stop(self, timeout: float | None = STOP_SECONDS + 0.5) -> None:
        """Ask the process to tell its followers and end; killed if it has not within STOP_SECONDS."""
        super().stop(timeout)

    # ----- the link's thread -----

    def heard(self, message: object) -> None:
        self._hear(message)

    def tick(self) -> None:
        self._tick()

    def ended(self, why: str) -> None:
        self._ended(f"the share's process {why}: followers see no more")
