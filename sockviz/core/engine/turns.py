"""Steps asked for one after the other run one after the other: `s b l` typed at once is socket(), bind(), listen().

A front end runs each step in a thread of its own, so that a blocked accept() does not stop the client's
connect(). But threads start in no set order: typed together, bind() could begin before socket() had
returned (and be refused, "there is no server socket yet"), or run in full between socket()'s return and
its log line. A `Turn`, taken when the step is asked for (in the order of the keys), makes its call wait
until the step asked for before it has returned, failed, been refused, or blocked: a blocked call is what
another thread of the program would wait beside, so the next step goes on while it waits, as the lesson
wants. A cancel waits for nothing (it is the way out of a call that runs), and a serve mode or a burst
holds nothing up (each runs for as long as it is let).
"""

from __future__ import annotations

import threading

from sockviz.core.model.steps import SERVE_ACTIONS, Action, Step

WAITS_FOR_NOTHING = frozenset({Action.CANCEL})
"""Steps that run at once, whatever runs before them, and hold nothing up."""
HOLDS_NOTHING_UP = frozenset({Action.BURST, *SERVE_ACTIONS})
"""Steps that run for as long as they are let: the next step goes on once they have begun."""


class Turn:
    """One step's place in the order the steps were asked for."""

    def __init__(self, after: Turn | None) -> None:
        self._after = after
        self._settled = threading.Event()

    def wait(self) -> None:
        """Wait until the step before this one has returned, failed, been refused or blocked. `Turns.end()`
        releases every turn (the session is closing), so this never outlasts the session."""
        if self._after is not None:
            self._after._settled.wait()
            self._after = None  # the chain behind a settled turn is not kept

    def settle(self) -> None:
        """This step's call has returned, failed, been refused or blocked: the next one may run."""
        self._settled.set()

    @property
    def settled(self) -> bool:
        return self._settled.is_set()


class Turns:
    """The order the front end asked for steps in (`take`, from its own thread, as each key comes)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: Turn | None = None
        self._pending: list[Turn] = []
        self._ended = False

    def take(self, chosen: Step) -> Turn:
        """The turn of a step asked for now: after every step asked for before it."""
        with self._lock:
            if chosen.action in WAITS_FOR_NOTHING or self._ended:
                turn = Turn(None)
                turn.settle()
                return turn
            turn = Turn(self._last)
            self._last = turn
            self._pending = [t for t in self._pending if not t.settled]
            self._pending.append(turn)
            return turn

    def end(self) -> None:
        """The session is closing: every waiting step goes on (to be refused: the session has ended)."""
        with self._lock:
            self._ended = True
            pending, self._pending = self._pending, []
        for turn in pending:
            turn.settle()
