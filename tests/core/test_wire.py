"""The packets behind the calls, captured on lo (as root, which CI is).

Outside observers check the capture: tcpdump and tshark read the exported files,
and tshark's own sequence numbers are the truth for ours.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol, TypeVar

import pytest
from conftest import UdpLoopback
from helpers import alive, killed_parent_leaves_no_child, wait_for

from sockviz.core import StepCalled, Target
from sockviz.core.kernel.capture import (
    MAX_FILTER_PORTS,
    NOT_PERMITTED,
    SNAP_LENGTH,
    Delivery,
    Segment,
    WireCapture,
    bpf_program,
    flag_names,
    parse_frame,
)
from sockviz.core.kernel.capture.runs import Runs
from sockviz.core.model.options import option_setting
from sockviz.core.story.owners import owner_of
from sockviz.core.story.wire import CallLine, Dropped, Ended, Summary, Wire

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="a raw socket on lo needs root")
needs_tshark = pytest.mark.skipif(shutil.which("tshark") is None, reason="needs tshark")
needs_tcpdump = pytest.mark.skipif(shutil.which("tcpdump") is None, reason="needs tcpdump")
MESSAGE = b"Hello, Wireshark. You are an amazing tool!"


class Heard:
    """What the capture delivered, in order."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self._lock = threading.Lock()

    def __call__(self, delivery: Delivery) -> None:
        with self._lock:
            self.deliveries.append(delivery)

    @property
    def lines(self) -> list[object]:
        with self._lock:
            return [line for d in self.deliveries for line in d.lines]

    @property
    def segments(self) -> list[Segment]:
        """The segments that got a line of their own."""
        return [line for line in self.lines if isinstance(line, Segment)]

    def flags(self) -> list[str]:
        return [s.flags for s in self.segments]

    def counted(self) -> int:
        """Every segment told, on a line of its own or in a summary."""
        summed = [t.segments for line in self.lines if isinstance(line, Summary) for t in line.directions.values()]
        return len(self.segments) + sum(summed)

    def told_bytes(self, to_port: int) -> tuple[int, int]:
        """(new, sent again) payload bytes told towards `to_port`, on lines of their own and in summaries."""
        new = resent = 0
        for line in self.lines:
            if isinstance(line, Segment) and line.dst[1] == to_port:
                new, resent = new + line.fresh, resent + line.length - line.fresh
            elif isinstance(line, Summary):
                for (_, dst), tally in line.directions.items():
                    if dst[1] == to_port:
                        new, resent = new + tally.new_bytes, resent + tally.resent_bytes
        return new, resent


class Startable(Protocol):
    def start(self) -> str | None: ...
    def stop(self) -> None: ...


Started = TypeVar("Started", bound=Startable)


@contextmanager
def running(thing: Started) -> Iterator[Started]:
    """A Wire or WireCapture started (None: no reason it could not be) and stopped on the way out, whatever happens."""
    assert thing.start() is None
    try:
        yield thing
    finally:
        thing.stop()


def pcap_records(path: Path) -> list[tuple[int, int]]:
    """(captured length, real length) of each record of a plain pcap file."""
    data = path.read_bytes()
    records, at = [], 24
    while at < len(data):
        _, _, kept, length = struct.unpack_from("<IIII", data, at)
        records.append((kept, length))
        at += 16 + kept
    return records


@pytest.fixture
def wire(loopback):
    heard = Heard()
    with running(Wire(loopback.session, heard)) as made:
        yield made, heard


def cycle(loopback, heard: Heard) -> None:
    """Connect, send 42 bytes, read them, then the client closes first and the server after."""
    for step_id in ("server-socket", "server-bind", "server-listen", "client-socket", "client-connect"):
        loopback.run(step_id)
    wait_for(lambda: heard.flags()[-1:] == ["ACK"], what="the handshake's last ACK")
    loopback.run("server-accept")
    loopback.run("client-send", payload=MESSAGE)
    wait_for(lambda: heard.flags()[-2:] == ["PSH-ACK", "ACK"], what="the data and its ACK")
    loopback.run("server-recv")
    loopback.run("client-close")
    wait_for(lambda: heard.flags()[-2:] == ["FIN-ACK", "ACK"], what="the FIN's delayed ACK")
    loopback.run("server-close-conn")
    wait_for(lambda: len(heard.segments) == 9, what="the last ACK")


def tshark(path, *fields: str) -> list[list[str]]:
    command = ["tshark", "-r", str(path), "-T", "fields", *(f for name in fields for f in ("-e", name))]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines()]


def tcpdump(path) -> list[str]:
    return subprocess.run(
        ["tcpdump", "-r", str(path), "-nn"], capture_output=True, text=True, check=True
    ).stdout.splitlines()


@root_only
def test_one_cycle_is_the_textbook_sequence(loopback, wire):
    _, heard = wire
    cycle(loopback, heard)
    segments = heard.segments
    port = loopback.endpoint.port
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
    assert segments[3].preview == MESSAGE
    assert owner_of(loopback.session.sockets, segments[0].src, segments[0].dst) == "c"
    assert owner_of(loopback.session.sockets, segments[1].src, segments[1].dst) == "conn"


@root_only
def test_ipv6_segments_are_parsed(loopback6):
    heard = Heard()
    with running(Wire(loopback6.session, heard)):
        loopback6.connected()
        wait_for(lambda: len(heard.segments) >= 3, what="the handshake")
    assert heard.flags()[:3] == ["SYN", "SYN-ACK", "ACK"]
    assert heard.segments[0].src[0] == "::1"


@root_only
@needs_tshark
@needs_tcpdump
def test_the_pcapng_carries_each_call_as_a_comment_on_its_segment(loopback, wire, tmp_path):
    made, heard = wire
    cycle(loopback, heard)
    path = tmp_path / "cycle.pcapng"
    assert "saved 9 frames" in made.export(path)
    frames = tshark(path, "tcp.flags.str", "frame.comment")
    assert len(frames) == 9
    syn_comments = frames[0][1]
    assert f"client: c.connect(('127.0.0.1', {loopback.endpoint.port}))" in syn_comments
    assert "server: s.listen()" in syn_comments  # listen() sent nothing: its note waits for the next frame
    assert "client: c.sendall(b'Hello, Wireshark." in frames[3][1]  # the PSH-ACK
    assert "client: c.close()" in frames[5][1]  # the FIN
    flags = [line.split("Flags [")[1].split("]")[0] for line in tcpdump(path)]
    assert flags == ["S", "S.", ".", "P.", ".", "F.", ".", "F.", "."]
    assert shutil.which("capinfos"), "capinfos comes with tshark (wireshark-common)"
    info = subprocess.run(["capinfos", str(path)], capture_output=True, text=True, check=True).stdout
    client = loopback.session.sockets[1]
    assert f"c = 127.0.0.1:{client.ends[0][1]} -> 127.0.0.1:{loopback.endpoint.port} (client)" in info


@root_only
@needs_tcpdump
def test_a_plain_pcap_is_there_for_tools_without_pcapng(loopback, wire, tmp_path):
    made, heard = wire
    cycle(loopback, heard)
    path = tmp_path / "cycle.pcap"
    assert "as pcap:" in made.export(path, plain=True)
    assert path.read_bytes()[:4] == b"\xd4\xc3\xb2\xa1"  # libpcap's magic, little-endian
    lines = tcpdump(path)
    assert len(lines) == 9 and "length 42" in lines[3]


@root_only
@needs_tcpdump
def test_a_bulk_transfer_is_counted_to_the_byte(loopback, wire, tmp_path):
    """The lines add up to what the sender sent, and tcpdump reads the same from the exported file."""
    made, heard = wire
    size = 64 * 2**20
    loopback.connected()
    sender = loopback.start("client-send", bulk=size)
    loopback.run("server-recv-all", expect=size)
    sender.join()
    client = loopback.session.sockets[1]
    assert client.bytes_sent == size  # the sender's own count
    port = loopback.endpoint.port
    wait_for(lambda: heard.told_bytes(port)[0] >= size, what="every byte told")
    assert made.capture.dropped == 0, f"the kernel dropped {made.capture.dropped} frames"
    told, resent = heard.told_bytes(port)
    assert told == client.bytes_sent
    assert len(heard.lines) < 60  # the calls, a few handshake lines, eight segments, then summaries

    path = tmp_path / "bulk.pcapng"
    made.export(path)
    lengths = [int(line.rsplit("length ", 1)[1]) for line in tcpdump(path) if f"> 127.0.0.1.{port}:" in line]
    assert sum(lengths) == client.bytes_sent + resent  # tcpdump counts a segment sent again twice; the lines say so


def test_summing_up_does_not_depend_on_how_the_lines_are_taken():
    """The reader hands lines over in batches of any size: the lines must be the same."""
    src, dst = ("127.0.0.1", 40000), ("127.0.0.1", 12354)
    segments = [Segment(i * 0.001, src, dst, "ACK", 1 + i * 1000, 1, 1000, b"x", 1000) for i in range(5000)]
    for size in (1, 7, 5000):
        runs = Runs()
        lines = []
        for index, segment in enumerate(segments):
            runs.segment(*segment)
            if index % size == 0:
                lines += runs.take()
        runs.tick(100.0)
        lines += runs.take()
        shown = [line for line in lines if isinstance(line, Segment)]
        summed = sum(s.directions[(src, dst)].new_bytes for s in lines if isinstance(s, Summary))
        assert len(shown) == 8, size
        assert len(lines) == 8 + 5, size  # one summary per second of a 5-second run
        assert sum(s.length for s in shown) + summed == 5_000_000


def test_a_call_or_a_fin_ends_a_run_and_drops_are_said():
    src, dst = ("127.0.0.1", 40000), ("127.0.0.1", 12354)
    runs = Runs()
    data = [Segment(0.001 * i, src, dst, "ACK", 1 + i, 1, 1, b"x", 1) for i in range(20)]
    for segment in data:
        runs.segment(*segment)
    runs.dropped(0.05, 412)
    lines = runs.take()
    assert isinstance(lines[8], Summary) and lines[8].directions[(src, dst)].segments == 12
    assert lines[9] == Dropped(0.05, 412)
    fin = Segment(0.1, src, dst, "FIN-ACK", 21, 1, 0, b"")
    runs.segment(*fin)
    assert runs.take() == [fin]
    for segment in data[:8]:
        runs.segment(*segment)
    assert all(isinstance(line, Segment) for line in runs.take())
    runs.tick(0.21)
    assert runs.take() == []
    call = CallLine(0.3, "client", "c.close()")
    runs.segment(*data[8])
    runs.call(call)
    lines = runs.take()
    assert isinstance(lines[0], Summary) and lines[1] == call  # the run summed up before the call's line


def test_a_resent_segment_is_not_counted_twice_and_a_late_one_is_not_resent():
    from sockviz.core.kernel.capture.numbering import Numbering

    numbering = Numbering()
    c, s = ("127.0.0.1", 40000), ("127.0.0.1", 12354)
    assert numbering.relative(c, s, 1000, 0, 0x02) == (0, 0, 0)
    assert numbering.relative(c, s, 1001, 5000, 0x18, 100) == (1, 1, 100)  # the ack sets the other side's base
    assert numbering.relative(c, s, 1201, 5000, 0x18, 100) == (201, 1, 100)  # ahead of 101..200
    assert numbering.relative(c, s, 1101, 5000, 0x18, 100) == (101, 1, 100)  # late, not resent: it fills the gap
    assert numbering.relative(c, s, 1001, 5000, 0x18, 100) == (1, 1, 0)  # sent again
    assert numbering.relative(c, s, 1251, 5000, 0x18, 100) == (251, 1, 50)  # half of it new


def test_a_connection_past_4_gib_is_still_new_data_and_its_numbers_wrap_as_wiresharks():
    """Sequence numbers wrap every 4 GiB: the data after the wrap is new (it was counted as sent again, so a
    long-lived connection's sums stopped adding up after sixteen 256 MiB sends), a resend after it is still
    told, and the relative numbers wrap as Wireshark's do."""
    from sockviz.core.kernel.capture.numbering import Numbering

    numbering = Numbering()
    c, s = ("127.0.0.1", 40000), ("127.0.0.1", 12354)
    isn, size = 2**32 - 10_000, 65536  # the absolute numbers wrap at once, the relative ones after 4 GiB
    assert numbering.relative(c, s, isn, 0, 0x02) == (0, 0, 0)
    new = sum(numbering.relative(c, s, (isn + 1 + i * size) % 2**32, 5001, 0x10, size)[2] for i in range(65540))
    assert new == 65540 * size
    after = (isn + 1 + 65540 * size) % 2**32
    assert numbering.relative(c, s, after, 5001, 0x10, size) == ((1 + 65540 * size) % 2**32, 1, size)
    assert numbering.relative(c, s, (after - size) % 2**32, 5001, 0x10, size)[2] == 0  # sent again
    assert numbering.relative(c, s, (after + 2 * size) % 2**32, 5001, 0x10, size)[2] == size  # ahead, a gap behind
    assert numbering.relative(c, s, (after + size) % 2**32, 5001, 0x10, size)[2] == size  # late: fills it


@root_only
@needs_tshark
def test_a_capture_started_mid_connection_numbers_as_wireshark_does(loopback, tmp_path):
    loopback.connected()
    loopback.run("client-send", payload=b"before the capture")
    loopback.run("server-recv")
    heard = Heard()
    with running(Wire(loopback.session, heard)) as made:
        loopback.run("client-send", payload=MESSAGE)
        wait_for(lambda: len(heard.segments) >= 2, what="the data and its ACK")
        loopback.run("server-recv")
        loopback.run("server-send", payload=b"echo")
        wait_for(lambda: len(heard.segments) >= 4, what="the echo and its ACK")
        path = tmp_path / "mid.pcapng"
        made.export(path)
    ours = [[str(s.seq), str(s.ack)] for s in heard.segments]
    assert ours[0] == ["1", "1"]
    assert ours == tshark(path, "tcp.seq", "tcp.ack")


@root_only
def test_the_kernel_keeps_only_the_sessions_ports_and_cuts_each_frame(loopback, wire, tmp_path):
    """A transfer on another port never reaches the capture; the session's frames arrive cut, with their length."""
    made, heard = wire
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        client = socket.create_connection(other.getsockname())
        conn, _ = other.accept()
        client.sendall(bytes(1_000_000))
        conn.recv(1)
        client.close()
        conn.close()
    loopback.connected()
    sender = loopback.start("client-send", bulk=1_000_000)
    loopback.run("server-recv-all", expect=1_000_000)
    sender.join()
    port = loopback.endpoint.port
    wait_for(lambda: heard.told_bytes(port)[0] >= 1_000_000, what="the session's megabyte")
    path = tmp_path / "megabyte.pcap"
    made.export(path, plain=True)
    records = pcap_records(path)
    assert all(kept <= SNAP_LENGTH for kept, _ in records)
    assert max(length for _, length in records) > SNAP_LENGTH
    assert {s.src[1] for s in heard.segments} | {s.dst[1] for s in heard.segments} >= {port}
    assert all(port in (s.src[1], s.dst[1]) for s in heard.segments)
    made.stop()
    assert made.capture.packets == heard.counted()  # the kernel passed the session's frames and no other


@root_only
def bound(sock: socket.socket, address: tuple[str, int]) -> bool:
    """Whether `sock` could bind `address`. The session's close has returned, but Linux frees the port only
    when the last call on that socket ends (a call another thread is in, such as a refresh reading its
    TCP_INFO, holds it), so a first try under load has once met EADDRINUSE: try until it is free."""
    try:
        sock.bind(address)
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        return False
    return True


def test_a_port_leaves_the_filter_once_nothing_of_the_session_is_on_it(loopback, wire):
    """A port stays while a call sends to it, a socket uses it or its TIME_WAIT lasts; then it goes, and a real
    connection on it is no longer captured. An RST close leaves no TIME_WAIT, so no test waits 60 s."""
    made, heard = wire
    capture, session, port = made.capture, loopback.session, loopback.endpoint.port
    loopback.run("client-socket")
    assert loopback.run("client-connect").error.exception == "ConnectionRefusedError"  # nobody listens yet
    wait_for(lambda: any(s.dst[1] == port and s.flags == "SYN" for s in heard.segments), what="the refused SYN")
    wait_for(lambda: port not in capture.filtered_ports, what="the refused port to leave the filter")
    loopback.run("client-close")

    loopback.server_listening()
    loopback.run("client-socket")
    loopback.run("client-connect")
    loopback.run("server-accept")
    lingering = session.current(Target.CLIENT)
    first = lingering.ends[0][1]
    loopback.run("client-close")  # the client closes first: its side of the connection waits in TIME_WAIT
    loopback.run("server-close-conn")

    loopback.run("client-socket")
    loopback.run("client-option", option=option_setting("SO_LINGER", "1"))
    loopback.run("client-connect")
    loopback.run("server-accept")
    reset = session.current(Target.CLIENT).ends[0][1]
    wait_for(lambda: {port, first, reset} <= capture.filtered_ports, what="the open connection's port in the filter")
    loopback.run("client-close")  # RST: the kernel drops both sides at once
    loopback.run("server-close-conn")
    wait_for(lambda: reset not in capture.filtered_ports, what="the reset connection's port to leave the filter")
    assert lingering.after_close is not None and lingering.after_close.state == "TIME_WAIT"
    assert {port, first} <= capture.filtered_ports  # the listener's port, and the TIME_WAIT's

    with socket.socket() as other, socket.socket() as outside:  # a connection on the port the session left
        other.bind(("127.0.0.1", 0))
        other.listen()
        outside.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        wait_for(lambda: bound(outside, ("127.0.0.1", reset)), what="the port the session left to be free")
        outside.connect(other.getsockname())
        outside.sendall(b"not the session's any more")
        other.accept()[0].close()
        elsewhere = other.getsockname()[1]
        loopback.run("client-socket")
        loopback.run("client-connect")  # the session's own SYN, after the outside frames
        mine = session.current(Target.CLIENT).ends[0][1]
        wait_for(lambda: any(s.dst[1] == mine and s.flags == "SYN-ACK" for s in heard.segments), what="its SYN-ACK")
    assert not [s for s in heard.segments if elsewhere in (s.src[1], s.dst[1])]


@root_only
def test_past_the_filters_ports_the_reader_picks_the_sessions(loopback):
    """With more ports than the kernel filter takes, it keeps every TCP frame and the reader keeps the session's."""
    unused = set(range(20000, 20000 + MAX_FILTER_PORTS + 1))
    heard = Heard()
    capture = WireCapture(lambda: unused | loopback.session.ports(), heard, loopback.session.now)
    loopback.session.subscribe(lambda event: capture.refresh_ports() if isinstance(event, StepCalled) else None)
    with running(capture):
        assert capture.every_tcp_frame
        with socket.socket() as other:  # a port outside the session: its frames reach the reader, which drops them
            other.bind(("127.0.0.1", 0))
            other.listen()
            with socket.create_connection(other.getsockname()) as client:
                client.sendall(b"not the session's")
        loopback.connected()
        wait_for(lambda: heard.flags()[:3] == ["SYN", "SYN-ACK", "ACK"], what="the session's handshake")
        unused.clear()  # the other ports went: the kernel filter picks again
        capture.refresh_ports()
        assert not capture.every_tcp_frame
        loopback.run("client-send", payload=MESSAGE)
        wait_for(lambda: any(s.preview == MESSAGE for s in heard.segments), what="the message, through both filters")
    port = loopback.endpoint.port
    assert all(port in (s.src[1], s.dst[1]) for s in heard.segments)


def test_the_filter_program_fits_the_kernels_limit():
    assert len(bpf_program(range(1000, 1400))) < 4096
    assert len(bpf_program(None)) < 40


def _run_filter(program: list[tuple[int, int, int, int]], frame: bytes) -> int:
    """The kernel's classic BPF, for the instructions bpf_program uses: the bytes of `frame` it keeps (0: none)."""
    a = x = pc = 0
    while True:
        op, jt, jf, k = program[pc]
        pc += 1
        if op == 0x28:  # ld h [k]
            a = int.from_bytes(frame[k : k + 2])
        elif op == 0x30:  # ld b [k]
            a = frame[k]
        elif op == 0xB1:  # ldx 4 * ([k] & 0xf)
            x = 4 * (frame[k] & 0x0F)
        elif op == 0x48:  # ld h [x + k]
            a = int.from_bytes(frame[x + k : x + k + 2])
        elif op in (0x15, 0x45):  # jeq, jset
            pc += jt if (a == k if op == 0x15 else a & k) else jf
        elif op == 0x05:  # ja
            pc += k
        elif op == 0x06:  # ret
            return k


def _filtered_frame(version: int, protocol: int, sport: int, dport: int) -> bytes:
    ether = bytes(12) + (b"\x08\x00" if version == 4 else b"\x86\xdd")
    if version == 4:
        ip = bytes([0x45, 0, 0, 40, 0, 0, 0, 0, 64, protocol]) + bytes(10)
    else:
        ip = bytes([0x60, 0, 0, 0, 0, 20, protocol, 64]) + bytes(32)
    return ether + ip + sport.to_bytes(2) + dport.to_bytes(2) + bytes(16)


@pytest.mark.parametrize("count", [1, 40, MAX_FILTER_PORTS])
def test_the_filter_keeps_the_sessions_ports_however_many_they_are(count):
    """A session of 40 ports (the threads lesson: 20 clients and their connections) made the IPv6 test's jump
    longer than a conditional jump reaches (255): opening the wire view failed (struct.error, a fault)."""
    ports = range(40000, 40000 + count)
    program = bpf_program(ports)
    b"".join(struct.pack("HBBI", *instruction) for instruction in program)  # as attach_filter packs them
    last = 40000 + count - 1
    for version in (4, 6):
        for protocol in (socket.IPPROTO_TCP, socket.IPPROTO_UDP):
            assert _run_filter(program, _filtered_frame(version, protocol, 50000, last)) > 0, (
                version,
                protocol,
                "dport",
            )
            assert _run_filter(program, _filtered_frame(version, protocol, 40000, 50000)) > 0, (
                version,
                protocol,
                "sport",
            )
            assert _run_filter(program, _filtered_frame(version, protocol, 50000, 50001)) == 0, (version, protocol)
    assert _run_filter(program, _filtered_frame(4, socket.IPPROTO_ICMP, 0, 0)) > 0
    assert _run_filter(program, _filtered_frame(6, socket.IPPROTO_ICMPV6, 0, 0)) > 0
    arp = bytes(12) + b"\x08\x06" + bytes(46)
    assert _run_filter(program, arp) == 0


@root_only
def test_frames_the_ring_had_no_room_for_are_counted(loopback):
    """The reader stops (SIGSTOP) while a small ring fills: the kernel counts the drops and the capture says them."""
    heard = Heard()
    capture = WireCapture(loopback.session.ports, heard, loopback.session.now, block_size=4096, blocks=2)
    loopback.connected()
    with running(capture):
        reader = capture.pid
        assert reader is not None
        try:
            loopback.run("client-send", payload=b"x")
            wait_for(lambda: heard.segments, what="the reader at work")
            os.kill(reader, signal.SIGSTOP)
            size = 16 * 2**20  # hundreds of frames against a ring of about 30
            sender = loopback.start("client-send", bulk=size)
            loopback.run("server-recv-all", expect=size)
            sender.join()
            os.kill(reader, signal.SIGCONT)
            wait_for(lambda: capture.dropped > 0, what="drops counted")
        finally:
            os.kill(reader, signal.SIGCONT)  # a stopped reader would only be killed by stop()
    assert sum(d.dropped for d in heard.deliveries) == capture.dropped
    assert sum(line.count for line in heard.lines if isinstance(line, Dropped)) == capture.dropped


@root_only
def test_the_ring_says_when_frames_stop_coming(loopback):
    """The reader sees a transfer's end as a block being filled that has no frame: once lo is quiet, the kernel
    hands the last block over and begins none, and what the ring counts waiting is what the blocks hold."""
    from sockviz.core.kernel.capture.filter import program_for
    from sockviz.core.kernel.capture.ring import BLOCK_SIZE, BLOCKS, Ring, frames_in, open_capture

    loopback.connected()
    raw = open_capture(program_for(frozenset({loopback.endpoint.port}))[0])
    assert not isinstance(raw, str), raw
    ring = Ring(raw, BLOCK_SIZE, BLOCKS)
    try:
        assert ring.waiting() == (0, 0, 0)
        size = 4 * 2**20
        sender = loopback.start("client-send", bulk=size)
        loopback.run("server-recv-all", expect=size)
        sender.join()
        seen: list[tuple[int, int, int]] = []
        wait_for(lambda: seen.append(ring.waiting()) or (seen[-1][0] >= 1 and not seen[-1][2]), what="lo quiet")
        ready, frames, _ = seen[-1]  # (a late ACK may start a block after this look: it is the next look's)
        assert frames > 0
        blocks = [ring.take() for _ in range(ready)]
        assert sum(len(list(frames_in(block))) for block in blocks if block is not None) == frames
    finally:
        ring.close()


@root_only
def test_a_stuck_reader_is_ended_by_stop(loopback):
    """Quitting never waits on the reader: one that does not answer (stopped here) is killed, and nothing is left."""
    capture = WireCapture(loopback.session.ports, Heard(), loopback.session.now)
    assert capture.start() is None
    reader = capture.pid
    assert reader is not None
    os.kill(reader, signal.SIGSTOP)
    capture.stop()
    assert not alive(reader)
    assert capture.export(Path("never.pcapng"), plain=False, header=[]) == "the capture has stopped"


@root_only
def test_a_reader_that_ends_on_its_own_is_said(loopback):
    """Killed from outside, the reader is gone: the view says that nothing more is captured, never stays silent."""
    heard = Heard()
    with running(WireCapture(loopback.session.ports, heard, loopback.session.now)) as capture:
        reader = capture.pid
        assert reader is not None
        os.kill(reader, signal.SIGKILL)
        wait_for(lambda: any(isinstance(line, Ended) for line in heard.lines), what="the end told")
    ended = next(line for line in heard.lines if isinstance(line, Ended))
    assert f"status {-signal.SIGKILL}" in ended.reason and "nothing more is captured" in ended.reason


@root_only
def test_the_reader_never_outlives_the_app():
    """An app killed outright (SIGKILL: no stop, no clean-up) takes its reader with it."""
    script = textwrap.dedent(
        """
        import sys, time
        from sockviz.core import Session
        from sockviz.core.kernel.capture import WireCapture
        session = Session()
        capture = WireCapture(session.ports, lambda delivery: None, session.now)
        assert capture.start() is None
        print(capture.pid, flush=True)
        time.sleep(60)
        """
    )
    killed_parent_leaves_no_child(script, "the reader gone with its app")


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root and setpriv to drop it")
def test_without_the_privilege_it_explains_instead_of_failing():
    script = textwrap.dedent(
        """
        from sockviz.core import Session
        from sockviz.core.kernel.capture import WireCapture
        session = Session()
        print(WireCapture(session.ports, print, session.now).start())
        session.close()
        """
    )
    drop = ["setpriv", "--bounding-set", "-net_raw", "--inh-caps", "-net_raw"]
    out = subprocess.run([*drop, sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=True)
    assert out.stdout.strip() == NOT_PERMITTED


def test_frames_that_are_not_tcp_are_ignored():
    assert parse_frame(b"\x00" * 12 + b"\x08\x06" + b"\x00" * 28) is None  # ARP
    assert parse_frame(b"short") is None


@root_only
def test_udp_datagrams_and_the_icmp_port_unreachable_are_on_the_wire(udp):
    heard = Heard()
    with running(Wire(udp.session, heard)):
        udp.run("server-socket")
        udp.run("server-bind")
        udp.run("client-socket")
        udp.run("client-send", payload=MESSAGE)
        udp.run("server-recv")
        udp.run("server-send", payload=None)
        wait_for(lambda: heard.flags() == ["UDP", "UDP"], what="the datagram and its echo")
        first, echo = heard.segments
        assert owner_of(udp.session.sockets, first.src, first.dst) == "c"  # an unconnected socket, by its port
        assert owner_of(udp.session.sockets, echo.src, echo.dst) == "s"
        udp.run("server-close")
        udp.run("client-connect")  # nothing is sent: UDP has no handshake
        udp.run("client-send", payload=b"anyone?")
        wait_for(lambda: len(heard.segments) == 4, what="the datagram to the closed port and the answer")
    first, echo, lost, answer = heard.segments
    port = udp.endpoint.port
    client_port = udp.session.current(Target.CLIENT).sock.getsockname()[1]
    assert (first.dst[1], first.length, first.preview) == (port, len(MESSAGE), MESSAGE)
    assert (echo.src[1], echo.dst[1]) == (port, client_port)
    assert (lost.flags, lost.dst[1], lost.preview) == ("UDP", port, b"anyone?")
    assert answer.flags == "ICMP port unreachable" and (answer.src[1], answer.dst[1]) == (port, client_port)
    assert owner_of(udp.session.sockets, answer.dst, answer.src) == "c"


@root_only
def test_an_icmpv6_port_unreachable_is_parsed_too():
    loopback = UdpLoopback(socket.AF_INET6)
    heard = Heard()
    try:
        with running(Wire(loopback.session, heard)):
            loopback.run("client-socket")
            loopback.run("client-connect")
            loopback.run("client-send", payload=b"anyone?")
            wait_for(lambda: heard.flags() == ["UDP", "ICMP port unreachable"], what="the datagram and its answer")
    finally:
        loopback.session.close()
    datagram, answer = heard.segments
    assert datagram.src[0] == "::1" and (answer.src, answer.dst) == (datagram.dst, datagram.src)


def _frame(src: bytes, dst: bytes, ports: tuple[int, int], seq: int, flags: int, payload: bytes, *, v6=False,
           options=b"", udp=False) -> bytes:  # fmt: skip
    """An Ethernet frame on lo: IPv4 (with `options`) or IPv6, carrying a TCP segment or a UDP datagram."""
    if udp:
        transport = struct.pack("!HHHH", *ports, 8 + len(payload), 0) + payload
    else:
        transport = struct.pack("!HHIIBBHHH", *ports, seq, 7, 5 << 4, flags, 65535, 0, 0) + payload
    protocol = socket.IPPROTO_UDP if udp else socket.IPPROTO_TCP
    if v6:
        ip = struct.pack("!IHBB16s16s", 6 << 28, len(transport), protocol, 64, src, dst)
        return b"\0" * 12 + b"\x86\xdd" + ip + transport
    ihl = 5 + len(options) // 4
    ip = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, ihl * 4 + len(transport), 0, 0, 64, protocol, 0, src, dst)
    return b"\0" * 12 + b"\x08\x00" + ip + options + transport


def _block(frames: list[bytes], snap: int) -> bytes:
    """A TPACKET_V3 block as the kernel hands it over: its header, then each frame cut to `snap` bytes."""
    mac = 82  # where frames on lo start after their tpacket3_hdr, as this kernel lays them out
    body, at = b"", 48
    for index, frame in enumerate(frames):
        kept = frame[:snap]
        size = (mac + len(kept) + 15) // 16 * 16
        header = struct.pack("<IIIIIIHH", 0 if index == len(frames) - 1 else size, 100, index * 1000, len(kept),
                             len(frame), 1, mac, mac + 14)  # fmt: skip
        body += (header + bytes(mac - len(header)) + kept).ljust(size, b"\0")
        at += size
    return struct.pack("<IIIIII", 3, 0, 1, len(frames), 48, at).ljust(48, b"\0") + body


def test_a_block_read_in_one_pass_tells_what_parsing_each_frame_tells():
    """The reader reads a TCP segment in place (IPv4 with no options, IPv6) and parses anything else whole: the
    lines and the frames kept are those of parsing every frame, summed-up runs and resent bytes included."""
    from sockviz.core.kernel.capture.numbering import Numbering
    from sockviz.core.kernel.capture.reader import Reader
    from sockviz.core.kernel.capture.ring import frames_in

    here, v6 = socket.inet_aton("127.0.0.1"), socket.inet_pton(socket.AF_INET6, "::1")
    ends = (40000, 12354)
    frames = [_frame(here, here, ends, 1000, 0x02, b""), _frame(here, here, ends[::-1], 5000, 0x12, b"")]
    frames += [_frame(here, here, ends, 1001 + 100 * (i % 15), 0x18, bytes([i]) * 100) for i in range(20)]  # resent
    frames += [_frame(here, here, ends, 3001, 0x10, b"opt", options=b"\x01\x01\x01\x00")]  # IP options: parsed whole
    frames += [_frame(v6, v6, ends, 77, 0x18, b"six" * 30, v6=True), _frame(here, here, (5353, 12354), 0, 0, b"dgram",
               udp=True), _frame(here, here, ends, 3004, 0x11, b"")]  # fmt: skip
    block = _block(frames, SNAP_LENGTH)
    reader = Reader(None, -1, -1, 0.0)  # type: ignore[arg-type]  # no ring: the block is given
    reader._read_block(block)
    reader._runs.end()

    expected, numbering, runs = [], Numbering(), Runs()
    for stamp, _, data in frames_in(block):
        parsed = parse_frame(data)
        assert parsed is not None
        src, dst, seq, ack, bits, length, preview = parsed
        rel_seq, rel_ack, fresh = (
            numbering.relative(src, dst, seq, ack, bits, length) if bits <= 0xFF else (0, 0, length)
        )
        runs.segment(stamp, src, dst, flag_names(bits), rel_seq, rel_ack, length, preview, fresh)
    runs.end()
    expected = runs.take()
    told = reader._runs.take()
    assert told == expected
    assert any(isinstance(line, Summary) for line in told) and any(
        s.flags == "UDP" for s in told if isinstance(s, Segment)
    )
    assert len(reader._store.frames) == reader._store.kept == len(frames)
    assert [frame.data for frame in reader._store.frames] == [frame[:SNAP_LENGTH] for frame in frames]
