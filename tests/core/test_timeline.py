"""The timeline picture, drawn from real sessions on loopback with a clock the test moves.

Real calls run and really block; only the session's clock is set by hand, so
that each call lands in a known column and the whole picture can be compared.
"""

from __future__ import annotations

import pytest

from sockviz.core import StepFinished
from sockviz.core.story.timeline import GLYPHS, LEGEND, SCALES, Ink, Span, Timeline, Window, ink


@pytest.fixture
def drawn(timed):
    """A timed session on loopback with a timeline watching it."""
    timed.timeline = Timeline()
    timed.session.subscribe(timed.timeline.add)
    return timed


def accept_woken_by_connect(drawn) -> None:
    for seconds, step_id in enumerate(("server-socket", "server-bind", "server-listen"), start=1):
        drawn.at(seconds).run(step_id)
    drawn.at(4).start("server-accept")
    drawn.blocked("server-accept")
    drawn.at(8).run("client-socket")
    drawn.at(10).run("client-connect")
    drawn.finished("server-accept")


def test_a_blocked_accept_is_a_bar_that_turns_to_the_connect_that_ended_it(drawn):
    accept_woken_by_connect(drawn)
    drawn.at(12)
    assert drawn.timeline.picture(36, drawn.session.now()) == "\n".join(
        [
            "     ╵0s       ╵5s       ╵10s",
            "   s   ○─b─l─a━━━━━━━━━━━┓────",
            "   c                 ○───c────",
            "conn                     ─────",
        ]
    )
    # 12 s fit in 31 columns at 0.5 s a column: socket() at 1 s is column 2, accept() at 4 s
    # column 8, and its bar runs to 10 s (column 20), where the connect is; conn begins there.


def test_a_join_crosses_the_lanes_between_waker_and_woken(drawn):
    drawn.connected()  # lanes s, c and conn
    drawn.at(6).run("client-socket")  # c2, below them
    drawn.at(7).start("server-accept")
    drawn.blocked("server-accept")
    drawn.at(9).run("client-connect")
    drawn.finished("server-accept", count=2)
    timeline, now = drawn.timeline, drawn.session.now()
    view = Window(scale=0.5).view(now, 24)
    rows = {row.label: row for row in timeline.rows(view)}
    assert list(rows) == ["s", "c", "conn", "c2", "conn2"]
    woke = view.column(9)
    assert rows["s"].cells[woke] == ("┓", Ink.WAITED)  # turned down, towards c2
    assert rows["c"].cells[woke] == rows["conn"].cells[woke] == ("┃", Ink.JOIN)
    assert rows["c2"].cells[woke] == ("c", Ink.CALL)
    assert rows["s"].cells[view.column(7) + 1 : woke] == [("━", Ink.WAITED)] * (woke - view.column(7) - 1)
    assert "woken by client c2.connect()" in timeline.story_at(view)


def test_waiting_then_cancelled_is_drawn_as_it_stood(drawn):
    drawn.connected()
    drawn.at(2).start("client-recv")
    drawn.blocked("client-recv")
    drawn.at(6)
    waiting = Window().view(drawn.session.now(), 40)
    row = next(r for r in drawn.timeline.rows(waiting) if r.label == "c")
    bar = row.cells[waiting.column(2) + 1 : waiting.column(6) + 1]
    assert {ink for _, ink in bar} == {Ink.WAITING} and row.cells[waiting.column(2)][0] == "r"
    assert "recv() is waiting (4.00 s so far)" in drawn.timeline.story_at(waiting)

    drawn.at(7).run("client-cancel")
    drawn.finished("client-recv")
    later = Window().view(drawn.session.now(), 40)
    row = next(r for r in drawn.timeline.rows(later) if r.label == "c")
    assert row.cells[later.column(2)] == ("r", Ink.WAITED)  # SHUT_RD: recv() returns b'' rather than raise
    assert row.cells[later.column(7) - 1] == ("━", Ink.WAITED)
    assert row.cells[later.column(7)][0] == "!"  # the cancel, on the same lane: no join to draw
    assert all(ink is not Ink.JOIN for r in drawn.timeline.rows(later) for _, ink in r.cells)


def test_the_story_line_tells_the_wait_that_ended_last(drawn):
    accept_woken_by_connect(drawn)  # accept() waited from 4 s to 10 s
    as_it_stood = Window().view(9.5, 40)  # a view of the moment before connect()
    assert "s: accept() is waiting (5.50 s so far)" in drawn.timeline.story_at(as_it_stood)
    drawn.at(12).run("server-socket")  # a newer call that neither waits nor fails does not take the line
    story = drawn.timeline.story_at(Window().view(drawn.session.now(), 40))
    assert story.startswith("s: accept() returned after") and "(woken by client c.connect())" in story


def test_the_story_line_is_what_a_look_at_every_call_would_tell(drawn):
    """`story_at` finds its call from sorted lists (a 2,000-lane session has 2,000 calls): the same call as a look
    at every call, at every moment and after every event, also when calls start and return at the same instant."""
    drawn.at(1).run("server-socket")
    drawn.at(1).run("server-bind")  # the same instant
    drawn.at(2).run("server-listen")
    drawn.at(2).run("client-socket")
    drawn.at(3).run("client-connect")
    drawn.at(3).run("server-accept")  # returns at once: the client is queued
    drawn.at(5).start("client-recv")
    drawn.blocked("client-recv")
    drawn.at(8).run("server-send", payload=b"x")
    drawn.finished("client-recv")
    drawn.at(8).run("client-socket")  # c2, the instant recv() returned
    drawn.at(9).run("client-send", payload=b"x")  # c2 is not connected: it raises
    events = list(drawn.events.events)

    def scanned(timeline: Timeline, view: Span) -> str:
        now = view.now
        seen = [m for m in timeline.marks() if m.start <= min(view.end, now)]
        if not seen:
            return "no calls yet"
        telling = [m for m in seen if m.blocked or ink(m, now) is Ink.FAILED] or seen
        return max(telling, key=lambda m: (m.changed(now), m.call.id)).describe(now)

    for told in range(len(events) + 1):  # after each event: calls started and not returned yet, too
        timeline = Timeline()
        for event in events[:told]:
            timeline.add(event)
        for tenth in range(0, 100, 5):
            now = tenth / 10
            for end in (now, now - 2.5, now + 1):
                view = Span(end=end, scale=0.5, columns=20, now=now)
                assert timeline.story_at(view) == scanned(timeline, view), (told, now, end)


def test_a_click_finds_the_call_drawn_under_it(drawn):
    accept_woken_by_connect(drawn)
    view = Window(scale=0.5).view(12.0, 31)
    timeline = drawn.timeline
    assert timeline.mark_at(view, 0, 14).call.step.id == "server-accept"  # on the bar
    assert timeline.mark_at(view, 0, 20).call.step.id == "server-accept"  # on its corner
    assert timeline.mark_at(view, 0, 4).call.step.id == "server-bind"
    assert timeline.mark_at(view, 0, 5) is None  # the socket's line between two calls
    assert timeline.mark_at(view, 1, 20).call.step.id == "client-connect"
    assert timeline.mark_at(view, 7, 0) is None


def test_a_closed_socket_lane_ends_where_close_returned(drawn):
    drawn.at(1).run("client-socket")
    drawn.at(3).run("client-close")
    drawn.at(8)
    view = Window(scale=1.0).view(drawn.session.now(), 12)
    (row,) = drawn.timeline.rows(view)
    assert row.text == " ○─×        "


def test_a_held_window_is_a_still_picture(drawn):
    drawn.connected()
    drawn.at(2).start("server-recv")
    drawn.blocked("server-recv")
    window = Window()
    drawn.at(3)
    window.hold(window.view(drawn.session.now(), 30))
    before = [row.text for row in drawn.timeline.rows(window.view(drawn.session.now(), 30))]
    drawn.at(9).run("client-send", payload=b"x")
    drawn.finished("server-recv")
    drawn.at(12).run("client-socket")
    held = window.view(drawn.session.now(), 30)
    assert [row.text for row in drawn.timeline.rows(held)] == before  # no c2 lane, the bar not grown
    assert "recv() is waiting" in drawn.timeline.story_at(held)
    window.follow()
    following = window.view(drawn.session.now(), 30)
    assert [row.label for row in drawn.timeline.rows(following)][-1] == "c2"


def test_scrolling_back_holds_and_scrolling_to_the_present_follows():
    window = Window(scale=1.0)
    view = window.view(now=100.0, columns=50)
    assert window.following and view.end == 100.0
    window.scroll(view, -20)
    back = window.view(now=130.0, columns=50)
    assert not window.following and back.end == pytest.approx(view.end - 20 * view.scale)
    assert back.now == 100.0  # still the moment it was held at
    window.scroll(back, 1000)
    assert window.following
    window.scroll(window.view(100.0, 50), -(10**6))
    assert window.view(130.0, 50).start == pytest.approx(0.0)  # no further back than the start


def test_zoom_walks_the_scales_and_stays_within_them():
    window = Window()
    view = window.view(now=10.0, columns=40)
    window.zoom(view, -1)
    assert window.scale == SCALES[SCALES.index(view.scale) - 1]
    for _ in range(len(SCALES) + 2):
        window.zoom(window.view(10.0, 40), 1)
    assert window.scale == SCALES[-1]


def test_the_axis_labels_fit_and_do_not_collide():
    timeline = Timeline()
    for now, columns in ((0.04, 60), (3.0, 40), (95.0, 70), (4000.0, 30)):
        view = Window().view(now, columns)
        text = timeline.axis(view).text
        assert len(text) == columns
        labels = text.split()
        assert labels and all(label.startswith("╵") for label in labels)


def test_every_finished_call_of_a_lesson_is_in_the_picture(drawn):
    """Nothing is lost on the way: each call of a whole echo is a mark on its socket's lane."""
    drawn.connected()
    for seconds, (step_id, fields) in enumerate(
        [("client-send", {"payload": b"hi"}), ("server-recv", {}), ("server-send", {"payload": None}),
         ("client-recv", {}), ("server-close-conn", {}), ("client-close", {}), ("server-close", {})],
        start=1,
    ):  # fmt: skip
        drawn.at(seconds * 2).run(step_id, **fields)
    drawn.at(20)
    view = Window(scale=0.5).view(drawn.session.now(), 60)
    rows = {row.label: row.text for row in drawn.timeline.rows(view)}
    assert rows["c"][view.column(2)] == "s" and rows["c"][view.column(8)] == "r"
    assert rows["conn"][view.column(4)] == "r" and rows["conn"][view.column(6)] == "s"
    assert rows["conn"][view.column(10)] == "×" and rows["c"][view.column(12)] == "×"
    assert rows["s"][view.column(14)] == "×"
    for event in drawn.events.of(StepFinished):
        if event.call.started > 0:  # the set-up calls all ran at 0 s and share a column
            assert rows[event.call.socket_name][view.column(event.call.started)] == GLYPHS[event.call.step.action]


def test_the_legend_names_every_mark():
    for action, glyph in GLYPHS.items():
        assert f"{glyph} " in LEGEND, f"the legend does not say what {glyph} ({action}) is"
    assert len(set(GLYPHS.values())) == len(GLYPHS)  # no two calls look alike


def test_calls_in_one_column_are_all_drawn_in_order(drawn):
    """A lesson at full speed makes several calls within a column: each keeps a mark, none hides another."""
    for step_id in ("server-socket", "server-bind", "server-listen"):
        drawn.at(1).run(step_id)  # the same instant, as at full speed
    drawn.at(2).run("server-close")
    view = Window(scale=0.5).view(6.0, 12)
    (row,) = drawn.timeline.rows(view)
    assert row.text.startswith("  ○bl×")  # socket() at 1 s is column 2; bind() and listen() follow it
    assert [drawn.timeline.mark_at(view, 0, column).call.step.id for column in (2, 3, 4, 5)] == [
        "server-socket", "server-bind", "server-listen", "server-close",
    ]  # fmt: skip


def test_calls_at_the_right_edge_move_left_rather_than_out_of_view(drawn):
    drawn.at(1).run("server-socket")
    for step_id in ("server-bind", "server-listen", "server-close"):
        drawn.at(6).run(step_id)  # the newest instant, in the last column of a following view
    view = Window(scale=0.5).view(6.2, 12)
    (row,) = drawn.timeline.rows(view)
    assert row.text.rstrip().endswith("bl×") and row.text.count("○") == 1
    assert len(row.text) == 12
