"""The session format: every event and a socket's every field go out and come back the same; other versions are
refused; a real session recorded decodes to the events it told, with its sockets as the table showed them."""

from __future__ import annotations

import io
import json
import math
import socket
from dataclasses import replace

import pytest
from helpers import wait_for

from sockviz.core import (
    BurstStarted,
    Call,
    ListenerFailed,
    Role,
    SocketAdded,
    SocketSnapshot,
    StepBlocked,
    StepCalled,
    StepFailed,
    StepRefused,
    StepReturned,
    step,
)
from sockviz.core.kernel.lingering import Lingering
from sockviz.core.kernel.tcp_info import KernelReading
from sockviz.core.model.prediction import Prediction
from sockviz.core.model.reasons import ErrorReport
from sockviz.core.story.recording.format import (
    EVENT_CLASSES,
    Asked,
    Ended,
    EventRecord,
    FormatError,
    Header,
    HeldShown,
    Note,
    Predicted,
    Reader,
    Revealed,
    Rows,
    Said,
    SessionStarted,
    SocketsRecord,
    TimelineText,
    WireShown,
    decode,
    encode,
    header,
    read_lines,
)
from sockviz.core.story.recording.recorder import Recorder
from sockviz.core.story.recording.sockets import SocketState
from sockviz.core.story.sentences import tell
from sockviz.share.history import History

CALL = Call(7, step("server-accept"), "s", "conn, addr = s.accept()", 1.25, Prediction(True, "waits", "no client"))
SEND = Call(8, step("client-send"), "c2", "c2.sendall(b'\\x00\\xff[bold]')", 2.5, None, burst_of=3)
ERROR = ErrorReport("ConnectionRefusedError", 111, "ECONNREFUSED", "[Errno 111] Connection refused", "Nothing listens.")

EXAMPLES = [
    StepCalled(seq=1, at=0.5, call=CALL),
    StepBlocked(seq=2, at=0.52, call=CALL),
    StepReturned(seq=3, at=4.0, call=CALL, waited=2.75, blocked=True, woken_by="client c.connect()",
                 cancelled=False, woken_by_call=9, result="connection from ('::1', 4711, 0, 0)"),
    StepReturned(seq=4, at=4.1, call=SEND, waited=0.001, blocked=False, woken_by=None, cancelled=False,
                 result="sent 5 bytes", data=b"\x00\xff[bold]\x1b[2J"),
    StepFailed(seq=5, at=4.2, call=SEND, waited=0.0, blocked=False, woken_by=None, cancelled=False, error=ERROR,
               timed_out=True),
    StepRefused(seq=6, at=5.0, step=step("client-recv"), reason="no client socket yet"),
    SocketAdded(seq=7, at=5.5, socket_id=2, name="conn", side=step("server-accept").side),
    BurstStarted(seq=8, at=6.0, call=CALL, count=1000),
    ListenerFailed(seq=9, at=7.0, listener="Transcript._hear", error="ValueError('x')"),
]  # fmt: skip

STATE = SocketState(
    id=3,
    name="conn",
    role=Role.CONNECTION,
    snapshot=SocketSnapshot(
        fd=5,
        family="AF_INET6",
        type="SOCK_STREAM",
        proto=6,
        laddr=("::1", 12354, 0, 0),
        raddr=("::1", 47111, 0, 0),
        closed=False,
        repr="<socket.socket fd=5 ...>",
        kernel=KernelReading("ESTABLISHED", recv_queue=5, send_queue=0),
    ),
    doing="recv() blocked 1 s",
    lasting="not listening",
    ends=(("::1", 12354), ("::1", 47111)),
    after_close=Lingering("TIME_WAIT", 58.5),
    bytes_sent=10,
    bytes_received=5,
    addresses_while_open=(("::1", 12354, 0, 0), None),
)


def test_every_event_class_is_covered_by_an_example():
    """A new event class fails here until it has an example, so the format is never silently partial."""
    assert {type(event).__name__ for event in EXAMPLES} == set(EVENT_CLASSES)


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda event: type(event).__name__)
def test_every_event_comes_back_the_same(event):
    line = encode(EventRecord(event, text=tell(event)))
    assert "\n" not in line
    back = decode(line)
    assert isinstance(back, EventRecord)
    assert back.event == event and type(back.event) is type(event)
    assert back.text == tell(event)


def test_bytes_from_the_network_travel_as_base64_never_as_text():
    line = encode(EventRecord(EXAMPLES[3]))
    assert "\x1b" not in line and "\\u001b" not in line  # no escape code reaches a terminal that cats the file
    assert json.loads(line)["data"] == "AP9bYm9sZF0bWzJK"


def test_every_other_record_comes_back_the_same():
    records = [
        header("app"),
        SessionStarted(number=2, host="::1", port=12354, family="AF_INET6"),
        SocketsRecord(at=3.5, after=12, sockets=(STATE, SocketState(1, "s", Role.SERVER, STATE.snapshot, "idle"))),
        Said(at=1.0, line=4, text="accept() waits here"),
        Note(at=1.5, who="client", text="sendall() not run: the message field is empty", kind="refused"),
        Asked(
            at=2.0,
            step=step("server-accept"),
            question="Will server accept() wait, return at once, or fail?",
            choices=("waits", "returns at once", "fails"),
        ),
        Predicted(at=2.5, step=step("server-accept"), guess="waits", text="you predict: server accept() waits"),
        Revealed(at=3.0, step=step("server-accept"), guess="waits", outcome="waits", call=7, text="... (right)"),
        Revealed(at=3.0, step=step("client-recv"), guess="waits", outcome=None, call=None, text="not scored"),
        TimelineText(lines=("╵0", "s  a━┓"), legend="a accept()"),
        WireShown(at=4.25, parts=(("   4.250 ", "aside"), ("c → s          ", ""), ("SYN      ", "flags"))),
        HeldShown(at=0.2, keys=("held-1-3",), sockets=(STATE,)),
        Ended(at=9.0),
    ]
    for record in records:
        assert decode(encode(record)) == record
    state = decode(encode(records[2]))
    assert isinstance(state, SocketsRecord)
    assert state.sockets[0].snapshot.laddr == ("::1", 12354, 0, 0)  # a tuple again, as Python gave it
    assert state.sockets[0].ends == (("::1", 12354), ("::1", 47111))


def test_another_version_is_refused_saying_which():
    line = json.dumps({"record": "header", "format": "sockviz-session", "version": 3, "source": "app", "wall": ""})
    with pytest.raises(FormatError, match=r"version 3 of the sockviz session format.*reads versions 1 and 2 only"):
        read_lines([line], "old.jsonl")
    with pytest.raises(FormatError, match="not a sockviz session"):
        read_lines([json.dumps({"record": "header", "format": "pcap", "version": 1})])
    with pytest.raises(FormatError, match="line 1: not JSON"):
        read_lines(["<html>"])
    with pytest.raises(FormatError, match="begins with its header"):
        read_lines([encode(Ended(at=1.0))])
    with pytest.raises(FormatError, match="needs 'call'"):
        decode('{"record":"event","type":"StepCalled","seq":1,"at":0}')
    with pytest.raises(FormatError, match="not in this sockviz's catalogue"):
        decode(encode(EventRecord(EXAMPLES[5])).replace("client-recv", "client-teleport"))


def test_a_line_decoded_the_quick_way_says_what_is_wrong_where_and_takes_defaults():
    """Each class's decoder is compiled for its fields and the JSON read by orjson: a wrong value deep in a line is
    still said with its path, a missing field with a default takes it, and what only `json` reads (NaN) is read."""
    raw = json.loads(encode(EventRecord(EXAMPLES[2])))
    raw["call"]["prediction"] = "waits"
    with pytest.raises(FormatError, match=r"\(StepReturned\)\.call\.prediction: expected an object for Prediction"):
        decode(json.dumps(raw))
    raw["call"]["prediction"] = {"blocks": True, "why": "no client"}
    with pytest.raises(FormatError, match=r"\.call\.prediction: Prediction needs 'short'"):
        decode(json.dumps(raw))
    del raw["call"]["prediction"], raw["call"]["burst_of"], raw["woken_by_call"]
    record = decode(json.dumps(raw))
    assert isinstance(record, EventRecord)
    assert record.event == replace(EXAMPLES[2], call=replace(CALL, prediction=None), woken_by_call=None)
    assert math.isnan(decode(encode(Ended(at=math.nan))).at)


def test_a_later_record_kind_or_field_is_skipped():
    lines = [encode(header("run")), '{"record":"poll","question":1}', encode(Ended(at=1.0)).replace("}", ',"x":1}')]
    assert read_lines(lines) == [read_lines(lines[:1])[0], Ended(at=1.0)]


def test_a_recorded_session_decodes_to_the_events_it_told(loopback):
    """Real sockets: the recording holds each event as told, and the sockets as the table would show them."""
    told = []
    loopback.session.subscribe(told.append)
    out = io.StringIO()
    recorder = Recorder.to_file(out, source="run", period=0.05)
    recorder.start(loopback.session, loopback.endpoint.host, loopback.endpoint.port, socket.AF_INET)
    loopback.connected()
    loopback.run("client-send", payload=b"ping")
    loopback.run("server-recv")
    loopback.start("client-recv")
    loopback.blocked("client-recv")
    wait_for(lambda: "recv() blocked " in out.getvalue(), what="the wait in the recording")
    loopback.run("client-close")
    loopback.finished("client-recv")
    loopback.session.close()
    recorder.stop()
    assert recorder.failed is None
    records = read_lines(out.getvalue().splitlines())
    assert isinstance(records[0], Header) and isinstance(records[1], SessionStarted)
    assert isinstance(records[-2], Ended) and isinstance(records[-1], SocketsRecord)  # what the end closed, last
    assert [r.event for r in records if isinstance(r, EventRecord)] == told
    states: dict[int, SocketState] = {}
    for record in records:
        if isinstance(record, SocketsRecord):
            assert all(
                r.event.seq <= record.after for r in records[: records.index(record)] if isinstance(r, EventRecord)
            )
            states.update((state.id, state) for state in record.sockets)
    by_name = {state.name: state for state in states.values()}
    assert set(by_name) == {"s", "c", "conn"}
    assert all(state.closed and state.doing == "—" for state in by_name.values())
    assert by_name["conn"].bytes_received == 4 and by_name["c"].bytes_sent == 4
    assert by_name["conn"].addresses_while_open == (
        ("127.0.0.1", loopback.endpoint.port),
        by_name["c"].addresses_while_open[0],
    )
    blocked = [s for r in records if isinstance(r, SocketsRecord) for s in r.sockets if " blocked " in s.doing]
    assert blocked and blocked[0].name == "c"  # the wait was read while it lasted


def test_a_verdict_is_shown_right_after_the_event_that_settled_it():
    """The screen hears an event a moment after the session tells it, so a verdict's record may come a few
    events late: a replay puts its line where the live log had it, after the event it names."""
    from sockviz.core.story.recording.playback import Playback

    called, blocked, added = EXAMPLES[0], EXAMPLES[1], EXAMPLES[6]
    verdict = Revealed(at=0.6, step=step("server-accept"), guess="waits", outcome="waits", call=7, text="right",
                       after=blocked.seq)  # fmt: skip
    playback = Playback([header("app"), SessionStarted(1, "127.0.0.1", 12354, "AF_INET"), EventRecord(called),
                         EventRecord(blocked), EventRecord(EXAMPLES[5]), EventRecord(added), verdict])  # fmt: skip
    kinds = [line.kind for line in playback.scene(len(playback) - 1).lines]
    assert kinds == ["StepCalled", "StepBlocked", "predict", "StepRefused"]


def _rows_over_time() -> list[SocketState]:
    """One socket's rows as a lesson changes them: what it does, its kernel's queue, its close, its lingering."""
    kernel = STATE.snapshot.kernel
    assert kernel is not None
    waiting = replace(STATE, doing="recv() blocked 2 s")
    queued = replace(waiting, snapshot=replace(STATE.snapshot, kernel=replace(kernel, recv_queue=0)), doing="idle")
    closed = replace(queued, snapshot=replace(STATE.snapshot, fd=-1, laddr=None, raddr=None, closed=True, kernel=None))
    return [STATE, waiting, queued, closed, replace(closed, after_close=None, lasting=None)]


def test_a_sockets_row_after_the_first_holds_only_what_changed_and_reads_back_whole():
    """Version 2: a socket's first row in a session is whole, later ones carry what changed (an object in both
    rows, such as the snapshot and its kernel, only its own changed fields; a value gone, null), and the reader
    gives back each row whole, as written. A new session writes its rows whole again."""
    rows, reader = Rows(), Reader()
    written = [encode(header("app")), encode(SessionStarted(1, "::1", 12354, "AF_INET6"))]
    states = _rows_over_time()
    for at, state in enumerate(states):
        written.append(rows.encode(SocketsRecord(at=float(at), after=at, sockets=(state,))))
    changes = [json.loads(line)["sockets"][0] for line in written[2:]]
    assert changes[0] == json.loads(encode(SocketsRecord(0.0, 0, (STATE,))))["sockets"][0]  # whole
    assert changes[1] == {"id": 3, "doing": "recv() blocked 2 s"}
    assert changes[2] == {"id": 3, "snapshot": {"kernel": {"recv_queue": 0}}, "doing": "idle"}
    assert changes[3] == {"id": 3, "snapshot": {"fd": -1, "laddr": None, "raddr": None, "closed": True,
                                                "kernel": None}}  # fmt: skip
    assert changes[4] == {"id": 3, "lasting": None, "after_close": None}
    read = [reader.decode(line) for line in written]
    assert [record.sockets[0] for record in read[2:] if isinstance(record, SocketsRecord)] == states
    assert read_lines(written)[2:] == read[2:]
    rows.start()  # the next session: its readers start afresh at its first line
    again = rows.encode(SocketsRecord(at=0.0, after=0, sockets=(states[1],)))
    assert json.loads(again)["sockets"][0]["name"] == "conn"
    next_session = [*written, encode(SessionStarted(2, "::1", 12354, "AF_INET6")), again]
    assert read_lines(next_session)[-1] == SocketsRecord(at=0.0, after=0, sockets=(states[1],))


def test_a_change_of_a_socket_never_read_whole_is_refused_saying_what_it_lacks():
    reader = Reader()
    with pytest.raises(FormatError, match=r"\(sockets\)\.sockets\[0\].*SocketState needs 'name'"):
        reader.decode('{"record":"sockets","at":1.0,"after":2,"sockets":[{"id":3,"doing":"idle"}]}')
    reader.decode(encode(SocketsRecord(at=0.5, after=1, sockets=(STATE,))))
    with pytest.raises(FormatError, match=r"sockets\[0\]\.snapshot\.kernel: expected an object for KernelReading"):
        reader.decode('{"record":"sockets","at":1.0,"after":2,"sockets":[{"id":3,"snapshot":{"kernel":[1]}}]}')


def test_a_version_1_recording_with_whole_rows_reads_as_it_did():
    """Version 1 wrote every row whole: such a file still replays, each row read as a change of every field."""
    states = _rows_over_time()
    old = [encode(header("app")).replace('"version":2', '"version":1'), encode(SessionStarted(1, "::1", 1, "AF_INET6"))]
    old += [encode(SocketsRecord(at=float(at), after=at, sockets=(state,))) for at, state in enumerate(states)]
    records = read_lines(old)
    assert isinstance(records[0], Header) and records[0].version == 1
    assert [record.sockets[0] for record in records[2:] if isinstance(record, SocketsRecord)] == states


def test_a_late_follower_gets_each_socket_whole_from_the_changes_the_share_kept():
    """The share's process keeps the lines as plain JSON: it merges each change into the row so far, so the
    catch-up's one sockets record holds every socket whole, as the lecturer's reader has it."""
    rows, history = Rows(), History()
    states = _rows_over_time()
    other = replace(STATE, id=4, name="c")
    lines = [encode(header("app")), encode(SessionStarted(1, "::1", 12354, "AF_INET6"))]
    lines += [rows.encode(SocketsRecord(at=float(at), after=at, sockets=(state, other)))
              for at, state in enumerate(states)]  # fmt: skip
    for line in lines:
        history.keep(line)
    frames = history.catch_up('{"share":"hello"}', "", [])
    caught_up = [line for frame in frames for line in frame.split("\n") if line.startswith('{"record"')]
    merged = read_lines(caught_up)[-1]
    assert isinstance(merged, SocketsRecord) and merged.at == 4.0 and merged.after == 4
    assert merged.sockets == (states[-1], other)


def _state(id_: int, name: str, role: Role, doing: str) -> SocketState:
    return SocketState(id_, name, role, replace(STATE.snapshot, repr=f"<{name}>"), doing)


@pytest.mark.parametrize("written", ["before the events it followed", "after the verdict"])
def test_a_replayed_moment_shows_the_table_read_then_and_says_so_when_none_was(written):
    """A reading's line may come before events it followed in time (the screen hands events on late) and after
    several moments of one burst: the table of a moment is the reading taken in it, by the reading's time; a call
    just begun without one shows the table before it, any other moment the first reading after, saying which.
    (R1: at "accept() returned" the table showed no conn until the verdict's moment.)"""
    from sockviz.core.story.recording.playback import Playback

    accept, connect = Call(2, step("server-accept"), "s", "conn, addr = s.accept()", 1.0), Call(
        3, step("client-connect"), "c", "c.connect(('127.0.0.1', 12354))", 2.0)  # fmt: skip
    s_waits, c_idle = _state(1, "s", Role.SERVER, "accept() blocked 1 s"), _state(2, "c", Role.CLIENT, "idle")
    after_all = (_state(1, "s", Role.SERVER, "idle"), _state(2, "c", Role.CLIENT, "idle"),
                 _state(3, "conn", Role.CONNECTION, "idle"))  # fmt: skip
    finished = {"waited": 0.0, "blocked": False, "woken_by": None, "cancelled": False}
    records = [
        header("app"), SessionStarted(1, "127.0.0.1", 12354, "AF_INET"),
        EventRecord(StepCalled(seq=1, at=1.0, call=accept)), EventRecord(StepBlocked(seq=2, at=1.02, call=accept)),
        SocketsRecord(at=1.03, after=2, sockets=(s_waits, c_idle)),
        EventRecord(StepCalled(seq=3, at=2.0, call=connect)),
        EventRecord(SocketAdded(seq=4, at=2.010, socket_id=3, name="conn", side=accept.step.side)),
        EventRecord(StepReturned(seq=5, at=2.011, call=accept, result="conn", **{**finished, "blocked": True})),
        EventRecord(StepReturned(seq=6, at=2.012, call=connect, result="None", **finished)),
        Revealed(at=2.012, step=connect.step, guess="returns at once", outcome="returns at once", call=3,
                 text="right", after=6),
        Note(at=3.0, who="client", text="a note", kind="refused"),
        SocketsRecord(at=3.01, after=6, sockets=()),  # read, and no row changed
        Ended(at=4.0),
    ]  # fmt: skip
    # read after the next three events (at 2.05), and written before them (the screen hands events on late) or
    # after the verdict (the recorder reads once after a batch)
    place = 6 if written == "before the events it followed" else 11
    records.insert(place, SocketsRecord(at=2.05, after=3 if place == 6 else 6, sockets=after_all))
    playback = Playback(records)
    scenes = [playback.scene(moment) for moment in range(1, len(playback))]

    def at(start: str):
        return next(scene for scene in scenes if scene.lines[-1].text.startswith(start))

    def names(scene) -> dict[str, str]:
        return {state.name: state.doing for state in scene.sockets.values()}

    assert names(at("accept() blocks")) == {"s": "accept() blocked 1 s", "c": "idle"}  # its own reading
    assert at("accept() blocks").reading is None
    called = at("c.connect(")  # the reading after it came after three more events
    assert names(called) == {"s": "accept() blocked 1 s", "c": "idle"}
    assert called.reading == "table: as before this call, which has no reading of its own"
    returned = at("accept() returned")
    assert names(returned) == {"s": "idle", "c": "idle", "conn": "idle"}
    assert returned.reading == "table: as read 39 ms after this moment, after the next 2 moments too"
    connected = at("connect() returned")
    assert names(connected) == names(returned) and connected.reading is None
    assert at("a note").reading is None and names(at("a note")) == names(returned)  # read then: the same rows
    playback.add(SessionStarted(2, "127.0.0.1", 12354, "AF_INET"))  # a session that makes no socket: nothing
    playback.add(Note(at=0.01, who="start", text="welcome", kind="guide"))  # to read, and its end says nothing of
    playback.add(SocketsRecord(at=0.02, after=0, sockets=()))  # a reading (it said "as last read, before this
    playback.add(Ended(at=9.0))  # moment")
    assert playback.scene(len(playback) - 1).reading is None and not playback.scene(len(playback) - 1).sockets


def test_a_reading_after_events_is_written_even_when_no_row_changed(loopback):
    """A refused step changes no row: the reading after it is still written, empty, so a replay knows the table was
    read then and shows it as the moment's own, not a later reading that tells the next calls' effects too."""
    out = io.StringIO()
    recorder = Recorder.to_file(out, source="run", period=0.05)
    recorder.start(loopback.session, loopback.endpoint.host, loopback.endpoint.port, socket.AF_INET)
    loopback.run("server-socket")

    def read_after(kind: type) -> bool:
        """A reading has been written after the first event of this kind: none that follows shares its batch."""
        records = read_lines(out.getvalue().splitlines())
        told = [n for n, r in enumerate(records) if isinstance(r, EventRecord) and isinstance(r.event, kind)]
        return bool(told) and any(isinstance(r, SocketsRecord) for r in records[told[0] :])

    wait_for(lambda: read_after(StepReturned), what="a reading after socket() returned")
    assert loopback.session.perform(step("client-recv"), loopback.args()) is None  # no client socket: refused
    wait_for(lambda: read_after(StepRefused), what="a reading after the refusal")
    loopback.session.close()
    recorder.stop()
    records = read_lines(out.getvalue().splitlines())
    refused = next(n for n, r in enumerate(records) if isinstance(r, EventRecord) and isinstance(r.event, StepRefused))
    reading = next(r for r in records[refused:] if isinstance(r, SocketsRecord))
    assert reading.sockets == () and reading.after == records[refused].event.seq  # read, and the same
