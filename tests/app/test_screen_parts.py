"""The session screen's plain parts, without an app: the pace of refreshes and a pane's socket names."""

from __future__ import annotations

import pytest

from sockviz.core import Session, StepArgs, step
from sockviz.screens.live import RefreshPacer
from sockviz.screens.targets import choice_label, socket_by_id


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
