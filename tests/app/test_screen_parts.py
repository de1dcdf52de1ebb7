"""The session screen's plain parts, without an app: the pace of refreshes, also in a transfer; socket names."""

from __future__ import annotations

import asyncio
import gc

import pytest

from sockviz.core import Call, Session, Side, StepArgs, StepBlocked, StepCalled, StepReturned, step
from sockviz.screens.live import TRANSFER_BAR_GAP, TRANSFER_WRITE_GAP, CollectorHold, RefreshPacer, TransferWatch
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


def test_a_line_in_the_middle_of_a_transfer_waits_for_its_end_and_the_call_itself_does_not():
    """A sendall() that blocks once its bytes move: its line is told at the pace the bytes set, so it waits for the
    transfer's end; the call's own line, told as it starts, is written at the usual pace (at once)."""
    watch, session, log = TransferWatch(), _Transfers(), _Log()
    send = Call(7, step("client-send"), "c", "c.sendall(...)", 0.0)
    called = StepCalled(seq=1, at=0.0, call=send)
    watch.hear(called)
    session.done[Side.CLIENT] = (4096, 1000_000)  # the bytes move already as the screen hears of the call
    watch.pace_before_telling(called, session, log, log)
    assert log.write_gap == WRITE_GAP  # the call the user just made: at once
    watch.pace_drawing(session, log, log)
    assert log.write_gap == TRANSFER_WRITE_GAP
    watch, log = TransferWatch(), _Log()  # the same, with the bytes not moving yet when the call is heard
    watch.hear(called)
    session.done[Side.CLIENT] = (0, 1000_000)
    watch.pace_before_telling(called, session, log, log)
    watch.pace_drawing(session, log, log)
    assert log.write_gap == WRITE_GAP
    session.done[Side.CLIENT] = (200_000, 1000_000)
    blocked = StepBlocked(seq=2, at=0.02, call=send)
    watch.pace_before_telling(blocked, session, log, log)
    assert log.write_gap == TRANSFER_WRITE_GAP  # before its line is told: it waits with what follows


async def test_the_collector_waits_while_a_transfers_bytes_move_and_runs_again_at_its_end():
    assert gc.isenabled()
    watch, session, log = TransferWatch(), _Transfers(), _Log()
    recv_all = Call(3, step("server-recv-all"), "conn", "received = 0 ...", 0.0)
    watch.hear(StepCalled(seq=1, at=0.0, call=recv_all))
    session.done[Side.SERVER] = (0, 1000)
    watch.pace_drawing(session, log, log)
    assert gc.isenabled()  # recv all waits: no bytes move
    session.done[Side.SERVER] = (10, 1000)
    try:
        watch.pace_drawing(session, log, log)
        assert not gc.isenabled() and watch.collector.holding
        ended = {"waited": 1.0, "blocked": True, "woken_by": None, "cancelled": False, "result": "1000 bytes in all"}
        watch.hear(StepReturned(seq=2, at=1.0, call=recv_all, **ended))
        watch.pace_drawing(session, log, log)
        assert gc.isenabled() and not watch.collector.holding
    finally:
        watch.collector.release()
        gc.enable()


async def test_the_collector_waits_from_the_first_refresh_that_sees_the_bytes_move_until_one_sees_them_still():
    """Most sends have no event between their call and their end: a refresh's look at the bytes holds the
    collector, and the next look that finds them where they were lets it go."""
    watch, session = TransferWatch(), _Transfers()
    watch.hear(StepCalled(seq=1, at=0.0, call=Call(7, step("client-send"), "c", "c.sendall(...)", 0.0)))
    session.done[Side.CLIENT] = (0, 1000)
    try:
        watch.whole_refresh_due(session)
        assert gc.isenabled()  # nothing moved yet
        session.done[Side.CLIENT] = (100, 1000)
        watch.whole_refresh_due(session)
        assert not gc.isenabled() and watch.collector.holding
        watch.whole_refresh_due(session)  # stalled: the same count as the last look
        assert gc.isenabled() and not watch.collector.holding
    finally:
        watch.collector.release()
        gc.enable()


async def test_a_transfer_that_stalls_holds_the_collector_no_longer_than_its_limit():
    hold = CollectorHold(seconds=0.05)
    try:
        hold.hold()
        assert not gc.isenabled()
        await asyncio.sleep(0.2)  # the limit's timer is due before this sleep's end, whatever the load
        assert gc.isenabled() and not hold.holding
        gc.disable()  # off for another reason (the app's start-up): a hold neither turns it on nor off
        hold.hold()
        hold.release()
        assert not gc.isenabled()
    finally:
        gc.enable()


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
