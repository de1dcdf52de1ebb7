"""How a sockviz process ends when told to from outside: SIGTERM, or the browser-mode server going away.

SIGTERM asks the app to quit as a key would (every socket closed, every blocked
call woken); if that has not ended the process within `HARD_DEADLINE`, the
process ends anyway: a signal that is not obeyed is how a runaway process lives
on. A served app (one textual-serve started for a browser tab) also asks the
kernel for SIGTERM when its server dies, so that not even a killed server
leaves it running.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable

HARD_DEADLINE = 1.5
"""Seconds from SIGTERM to the end of the process, whatever the app is doing."""

EXIT_TERMINATED = 128 + signal.SIGTERM
"""The status a shell reports for a process ended by SIGTERM."""

_PR_SET_PDEATHSIG = 1


def end_on_sigterm(quit_app: Callable[[int], None]) -> None:
    """From now on SIGTERM calls `quit_app(EXIT_TERMINATED)` on the running loop, then ends the process
    after `HARD_DEADLINE` if it is still there. Call it from the event loop, after the driver has
    started (Textual's web driver sets a SIGTERM handler of its own that only asks)."""
    loop = asyncio.get_running_loop()

    def terminate() -> None:
        end_after_deadline(EXIT_TERMINATED)
        quit_app(EXIT_TERMINATED)

    loop.add_signal_handler(signal.SIGTERM, terminate)


def end_after_deadline(status: int) -> None:
    """Whatever the process is doing `HARD_DEADLINE` seconds from now, it ends then, with `status`."""

    def end() -> None:
        time.sleep(HARD_DEADLINE)
        os._exit(status)

    threading.Thread(target=end, name="sockviz-quit-deadline", daemon=True).start()


def served() -> bool:
    """Whether this process is an app that textual-serve started for a browser tab."""
    return "web_driver" in os.environ.get("TEXTUAL_DRIVER", "")


def follow_the_server() -> None:
    """Ask the kernel for SIGTERM when the parent (the browser-mode server) dies, however it dies.

    The server runs each tab's app with `exec`, so the parent is the server itself. Should it
    already have died before this call, the process is an orphan: it ends at once.
    """
    import ctypes  # only a browser tab's app needs it, not every start-up

    parent = os.getppid()
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if parent == 1 or os.getppid() != parent:
        os._exit(EXIT_TERMINATED)
