"""The packets behind the calls, captured on lo (as root, which CI is)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time

import pytest

from sockviz.core.kernel.capture import NOT_PERMITTED, WireCapture, parse_frame
from sockviz.core.story.owners import owner_of

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="a raw socket on lo needs root")


@pytest.fixture
def wire(lesson):
    segments = []
    capture = WireCapture(lesson.session.uses_port, segments.extend, lesson.session.now)
    assert capture.start() is None
    yield capture, segments
    capture.stop()


def cycle(lesson) -> None:
    """Connect, send 42 bytes, read them, then the client closes first and the server after."""
    for step_id in ("server-socket", "server-bind", "server-listen", "client-socket", "client-connect"):
        lesson.run(step_id)
    lesson.run("server-accept")
    time.sleep(0.1)
    lesson.run("client-send", payload=b"Hello, Wireshark. You are an amazing tool!")
    time.sleep(0.1)
    lesson.run("server-recv")
    lesson.run("client-close")
    time.sleep(0.2)  # the FIN's ACK is delayed (about 40 ms)
    lesson.run("server-close-conn")
    time.sleep(0.2)


@root_only
def test_one_cycle_is_the_textbook_sequence(lesson, wire):
    capture, segments = wire
    cycle(lesson)
    capture.stop()
    port = lesson.endpoint.port
    seen = [("c>s" if s.dst[1] == port else "s>c", s.flags, s.seq, s.ack, s.length) for s in segments]
    assert seen == [
        ("c>s", "SYN", 0, 0, 0),
        ("s>c", "SYN-ACK", 0, 1, 0),
        ("c>s", "ACK", 1, 1, 0),
        ("c>s", "PSH-ACK", 1, 1, 42),
        ("s>c", "ACK", 1, 43, 0),
        ("c>s", "FIN-ACK", 43, 1, 0),
        ("s>c", "ACK", 1, 44, 0),
        ("s>c", "FIN-ACK", 1, 44, 0),
        ("c>s", "ACK", 44, 2, 0),
    ]
    assert segments[3].preview.startswith(b"Hello, Wireshark")
    assert owner_of(lesson.session.sockets, segments[0].src, segments[0].dst) == "c"
    assert owner_of(lesson.session.sockets, segments[1].src, segments[1].dst) == "conn"


@root_only
def test_ipv6_segments_are_parsed(lesson6):
    segments = []
    capture = WireCapture(lesson6.session.uses_port, segments.extend, lesson6.session.now)
    assert capture.start() is None
    try:
        lesson6.connected()
        time.sleep(0.2)
    finally:
        capture.stop()
    assert [s.flags for s in segments[:3]] == ["SYN", "SYN-ACK", "ACK"]
    assert segments[0].src[0] == "::1"


@root_only
@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="needs tcpdump")
def test_the_pcap_reads_back_with_tcpdump(lesson, wire, tmp_path):
    capture, segments = wire
    cycle(lesson)
    capture.stop()
    path = tmp_path / "cycle.pcap"
    assert capture.export_pcap(path) == len(segments) == 9
    out = subprocess.run(["tcpdump", "-r", str(path), "-nn"], capture_output=True, text=True, check=True).stdout
    flags = [line.split("Flags [")[1].split("]")[0] for line in out.splitlines()]
    assert flags == ["S", "S.", ".", "P.", ".", "F.", ".", "F.", "."]
    assert "length 42" in out.splitlines()[3]


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root and setpriv to drop it")
def test_without_the_privilege_it_explains_instead_of_failing():
    script = textwrap.dedent(
        """
        from sockviz.core import Session
        from sockviz.core.kernel.capture import WireCapture
        session = Session()
        print(WireCapture(session.uses_port, print, session.now).start())
        session.close()
        """
    )
    drop = ["setpriv", "--bounding-set", "-net_raw", "--inh-caps", "-net_raw"]
    out = subprocess.run([*drop, sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=True)
    assert out.stdout.strip() == NOT_PERMITTED


def test_frames_that_are_not_tcp_are_ignored():
    assert parse_frame(b"\x00" * 12 + b"\x08\x06" + b"\x00" * 28) is None  # ARP
    assert parse_frame(b"short") is None
