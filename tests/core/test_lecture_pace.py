"""A lesson's own pace, and the guide's word on what to press next, on real loopback sockets."""

from __future__ import annotations

import pytest
from helpers import wait_for

from sockviz.core.scenario.language import Pace, Say, ScenarioError, parse
from sockviz.core.scenario.player import Player
from sockviz.core.story.next_steps import next_line, suggest


def test_pace_is_a_line_of_its_own_and_checked():
    lines = parse('pace 2\nsay "hello"\n')
    assert isinstance(lines[0], Pace) and lines[0].seconds == 2 and isinstance(lines[1], Say)
    with pytest.raises(ScenarioError, match="line 1: pace takes"):
        parse("pace soon\n")


def test_a_paced_lesson_waits_after_each_say_and_says_it(lesson):
    said: list[str] = []
    player = Player(lesson.session, lesson.endpoint, lambda line, text: said.append(text))
    outcome = player.play(parse('pace 0\nsay "one"\nserver socket\nsay "two"\n'))
    assert outcome.passed and said == ["one", "two"] and player.pace == 0
    assert [t.name for t in lesson.session.sockets] == ["s"]


def keys(session) -> list[str]:
    return [s.keys for s in suggest(session)]


def test_the_guide_follows_the_session_step_by_step(lesson):
    assert keys(lesson.session) == ["s"]
    lesson.run("server-socket")
    assert keys(lesson.session) == ["b"]
    lesson.run("server-bind")
    assert keys(lesson.session) == ["l"]
    lesson.run("server-listen")
    assert keys(lesson.session) == ["a", "S"]
    lesson.run("client-socket")
    assert keys(lesson.session) == ["a", "C"]
    lesson.run("client-connect")
    assert keys(lesson.session) == ["a"]
    lesson.run("server-accept")
    assert keys(lesson.session) == ["E r"]
    lesson.run("client-send", payload=b"hi")
    lesson.run("server-recv")
    assert keys(lesson.session) == ["e R"]
    assert next_line(lesson.session).startswith("next: e R ")


def test_the_guide_names_what_wakes_a_blocked_accept(lesson):
    for step_id in ("server-socket", "server-bind", "server-listen"):
        lesson.run(step_id)
    lesson.start("server-accept")
    wait_for(lambda: keys(lesson.session) == ["S C"], what="the guide to name the client's steps")


def test_the_guide_names_connect_only_once_someone_listens(lesson):
    lesson.run("client-socket")
    assert keys(lesson.session) == ["s"]  # connect() now would only be refused: the server comes first
