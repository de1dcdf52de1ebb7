"""Scenarios: checked line by line before anything runs, played headless, and every built-in lesson passes."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys

import pytest
from helpers import free_port

from sockviz.core import Endpoint
from sockviz.core.scenario import lessons as built_in
from sockviz.core.scenario.language import Expect, Pause, Say, ScenarioError, StepLine, parse
from sockviz.core.story.recording.format import SocketsRecord, read_lines
from sockviz.core.story.timeline import LEGEND
from sockviz.headless import EXIT_BAD_SCENARIO, EXIT_EXPECT_FAILED, run


def endpoint(family: socket.AddressFamily = socket.AF_INET) -> Endpoint:
    host = "::1" if family == socket.AF_INET6 else "127.0.0.1"
    return Endpoint(family, host, free_port(host))


def test_a_scenario_parses_into_its_lines():
    lines = parse(
        """
        # a comment
        server listen backlog=2   # and a trailing one
        client send "hi there\\n"
        client send size=64k
        client shutdown SHUT_WR
        server option SO_RCVBUF=16384
        pause 0.5
        say "accept() waits here"
        expect failed client connect ECONNREFUSED
        """
    )
    kinds = [type(line) for line in lines]
    assert kinds == [StepLine, StepLine, StepLine, StepLine, StepLine, Pause, Say, Expect]
    assert lines[0].args.backlog == 2 and lines[0].line == 3
    assert lines[1].args.payload == b"hi there\n"
    assert lines[2].args.bulk == 65536
    assert lines[3].args.how == socket.SHUT_WR
    assert lines[4].args.option.value == 16384
    assert lines[7].errno_name == "ECONNREFUSED"


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("server socket\nserver frobnicate", 2, "has no step 'frobnicate'"),
        ("router accept", 1, "not a side"),
        ("server socket\n\nclient send 'unclosed", 3, "close the quotes"),
        ("pause soon", 1, "pause takes a number"),
        ("say", 1, "say takes one quoted text"),
        ("expect done server accept", 1, "expect STATE SIDE STEP"),
        ("expect returned server accept EBADF", 1, "only `expect failed` takes an errno"),
        ("server listen backlog=many", 1, "does not take 'backlog=many'"),
        ("client send size=huge", 1, "a number of bytes"),
        ('client send "\\q"', 1, "not an escape"),
        ("server bind extra", 1, "does not take 'extra'"),
        ("family ipx", 1, "write `family ipv4` or `family ipv6`"),
        ("server socket\nfamily ipv6", 2, "before the first step"),
    ],
)
def test_a_bad_line_is_named_and_nothing_runs(text, line, reason):
    with pytest.raises(ScenarioError) as refused:
        parse(text)
    assert refused.value.line == line and reason in refused.value.reason


def test_a_malformed_scenario_runs_nothing(capsys):
    out = io.StringIO()
    assert run("server socket\nserver bind\nclient frobnicate\n", endpoint(), out=out) == EXIT_BAD_SCENARIO
    assert out.getvalue() == ""
    assert "line 3" in capsys.readouterr().err


@pytest.mark.parametrize("name", built_in.names())
def test_every_built_in_lesson_passes(name):
    family = socket.AF_INET6 if name == "ipv6" else socket.AF_INET
    out = io.StringIO()
    code = run(built_in.text(name), endpoint(family), speed=20, out=out)
    assert code == 0, out.getvalue()
    assert built_in.summary(name)


def test_a_failed_expect_is_told_and_sets_the_exit_code():
    out = io.StringIO()
    code = run("server socket\nserver bind\nserver listen\nexpect returned server accept\n", endpoint(), out=out)
    assert code == EXIT_EXPECT_FAILED
    assert "expect failed at line 4: server-accept was not run, not returned" in out.getvalue()


def test_json_lines_are_the_session_format():
    """`--json` prints what `--record` writes: a header, the session, its events with their log lines, its sockets."""
    out, recorded = io.StringIO(), io.StringIO()
    text = 'server socket\nsay "hello"\nclient recv\nexpect refused client recv\n'
    assert run(text, endpoint(), as_json=True, record=recorded, out=out) == 0
    raw = [json.loads(line) for line in out.getvalue().splitlines()]
    assert raw[0] == {**raw[0], "record": "header", "format": "sockviz-session", "version": 2, "source": "run"}
    assert raw[2] == {**raw[2], "record": "event", "type": "StepCalled"} and raw[2]["call"]["step"] == "server-socket"
    said = [r for r in raw if r["record"] == "say"]
    assert said == [{**said[0], "line": 2, "text": "hello"}]
    refused = [r for r in raw if r.get("type") == "StepRefused"]
    assert refused and "no client socket yet" in refused[0]["text"]
    assert "end" in [r["record"] for r in raw[-2:]]  # the end, and perhaps the reading of what it closed
    printed, written = (read_lines(text.getvalue().splitlines()) for text in (out, recorded))
    assert any(isinstance(record, SocketsRecord) for record in written)
    # The same records but for when each read the sockets and the clock:
    assert [
        (type(r), getattr(r, "event", None), getattr(r, "text", None))
        for r in printed
        if not isinstance(r, SocketsRecord)
    ] == [
        (type(r), getattr(r, "event", None), getattr(r, "text", None))
        for r in written
        if not isinstance(r, SocketsRecord)
    ]


def test_sockviz_run_from_the_command_line():
    port = free_port()
    done = subprocess.run(
        [sys.executable, "-m", "sockviz", "run", "--lesson", "refused", "--port", str(port)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "ConnectionRefusedError ECONNREFUSED (111)" in done.stdout
    assert "» No socket listens there any more" in done.stdout


def test_sockviz_run_ends_with_the_timeline():
    """`--timeline` draws the whole run after its story: a lane per socket, the legend under it."""
    scenario = (
        "server socket\nserver bind\nserver listen\nserver accept\npause 0.3\nclient socket\nclient connect\n"
        "expect returned server accept\n"  # before the run ends and closes what is still running
    )
    out = io.StringIO()
    assert run(scenario, endpoint(), timeline_width=60, out=out) == 0
    picture = out.getvalue().split("\n\n")[-2].splitlines()
    assert picture[0].lstrip().startswith("╵0")  # the axis
    lanes = {line.split()[0]: line for line in picture[1:]}
    assert list(lanes) == ["s", "c", "conn"]
    assert "a━" in lanes["s"] and "┓" in lanes["s"]  # accept() waited, then turned to the connect()
    assert "c" in lanes["c"] and all(len(line) <= 60 for line in picture)
    assert out.getvalue().rstrip().endswith(LEGEND)

    out = io.StringIO()
    run(scenario, endpoint(), as_json=True, timeline_width=60, out=out)
    record = next(r for r in map(json.loads, out.getvalue().splitlines()) if r["record"] == "timeline")
    assert record["lines"][1].split()[0] == "s"
