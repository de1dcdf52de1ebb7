"""The session's stream of events: numbered in order, told to every listener, a failing listener reported.

Events are told while the session holds its lock, which is what keeps their order exact across the
threads that cause them; so a listener must return quickly and must not block.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable

from sockviz.core.model.events import Event, ListenerFailed

logger = logging.getLogger(__name__)

Listener = Callable[[Event], None]


class EventStream:
    """Every event of one session, in order, to whoever subscribed."""

    def __init__(self, lock: threading.RLock, now: Callable[[], float]) -> None:
        self._lock = lock
        self._now = now
        self._listeners: list[Listener] = []
        self._seq = itertools.count(1)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Hear every event from now on, in order, in the thread that caused it; returns the way to stop."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def emit(self, kind: type[Event], **fields: object) -> None:
        """Tell every listener. One that raises is dropped, never silently: the rest hear a ListenerFailed, and
        the error is logged with its traceback (for when the dropped one was the only one)."""
        with self._lock:
            event = kind(seq=next(self._seq), at=self._now(), **fields)
            failed: list[tuple[Listener, Exception]] = []
            for listener in tuple(self._listeners):
                try:
                    listener(event)
                except Exception as error:  # noqa: BLE001 - a broken front end must not stop the session
                    self._listeners.remove(listener)
                    failed.append((listener, error))
            for listener, error in failed:
                name = getattr(listener, "__qualname__", repr(listener))
                logger.error("%s raised on %s and hears the session no more", name, event, exc_info=error)
                self.emit(ListenerFailed, listener=name, error=repr(error))
