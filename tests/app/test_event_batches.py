"""EventBatches: the session's events reach the screen in order, one message waiting at a time."""

from __future__ import annotations

import threading

from sockviz.core import Side, SocketAdded
from sockviz.messages import EventBatches, SessionEvents


def added(number: int) -> SocketAdded:
    return SocketAdded(seq=number, at=0.0, socket_id=number, name=f"c{number}", side=Side.CLIENT)


def test_events_join_the_waiting_message_and_the_next_starts_a_new_one():
    posted: list[SessionEvents] = []
    batches = EventBatches(posted.append)

    def emit(n: int) -> None:
        for i in range(100):
            batches.add(added(n * 100 + i))

    threads = [threading.Thread(target=emit, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(posted) == 1  # nobody took the first: every other event joined it
    taken = batches.take(posted[0])
    assert sorted(e.seq for e in taken) == list(range(400))
    for n in range(4):  # each thread's own events stay in the order it made them
        mine = [e.seq for e in taken if e.seq // 100 == n]
        assert mine == sorted(mine)
    batches.add(added(400))
    assert len(posted) == 2 and batches.take(posted[1])[0].seq == 400


def test_after_another_message_the_next_event_starts_a_batch_behind_it():
    """A narration posted between two calls' events must not be overtaken by the second call's events."""
    posted: list[SessionEvents] = []
    batches = EventBatches(posted.append)
    batches.add(added(1))
    batches.seal()  # the screen is posted another message (a narration) while the first batch waits
    batches.add(added(2))
    assert [[e.seq for e in batches.take(m)] for m in posted] == [[1], [2]]
