"""Lessons that never break each other: TIME_WAIT, the address family, and a step that fails unexpectedly.

Played headless on real loopback sockets, one lesson after another on the same port, as a
lecturer does with `sockviz run --lesson echo; sockviz run --lesson blocking-order`.
"""

from __future__ import annotations

import io
import re
import socket
import subprocess
import sys

from helpers import free_port, time_wait_on, time_wait_without_reuse_address

from sockviz.core import Endpoint, Session
from sockviz.core.scenario import lessons
from sockviz.core.scenario.language import parse
from sockviz.core.scenario.player import Player
from sockviz.headless import EXIT_EXPECT_FAILED, run


def test_blocking_order_after_echo_on_the_same_port_binds_despite_time_wait():
    port = free_port()
    first = io.StringIO()
    assert run(lessons.text("echo"), Endpoint(socket.AF_INET, "127.0.0.1", port), speed=50, out=first) == 0
    assert time_wait_on(port), "echo's server closes first, so its connection lingers on the port"
    second = io.StringIO()
    code = run(lessons.text("blocking-order"), Endpoint(socket.AF_INET, "127.0.0.1", port), speed=50, out=second)
    assert code == 0, second.getvalue()
    story = second.getvalue()
    assert f"bind() returned: laddr is now ('127.0.0.1', {port})" in story
    assert "EADDRINUSE" not in story and "ephemeral" not in story
    assert "both sockets set SO_REUSEADDR" in story  # the lesson says why it sets the option


def test_a_lesson_moves_off_a_port_held_where_its_reuseaddr_cannot_pass():
    """The echo by hand (no SO_REUSEADDR) left the server's port in TIME_WAIT: the lesson's own SO_REUSEADDR
    cannot get past it, so the lesson runs on the next port its bind() can have, and says why."""
    port = free_port()
    time_wait_without_reuse_address(port)
    out = io.StringIO()
    code = run(lessons.text("echo"), Endpoint(socket.AF_INET, "127.0.0.1", port), speed=50, out=out)
    story = out.getvalue()
    assert code == 0, story
    moved = re.search(r"this lesson runs on port (\d+) instead", story)
    assert moved, story
    assert f"127.0.0.1:{port} ⇄ 127.0.0.1:" in story and "in TIME_WAIT" in story  # what the kernel holds
    assert f"bind() returned: laddr is now ('127.0.0.1', {moved[1]})" in story
    assert "bind() failed" not in story


def test_sockviz_run_twice_from_the_command_line():
    port = str(free_port())
    for name in ("echo", "blocking-order"):
        done = subprocess.run(
            [sys.executable, "-m", "sockviz", "run", "--lesson", name, "--port", port, "--speed", "50"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr


def test_the_ipv6_lesson_switches_to_ipv6_without_dash_6():
    out = io.StringIO()
    code = run(lessons.text("ipv6"), Endpoint(socket.AF_INET, "127.0.0.1", free_port("::1")), speed=50, out=out)
    story = out.getvalue()
    assert code == 0, story
    assert "this lesson runs over IPv6, so it uses ::1" in story
    assert "socket.socket(socket.AF_INET6, socket.SOCK_STREAM)" in story and "AF_INET," not in story
    assert "laddr is now ('::1'," in story


def test_a_player_on_the_wrong_family_stops_at_the_family_line_and_makes_no_socket():
    session = Session()
    said: list[str] = []
    player = Player(session, Endpoint(socket.AF_INET, "127.0.0.1", free_port()), lambda _, text: said.append(text))
    try:
        verdict = player.play(parse("family ipv6\nserver socket\n"))
    finally:
        player.stop()
        session.close()
    assert not verdict.passed and "runs over IPv6" in verdict.failures[0] and said == verdict.failures
    assert session.sockets == ()


def test_a_failed_bind_stops_the_lesson_with_the_reason():
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    out = io.StringIO()
    try:
        code = run(lessons.text("blocking-order"), Endpoint(socket.AF_INET, "127.0.0.1", port), out=out)
    finally:
        holder.close()
    story = out.getvalue()
    assert code == EXIT_EXPECT_FAILED
    assert "the lesson stops at line 5 (server bind): bind() failed with OSError EADDRINUSE (98)" in story
    assert "this socket's SO_REUSEADDR does not get past it: a listener holds its port" in story  # the lesson set it
    assert "s.listen()" not in story and "connect(" not in story  # nothing cascades after it


def test_a_stopped_lesson_says_it_stopped_rather_than_that_an_expect_failed():
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    session = Session()
    player = Player(session, Endpoint(socket.AF_INET, "127.0.0.1", holder.getsockname()[1]), lambda *_: None)
    try:
        verdict = player.play(parse("server socket\nserver bind\nserver listen\n"))
    finally:
        player.stop()
        session.close()
        holder.close()
    assert verdict.summary.startswith("stopped: the lesson stops at line 2 (server bind): bind() failed")
    assert "expect failed" not in verdict.summary
