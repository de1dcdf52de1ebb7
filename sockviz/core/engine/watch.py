"""Noticing that a call is blocked, while it is blocked.

A blocked call cannot report on itself, so one watcher thread waits for every
call's grace period and fires for those still running. One thread serves all
calls: a burst of a thousand connects does not start a thousand timers.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable


class BlockWatch:
    """Calls a callback once a call has been running for `grace` seconds, unless cancelled first."""

    def __init__(self, grace: float) -> None:
        self._grace = grace
        self._due: list[tuple[float, int]] = []
        self._pending: dict[int, Callable[[], None]] = {}
        self._tokens = itertools.count(1)
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def start(self, callback: Callable[[], None], *, after: float | None = None) -> int:
        """Begin watching a call (for `after` seconds, the grace unless said); returns the token to cancel with.

        The callback runs in the watcher's thread and may start another watch, to look again later.
        """
        with self._wake:
            token = next(self._tokens)
            if self._stopped:
                return token
            self._pending[token] = callback
            heapq.heappush(self._due, (time.monotonic() + (self._grace if after is None else after), token))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sockviz-block-watch", daemon=True)
                self._thread.start()
            self._wake.notify()
        return token

    def cancel(self, token: int) -> None:
        """The call returned: forget it (harmless if it already fired)."""
        with self._wake:
            self._pending.pop(token, None)

    def stop(self) -> None:
        """End the watcher thread and wait for it."""
        with self._wake:
            self._stopped = True
            self._pending.clear()
            self._wake.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._stopped:
                    now = time.monotonic()
                    if self._due and self._due[0][0] <= now:
                        break
                    self._wake.wait(self._due[0][0] - now if self._due else None)
                if self._stopped:
                    return
                fired = []
                while self._due and self._due[0][0] <= time.monotonic():
                    _, token = heapq.heappop(self._due)
                    callback = self._pending.pop(token, None)
                    if callback is not None:
                        fired.append(callback)
            for callback in fired:
                callback()
