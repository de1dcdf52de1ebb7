"""A lesson's own pace, and the guide's word on what to press next, on real loopback sockets."""

from __future__ import annotations

import socket

import pytest
from helpers import wait_for

from sockviz.core import Endpoint, StepArgs, step
from sockviz.core.model.options import option_setting
from sockviz.core.model.steps import Side, Target
from sockviz.core.scenario.language import Pace, Say, ScenarioError, parse
from sockviz.core.scenario.player import Player
from sockviz.core.story.next_steps import fitted, next_line, suggest


def test_pace_is_a_line_of_its_own_and_checked():
    lines = parse('pace 2\nsay "hello"\n')
    assert isinstance(lines[0], Pace) and lines[0].seconds == 2 and isinstance(lines[1], Say)
    with pytest.raises(ScenarioError, match="line 1: pace takes"):
        parse("pace soon\n")


def test_a_paced_lesson_waits_after_each_say_and_says_it(loopback):
    said: list[str] = []
    player = Player(loopback.session, loopback.endpoint, lambda line, text: said.append(text))
    outcome = player.play(parse('pace 0\nsay "one"\nserver socket\nsay "two"\n'))
    assert outcome.passed and said == ["one", "two"] and player.pace == 0
    assert [t.name for t in loopback.session.sockets] == ["s"]


def keys(session) -> list[str]:
    return [s.keys for s in suggest(session)]


def test_the_guide_follows_the_session_step_by_step(loopback):
    assert keys(loopback.session) == ["s"]
    loopback.run("server-socket")
    assert keys(loopback.session) == ["b"]
    loopback.run("server-bind")
    assert keys(loopback.session) == ["l"]
    loopback.run("server-listen")
    assert keys(loopback.session) == ["a", "S"]
    loopback.run("client-socket")
    assert keys(loopback.session) == ["a", "C"]
    loopback.run("client-connect")
    assert keys(loopback.session) == ["a"]
    loopback.run("server-accept")
    assert keys(loopback.session) == ["E r"]
    loopback.run("client-send", payload=b"hi")
    loopback.run("server-recv")
    assert keys(loopback.session) == ["e R"]
    assert next_line(loopback.session).startswith("next: e R ")


def test_the_guide_names_the_step_that_can_run_next_not_a_refused_one(loopback):
    """Sent but not yet received: the echo (e) would be refused, so the guide names r; echoed but not read:
    closing would reset the connection, so it names R before close."""
    for step_id in ("server-socket", "server-bind", "server-listen", "client-socket", "client-connect"):
        loopback.run(step_id)
    loopback.run("server-accept")
    loopback.run("client-send", payload=b"hi")
    assert keys(loopback.session) == ["r"]
    loopback.run("server-recv")
    loopback.run("server-send")
    assert keys(loopback.session) == ["R"]
    loopback.run("client-recv")
    assert keys(loopback.session) == ["x X"]


def test_the_guide_names_what_wakes_a_blocked_accept(loopback):
    for step_id in ("server-socket", "server-bind", "server-listen"):
        loopback.run(step_id)
    loopback.start("server-accept")
    wait_for(lambda: keys(loopback.session) == ["S C"], what="the guide to name the client's steps")


def test_the_guide_names_connect_only_once_someone_listens(loopback):
    loopback.run("client-socket")
    assert keys(loopback.session) == ["s"]  # connect() now would only be refused: the server comes first


def test_in_split_mode_the_guide_names_only_this_sides_keys(loopback):
    """`sockviz server` against nc: no client key is named (the client is nc); `sockviz client`: no server key."""
    line = lambda only: next_line(loopback.session, only)  # noqa: E731
    assert line(Side.CLIENT) == "next: S the client's socket()"
    for step_id in ("server-socket", "server-bind", "server-listen"):
        loopback.run(step_id)
    loopback.start("server-accept")
    wait_for(lambda: "a peer connects from outside" in line(Side.SERVER), what="the guide to name the peer")
    assert " S " not in line(Side.SERVER) and " C " not in line(Side.SERVER)
    with socket.create_connection((loopback.endpoint.host, loopback.endpoint.port)) as peer:  # nc, as it were
        loopback.finished("server-accept")
        assert line(Side.SERVER).startswith("next: r recv()")
        peer.sendall(b"hi")
        loopback.run("server-recv")
        assert line(Side.SERVER).startswith("next: e ")
        loopback.run("server-send")
        assert line(Side.SERVER).startswith("next: x ")
    loopback.run("client-socket")
    assert line(Side.CLIENT).startswith("next: C connect()")
    loopback.run("client-connect")
    assert line(Side.CLIENT).startswith("next: E ")
    loopback.run("client-send", payload=b"hi")
    assert line(Side.CLIENT).startswith("next: R recv()")


def test_after_a_failed_bind_the_guide_sends_the_client_where_the_listener_really_is(loopback):
    """Another program holds the top bar's port, so bind() fails and listen() binds the wildcard on an ephemeral
    port: a client going to the bar's port would not reach s. The guide names the port to set first, and it is
    right: a connect() to the bar's port leaves accept() blocked, one to the port it names wakes it."""
    bar = loopback.endpoint
    with socket.create_server((bar.host, bar.port)) as holder:
        loopback.run("server-socket")
        assert "EADDRINUSE" in str(loopback.run("server-bind").error)
        loopback.run("server-listen")
        port = loopback.session.current(Target.LISTENER).bound_port
        assert port not in (None, bar.port)
        loopback.start("server-accept")
        loopback.blocked("server-accept")
        guide = next_line(loopback.session, target=bar)
        assert f"next: set the port to {port} (s is at 0.0.0.0:{port}), then S C a client connects" in guide, guide
        assert "cannot" not in guide
        unknown = next_line(loopback.session)  # no top bar to read: where s is, as a condition
        assert f"accept() wakes (if it goes to 0.0.0.0:{port})" in unknown, unknown
        loopback.run("client-socket")
        assert f"set the port to {port} (s is at 0.0.0.0:{port}), then C connect()" in next_line(
            loopback.session, target=bar
        )
        with socket.create_connection((bar.host, bar.port)):  # where the bar's port goes: to the holder
            holder.accept()[0].close()
        assert not loopback.events.finished("server-accept")  # ...and accept() still waits
        there = Endpoint(bar.family, bar.host, port)
        assert "set the port" not in next_line(loopback.session, target=there)
        loopback.session.perform(step("client-connect"), StepArgs(family=bar.family, endpoint=there))
        loopback.finished("server-accept")


def test_the_guide_names_the_host_and_family_the_client_must_use(loopback):
    loopback.server_listening()  # on 127.0.0.1 and the fixture's port
    loopback.start("server-accept")
    loopback.blocked("server-accept")
    bar = loopback.endpoint
    assert "then S C" not in next_line(loopback.session, target=bar)  # the bar's address reaches s: as it was
    assert "S C a client connects" in next_line(loopback.session, target=bar)
    other_host = next_line(loopback.session, target=Endpoint(bar.family, "127.0.0.2", bar.port))
    assert f"next: set the host to 127.0.0.1 (s is at 127.0.0.1:{bar.port}), then S C" in other_host, other_host
    v6 = next_line(loopback.session, target=Endpoint(socket.AF_INET6, "::1", bar.port))
    assert f"next: switch to IPv4 (6) (s is at 127.0.0.1:{bar.port}), then S C" in v6, v6


def test_in_predict_mode_the_guide_names_the_step_but_not_what_it_will_do(loopback):
    """Predict mode asks the student whether accept() waits: the guide must not have said so already."""
    loopback.server_listening()
    assert "a accept() takes a client (it waits for one)" in next_line(loopback.session)
    asked = next_line(loopback.session, telling=False)
    assert "a accept() takes a client" in asked and "waits" not in asked, asked


def test_the_guide_says_accept_returns_at_once_when_a_client_waits_in_the_queue(loopback):
    """The README's lesson: C before a, and the connection waits in the listener's queue. accept() then takes it
    at once: the guide must not say that it waits, nor, on a non-blocking listener, that it waits when it raises."""
    loopback.server_listening()
    loopback.run("client-socket")
    loopback.run("client-connect")
    said = next_line(loopback.session)
    assert "a accept() takes a client" in said and "it waits for one" not in said, said
    assert "1 connection waits in the queue: returns at once" in said, said
    loopback.run("server-accept")  # the queue is empty again; s made non-blocking raises instead of waiting
    loopback.run("server-option", option=option_setting("setblocking", "0"))
    loopback.run("server-close-conn")
    said = next_line(loopback.session)
    assert "a accept() takes a client" in said and "waits for one" not in said, said
    assert "BlockingIOError" in said, said


def test_the_split_guide_says_recv_returns_at_once_when_the_peers_bytes_came_first(loopback):
    """`sockviz server` against nc: a line typed in nc before r waits in conn, and recv() takes it at once."""
    loopback.connected()
    assert "recv() what the peer sends (it waits for it)" in next_line(loopback.session, only=Side.SERVER)
    loopback.run("client-send", payload=b"hello")
    wait_for(lambda: "5 bytes are waiting" in next_line(loopback.session, only=Side.SERVER), what="the bytes in")
    assert "waits for it" not in next_line(loopback.session, only=Side.SERVER)


def test_a_guide_too_long_for_its_border_keeps_whole_suggestions_first():
    line = "next: a accept() takes a client (it waits for one) · S a client's socket()"
    assert fitted(line, len(line)) == line
    assert fitted(line, 60) == "next: a accept() takes a client (it waits for one)"
    assert fitted(line, 40) == "next: a accept() takes a client"
    assert fitted(line, 20) == "next: a accept() ta…" and len(fitted(line, 20)) == 20


def test_a_guides_aside_with_brackets_of_its_own_is_left_out_whole():
    line = "next: a accept() takes a client (2 connections (queued) wait: returns at once)"
    assert fitted(line, 40) == "next: a accept() takes a client"
