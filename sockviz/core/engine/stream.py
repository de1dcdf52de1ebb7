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


class Listeners:
    """Who hears a stream of events: each in the order they subscribed, one that raises dropped, never silently.

    The session's stream tells them under its lock (which keeps the order exact across threads); a follower's
    mirror of the lecturer's session tells them outside its own lock. Either way, subscribing is safe from
    any thread."""

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._listeners: tuple[Listener, ...] = ()
        """Replaced whole (under the lock) when one subscribes or stops, never changed in place: telling an event
        reads it as it is, with no lock and no copy (a follower tells every one of the lecturer's events)."""

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Hear every event from now on, in order, in the thread that tells it; returns the way to stop."""
        with self._lock:
            self._listeners = (*self._listeners, listener)

        def unsubscribe() -> None:
            self._drop(listener)

        return unsubscribe

    def _drop(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                listeners = list(self._listeners)
                listeners.remove(listener)
                self._listeners = tuple(listeners)

    def tell(self, event: Event) -> list[tuple[str, Exception]]:
        """Tell every listener. One that raises hears no more: its name and error are returned (for the rest to
        hear of it), and logged with the traceback (for when the dropped one was the only one)."""
        failed: list[tuple[str, Exception]] = []
        for listener in self._listeners:
            try:
                listener(event)
            except Exception as error:
                self._drop(listener)
                name = getattr(listener, "__qualname__", repr(listener))
                logger.error("%s raised on %s and hears the session no more", name, event, exc_info=error)
                failed.append((name, error))
        return failed


class EventStream:
    """Every event of one session, in order, to whoever subscribed."""

    def __init__(self, lock: threading.RLock, now: Callable[[], float]) -> None:
        self._lock = lock
        self._now = now
        self._listeners = Listeners(lock)
        self._seq = itertools.count(1)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Hear every event from now on, in order, in the thread that caused it; returns the way to stop."""
        return self._listeners.subscribe(listener)

    def emit(self, kind: type[Event], **fields: object) -> None:
        """Tell every listener. One that raises is dropped, never silently: the rest hear a ListenerFailed."""
        with self._lock:
            event = kind(seq=next(self._seq), at=self._now(), **fields)
            for name, error in self._listeners.tell(event):
                self.emit(ListenerFailed, listener=name, error=repr(error))
