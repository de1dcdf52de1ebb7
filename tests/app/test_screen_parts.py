"""The session screen's plain parts, without an app: the pace of refreshes, also in a transfer; socket names."""

from __future__ import annotations

import pytest

from sockviz.core import Call, Session, Side, StepArgs, StepCalled, StepReturned, step
from sockviz.screens.live import TRANSFER_BAR_GAP, TRANSFER_WRITE_GAP, RefreshPacer, TransferWatch
from sockviz.screens.targets import choice_label, socket_by_id
from sockviz.widgets.event_log import WRITE_GAP


def test_events_get_one_refresh_per_gap_however_many_ask():
    now = [100.0]
    pacer = RefreshPacer(gap=0.1, clock=lambda: now[0])
    assert pacer.ask() == 0.0  # the first event is shown at once
    assert pacer.due and pacer.ask() is None  # the next ones wait for that refresh
    pacer.refreshed()
    now[0] += 0.04
    assert pacer.ask() == pytest.approx(0.06)  # an event right after a refresh waits for the rest of the gap
    pacer.refreshed()
    now[0] += 1.0
    assert pacer.ask() == 0.0


class _Transfers:
    """A session's answer to "how far did each side's last transfer get", set by the test."""

    def __init__(self) -> None:
        self.done: dict[Side, tuple[int, int] | None] = {}

    def last_transfer(self, side: Side) -> tuple[int, int] | None:
        return self.done.get(side)


def test_while_a_transfers_bytes_move_the_screen_is_read_whole_once_a_second_and_again_when_it_ends():
    now = [100.0]
    watch, session = TransferWatch(every=1.0, clock=lambda: now[0]), _Transfers()
    send = Call(7, step("client-send"), "c", "c.sendall(...)", 0.0)
    assert watch.whole_refresh_due(session)  # nothing runs
    watch.hear(StepCalled(seq=1, at=0.0, call=send))
    session.done[Side.CLIENT] = (0, 1000)
    assert watch.whole_refresh_due(session)  # running, but no byte has moved yet: the screen shows it began
    session.done[Side.CLIENT] = (100, 1000)
    assert not watch.whole_refresh_due(session)  # the bytes move: only the bars
    now[0] += 0.5
    session.done[Side.CLIENT] = (400, 1000)
    assert not watch.whole_refresh_due(session)
    now[0] += 0.6
    session.done[Side.CLIENT] = (600, 1000)
    assert watch.whole_refresh_due(session)  # a second since the bytes began to move: the whole screen once
    now[0] += 0.25
    session.done[Side.CLIENT] = (700, 1000)
    assert not watch.whole_refresh_due(session)
    now[0] += 0.25
    assert watch.whole_refresh_due(session)  # stuck (a peer that does not read): refreshed as usual
    session.done[Side.CLIENT] = (1000, 1000)
    assert not watch.whole_refresh_due(session)
    ended = {"waited": 1.0, "blocked": False, "woken_by": None, "cancelled": False, "result": "1000 bytes"}
    watch.hear(StepReturned(seq=2, at=1.0, call=send, **ended))
    assert watch.whole_refresh_due(session)  # it ended: the table catches up at once


def test_while_the_bytes_move_the_bars_move_a_quarter_second_apart_however_often_the_screen_refreshes():
    now = [100.0]
    watch, session = TransferWatch(clock=lambda: now[0]), _Transfers()
    watch.hear(StepCalled(seq=1, at=0.0, call=Call(7, step("client-send"), "c", "c.sendall(...)", 0.0)))
    session.done[Side.CLIENT] = (0, 1000)
    assert watch.whole_refresh_due(session)
    session.done[Side.CLIENT] = (100, 1000)
    assert not watch.whole_refresh_due(session)  # the bytes began to move
    now[0] += 0.1  # a refresh an event asked for
    assert not watch.bars_due()
    now[0] += TRANSFER_BAR_GAP - 0.1
    assert watch.bars_due()
    now[0] += 0.1
    assert not watch.bars_due()
    now[0] += TRANSFER_BAR_GAP
    assert watch.bars_due()


class _Log:
    """What the watch sets on the event log (its pace, and a write of the lines that wait) and on the wire view."""

    def __init__(self) -> None:
        self.write_gap = WRITE_GAP
        self.flushed = 0
        self.held_for: float | None = None

    def flush(self) -> None:
        self.flushed += 1

    def hold(self, seconds: float | None) -> None:
        self.held_for = seconds


def test_the_log_and_the_wire_draw_a_second_apart_while_a_transfers_bytes_are_on_their_way():
    watch, session, log = TransferWatch(), _Transfers(), _Log()
    recv_all = Call(3, step("server-recv-all"), "conn", "received = 0 ...", 0.0)
    watch.hear(StepCalled(seq=1, at=0.0, call=recv_all))
    session.done[Side.SERVER] = (0, 1000)
    watch.pace_drawing(session, log, log)
    assert log.write_gap == WRITE_GAP  # recv all waits, nothing sent yet: the usual pace
    session.done[Side.SERVER] = (10, 1000)
    watch.pace_drawing(session, log, log)
    assert log.write_gap == log.held_for == TRANSFER_WRITE_GAP and not log.flushed
    ended = {"waited": 1.0, "blocked": True, "woken_by": None, "cancelled": False, "result": "1000 bytes in all"}
    watch.hear(StepReturned(seq=2, at=1.0, call=recv_all, **ended))
    watch.pace_drawing(session, log, log)
    assert log.write_gap == WRITE_GAP and log.flushed == 1 and log.held_for is None  # what waited, at once
    watch.pace_drawing(session, log, log)
    assert log.flushed == 1  # only when the pace changes: a burst's lines keep their usual batching


def test_a_panes_list_names_a_socket_by_name_then_closed_and_a_gone_one_is_none():
    session = Session()
    try:
        call = session.perform(step("client-socket"), StepArgs())
        assert call is not None
        tracked = session.sockets[0]
        assert choice_label(tracked) == tracked.name and socket_by_id(session, tracked.id) is tracked
        session.perform(step("client-close"), StepArgs())
        assert choice_label(tracked) == f"{tracked.name} closed"
        assert socket_by_id(session, tracked.id + 1) is None
    finally:
        session.close()
