"""The share on real loopback sockets, with no screen: a session, its share server, followers' mirrors.

Followers here are the real client (`Connection`) and the real reader (`Feed`, `Mirror`) on an event loop of
the test's own; hostile followers are plain aiohttp clients sending what a follower must not.
"""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest

from sockviz.core import Session, step
from sockviz.core.story.next_steps import next_line
from sockviz.share.client import Connection, Following, Refused
from sockviz.share.mirror import FOLLOWING, Feed, StartedAfresh
from sockviz.share.protocol import (
    Dropped,
    RateLimit,
    answer_frame,
    follow_url,
    parse_address,
    plain_code,
    read_answer,
    same_code,
)
from sockviz.share.server import ShareServer

STEPS = ("server-socket", "server-bind", "server-listen", "client-socket", "client-connect", "server-accept")


class Follower:
    """A follower with the app's own client and reader, on the test's loop; `rejoining`, one that joins again
    by itself after a loss, as the follower app's does."""

    def __init__(self, share: ShareServer, code: str | None = None, *, rejoining: bool = False) -> None:
        self.shown: list[object] = []
        self.lost: list[str] = []
        self.rejoined = asyncio.Event()
        self.feed = Feed(self._show)
        url = follow_url("127.0.0.1", share.port, code or share.code)
        self.connection: Connection | Following = (
            Following(url, self.feed.frame, self.lost.append, self.rejoined.set, first_retry=0.05)
            if rejoining
            else Connection(url, self.feed.frame)
        )
        self.task = asyncio.get_running_loop().create_task(self.connection.run())

    def _show(self, shown: object) -> None:
        self.shown.append(shown)
        if isinstance(shown, StartedAfresh):
            self.feed.release()  # as the follower app does, once its screen is made again

    def messages(self, kind: str) -> list[dict]:
        return [m for m in self.shown if isinstance(m, dict) and m.get("share") == kind]


async def until(condition, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


def rows(view) -> list[tuple]:
    """What the table shows of each socket: its name, role and snapshot (repr, kernel state and queues)."""
    return [(t.name, t.role, t.closed, t.snapshot().repr, t.snapshot().kernel) for t in view.sockets]


def test_codes_addresses_and_the_one_frame_a_follower_may_send():
    assert plain_code(" k7qf-3m ") == "K7QF3M" and same_code("k7qf3m", "K7QF3M") and not same_code("K7QF3N", "K7QF3M")
    assert parse_address("127.0.0.1") == ("127.0.0.1", 8765)
    assert parse_address("[::1]:9000") == ("::1", 9000) and parse_address("::1") == ("::1", 8765)
    with pytest.raises(ValueError, match="not a port"):
        parse_address("127.0.0.1:99999")
    assert read_answer(answer_frame(3, "waits"), 3, ("waits", "returns", "fails")).choice == "waits"
    for frame, why in ((b"\x00", "not text"), ("{", "malformed"), ('{"type": "step", "step": "server-socket"}',
                       "not an answer"), (answer_frame(2, "waits"), "another question"),
                       (answer_frame(3, "explodes"), "not a choice"), ("x" * 5000, "oversized")):  # fmt: skip
        with pytest.raises(Dropped, match=why):
            read_answer(frame, 3, ("waits", "returns", "fails"))
    with pytest.raises(Dropped, match="no open question"):
        read_answer(answer_frame(1, "waits"), None, ())
    limit = RateLimit(10, now=0.0)
    assert sum(limit.allow(0.0) for _ in range(100)) == 20  # a burst of twice the rate, then nothing
    assert limit.allow(0.1)  # a tenth of a second later, one more


async def test_followers_early_and_late_see_the_session_as_it_is(shared):
    session, share, args = shared
    early = Follower(share)
    await until(lambda: share.followers == 1, "the follower to join")
    for name in STEPS:
        await asyncio.to_thread(session.perform, step(name), args)
    await until(lambda: rows(early.feed.mirror) == rows(session), "the early follower's table")
    late = Follower(share)
    await until(lambda: rows(late.feed.mirror) == rows(session), "the late follower's table")
    for follower in (early, late):
        mirror = follower.feed.mirror
        assert mirror.events_seen == 15  # six calls and their ends, three sockets added
        await until(lambda m=mirror: m.guide() == "next: E r the client sends, the server receives", "the guide")
        assert mirror.current(step("server-recv").target).name == "conn"
        assert mirror.refusal(step("server-socket")) == FOLLOWING
    await until(lambda: share.followers == 2, "the lecturer to hear of both")  # from the share's process
    assert not share.dropped


async def test_a_follower_who_joins_a_quiet_lecturer_knows_the_lecturers_time(shared):
    """The follower reckons the lecturer's present (for the times of its own notes) from the share's clock line,
    not from the newest event so far, which a quiet lecturer made long before the join."""
    session, share, args = shared
    for name in STEPS[:3]:
        await asyncio.to_thread(session.perform, step(name), args)
    quiet_since = session.now()
    await until(lambda: session.now() - quiet_since > 0.5, "the lecturer to be quiet a while")
    joining = session.now()
    late = Follower(share)
    await until(lambda: rows(late.feed.mirror) == rows(session), "the catch-up (one frame, the clock line last)")
    caught_up = session.now()
    behind = session.now() - late.feed.mirror.now()
    assert -0.001 <= behind <= caught_up - joining  # at most the join's transit; the newest event is older


async def test_a_wrong_join_code_is_refused_before_any_line(shared):
    _, share, _ = shared
    follower = Follower(share, code="AAAAAA" if share.code != "AAAAAA" else "BBBBBB")
    with pytest.raises(Refused, match="join code is wrong"):
        await follower.task
    await until(lambda: share.dropped["wrong code"] == 1, "the lecturer to hear of it")
    assert follower.feed.lines == 0 and share.followers == 0


async def test_hostile_followers_are_dropped_and_counted_and_the_session_never_hears(shared):
    session, share, args = shared
    heard = []
    session.subscribe(heard.append)
    good = Follower(share)
    url = follow_url("127.0.0.1", share.port, share.code)
    async with aiohttp.ClientSession() as http:
        garbage = await http.ws_connect(url)
        await garbage.send_str("garbage {")
        await garbage.send_bytes(b"\xff\x00 binary")
        await garbage.send_str(json.dumps({"type": "step", "step": "server-socket"}))  # a command: never carried
        await garbage.send_str(answer_frame(1, "waits"))  # no question is open
        big = await http.ws_connect(url)
        await big.send_str("x" * (1 << 20))  # 1 MB: the share ends that connection
        flood = await http.ws_connect(url)
        for _ in range(1000):
            await flood.send_str(answer_frame(1, "waits"))
        await until(lambda: share.dropped["flooding"] + share.dropped["no open question"] == 1001, "the flood")
        await until(lambda: share.dropped["oversized"] == 1, "the 1 MB frame to be refused")
        assert share.dropped["malformed"] == 1 and share.dropped["not text"] == 1
        assert share.dropped["not an answer"] == 1
        assert share.dropped["flooding"] > 900  # all but the rate's allowance (which meets no open question)
        assert heard == []  # the session was told nothing
        for name in STEPS[:3]:  # and goes on as before, its followers with it
            await asyncio.to_thread(session.perform, step(name), args)
        await until(lambda: rows(good.feed.mirror) == rows(session), "the good follower's table")
        assert len(heard) == 7 and not any(
            type(event).__name__ == "ListenerFailed" for event in heard
        )  # 3 calls, 3 ends, SocketAdded
        for websocket in (garbage, big, flood):
            await websocket.close()


async def test_the_class_answers_a_question_and_each_follower_hears_if_they_were_right(shared):
    _, share, _ = shared
    students = [Follower(share) for _ in range(3)]
    await until(lambda: share.followers == 3, "three followers")
    choices = ("waits", "returns", "fails")
    share.ask("server-accept", "will accept() wait, return at once, or fail?", choices, hidden=True)
    await until(lambda: all(s.messages("question") for s in students), "the question to reach everyone")
    assert students[0].messages("question")[0]["tally"] is None  # hidden until the reveal
    for student, choice in zip(students, ("waits", "returns", "waits"), strict=True):
        student.connection.answer(1, choice)
    students[1].connection.answer(1, "waits")  # a student changes their mind: one answer each
    await until(lambda: share.tally() == ({"waits": 3, "returns": 0, "fails": 0}, 3), "the tally")
    assert not any(s.messages("tally") for s in students)  # hidden: the class does not see it
    share.show_tally(True)
    await until(lambda: all(s.messages("question")[-1]["tally"] for s in students), "the shown tally")
    share.reveal("waits", "the accept queue was empty: 0/128 queued")
    await until(lambda: all(s.messages("reveal") for s in students), "the reveal")
    reveal = students[1].messages("reveal")[0]
    assert reveal["answer"] == "waits" and reveal["yours"] == "waits" and reveal["tally"]["waits"] == 3
    assert share.tally() is None


async def test_in_predict_mode_a_followers_guide_says_no_more_than_the_lecturers(shared):
    """The lecturer's predict mode hides the hints and the guide's foretelling until the class answers: the
    share carries the mode, so a follower is not told `(it waits for one)` before the class has answered."""
    session, share, args = shared
    follower = Follower(share)
    await until(lambda: share.followers == 1, "the follower to join")
    for name in STEPS[:3]:
        await asyncio.to_thread(session.perform, step(name), args)
    mirror = follower.feed.mirror
    await until(lambda: "(it waits for one)" in mirror.guide(), "the guide's foretelling, out of predict mode")
    assert mirror.predict(step("server-accept")) is not None and not mirror.predicting
    share.predicting = True
    await until(lambda: mirror.predicting, "the lecturer's predict mode")
    assert mirror.guide() == next_line(session, target=args.endpoint, telling=False)
    assert "accept()" in mirror.guide() and "waits" not in mirror.guide()
    assert mirror.predict(step("server-accept")) is None  # the hint is left out as the lecturer's screen does
    share.predicting = False
    await until(lambda: "(it waits for one)" in mirror.guide(), "the foretelling back with the mode off")


async def test_after_a_reset_a_followers_guide_is_the_fresh_sessions_even_when_it_reads_as_before(shared):
    """A reset (0, or ctrl+r for a lesson) starts a fresh session, and each follower a fresh mirror with no facts
    yet. The fresh session's facts often read as the old one's last did (ctrl+r before the lesson's first step:
    no socket, the lesson's guide): they are sent all the same, or the follower's `next:` stays empty until the
    lecturer acts."""
    session, share, args = shared
    share.guide = "next: the lesson panel's next line (the lecturer runs it)"
    follower = Follower(share)
    await until(lambda: follower.feed.mirror.guide() == share.guide, "the guide before the reset")
    first = follower.feed.mirror
    share.closing()
    session.close()
    fresh = Session()
    try:
        share.share(fresh, args.endpoint, listen=True)
        await until(lambda: follower.feed.mirror is not first, "the follower to start afresh")
        await until(lambda: follower.feed.mirror.guide() == share.guide, "the fresh session's guide")
    finally:
        fresh.close()
