"""Record and replay: the echo lesson recorded in the app replays to the same log lines and the same table at
every moment, forward and back; a replay runs no step, says why, and opens no socket."""

from __future__ import annotations

import io
import re
import socket
import subprocess
import sys

import pytest
from conftest import lecture
from helpers import PATIENCE, until

from sockviz.app import SockvizApp
from sockviz.core.scenario import lessons
from sockviz.core.story.recording.format import Note, SessionStarted, encode, header, read_lines
from sockviz.core.story.recording.playback import ENDED, Playback, Scene
from sockviz.keys import REPLAY_OFF
from sockviz.replay import ReplayApp
from sockviz.widgets.socket_rows import COLUMNS, row_texts

STABLE = ("name", "fd", "laddr", "raddr", "open", "role", "family", "type", "proto")
"""The columns that time alone does not change (a TIME_WAIT's seconds left, a wait's duration do)."""


def stable(cells: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """The stable columns of each row. A closed row shows the addresses its socket had when the table (or the
    recorder) last read it open, which depends on when that reading ran: a socket that connects and closes
    within one refresh is read connected by one and fresh by the other. Those two cells are left out."""
    return {
        key: {c: row[c] for c in STABLE if not (row["open"] == "closed" and c in ("laddr", "raddr"))}
        for key, row in cells.items()
    }


def entries(log) -> list[str]:
    """The log's entries without their times, wrapped lines joined, spaces gone (wrapping moves them)."""
    found: list[str] = []
    for line in log.lines:
        text = line.text.rstrip()
        if re.match(r"^\s*\d+\.\d{3} ", text) or not found:
            found.append(text.strip())
        else:
            found[-1] += text.strip()
    return [re.sub(r"\s+", "", re.sub(r"^\d+\.\d{3}", "", entry)) for entry in found]


def expected_entries(scene: Scene) -> list[str]:
    return [
        re.sub(r"\s+", "", f"{line.side}{line.text}" + (f"why:{line.why}" if line.why else "")) for line in scene.lines
    ]


def table_cells(table) -> dict[str, dict[str, str]]:
    return {str(row.value): {key: str(table.get_cell(row, key)) for key, _ in COLUMNS} for row in table.rows}


def expected_cells(scene: Scene) -> dict[str, dict[str, str]]:
    return {str(state.id): row_texts(state, state.as_shown(), state.doing) for state in scene.sockets.values()}


@pytest.fixture(scope="module")
def recorded_echo() -> tuple[str, list[str], dict[str, dict[str, str]]]:
    """The echo lesson played in the app with --record: the recording, and the live log and table at its end."""
    import asyncio

    async def play() -> tuple[str, list[str], dict[str, dict[str, str]]]:
        from helpers import free_port

        out = io.StringIO()
        app = SockvizApp(port=free_port(), record=out, scenario=("lesson: echo", lessons.text("echo")))
        async with lecture(app) as lect:
            await lect.until(lambda: app.session_screen.scenario_panel.loaded, "the lesson to load")
            app.session_screen.scenario_panel.speed(64)
            await lect.play_to_the_end(timeout=30)
            await lect.settled()
            await lect.until(lambda: not app.session_screen.refresh_due, "the last refresh")
            await lect.pilot.pause()
            live_log = entries(app.query_one("#log"))
            live_table = table_cells(app.query_one("#sockets"))
        return out.getvalue(), live_log, live_table

    return asyncio.run(play())


# Every moment forward and back: 24 to 40 s of the suite's 60 s timeout at loads of 5 to 170 here.
@pytest.mark.timeout(30 * PATIENCE)
async def test_a_recorded_lesson_replays_the_same_log_and_table_at_every_moment(recorded_echo):
    text, live_log, live_table = recorded_echo
    playback = Playback(read_lines(text.splitlines()))
    assert len(playback) > 40
    app = ReplayApp(playback, "echo.jsonl")
    seen: dict[int, tuple[list[str], dict[str, dict[str, str]]]] = {}
    started = playback.records[1]
    assert isinstance(started, SessionStarted)
    where = f"{started.host}:{started.port}"
    async with app.run_test(size=(140, 44)) as pilot:
        screen = app.replay_screen
        log, table = app.query_one("#log"), app.query_one("#sockets")

        async def at(moment: int) -> None:
            await until(pilot, lambda: screen.moment == moment, f"moment {moment}")
            scene = playback.scene(moment)
            expected = expected_entries(scene)
            note = re.sub(r"\s+", "", f"replay session 1 of the recording, on {where} (AF_INET)")
            await until(pilot, lambda: entries(log)[1:] == expected and entries(log)[:1] == [note],
                        f"the log at moment {moment}")  # fmt: skip
            assert table_cells(table) == expected_cells(scene), f"the table at moment {moment}"
            shown = (entries(log), table_cells(table))
            if moment in seen:
                assert shown == seen[moment], f"moment {moment} shows the same, going back as going forward"
            seen[moment] = shown

        await at(0)
        for moment in range(1, len(playback)):
            await pilot.press("n")
            await at(moment)
            if moment == len(playback) - 2:  # the lesson's last line: what the live app showed at its end
                lesson_shown = (entries(log), table_cells(table))
        assert entries(log)[-1] == re.sub(r"\s+", "", f"end{ENDED}") and screen.scene.ended
        # The lesson's last line shows what the live app showed then: the same lines, the same sockets.
        log_then, table_then = lesson_shown
        lesson_lines = [e for e in live_log if not e.startswith("start") and "isloaded.Itpauses" not in e]
        assert log_then[1:] == lesson_lines
        assert stable(table_then) == stable(live_table)
        for moment in range(len(playback) - 2, -1, -1):
            await pilot.press("left")
            await at(moment)
        await pilot.press("n", "n")
        await at(2)


async def test_a_replay_runs_no_step_and_says_why(recorded_echo):
    playback = Playback(read_lines(recorded_echo[0].splitlines()))
    app = ReplayApp(playback, "echo.jsonl")
    async with app.run_test(size=(140, 44)) as pilot:
        screen = app.replay_screen
        await until(pilot, lambda: screen.moment == 0, "the first moment")
        button = app.query_one("#server-socket")
        assert button.has_class("-cannot-run") and REPLAY_OFF in str(button.tooltip)
        await pilot.press("s", "S")
        await pilot.click("#client-connect")
        await pilot.pause()
        await until(pilot, lambda: len(list(app._notifications)) >= 3, "three notices")
        said = [n.message for n in app._notifications]
        assert said[:3] == [f"server socket() not run: {REPLAY_OFF}", f"client socket() not run: {REPLAY_OFF}",
                            f"client connect() not run: {REPLAY_OFF}"]  # fmt: skip
        assert screen.moment == 0 and not screen.scene.sockets  # nothing ran, nothing moved
        await pilot.press("t")  # the view keys work
        assert screen.timeline_view.display
        await pilot.press("space")
        await until(pilot, lambda: screen.moment >= 3, "space to play", timeout=20)
        await pilot.press("space")
        assert not screen.playing


async def test_moments_recorded_at_the_same_time_play_on_to_the_end():
    """A predict verdict is recorded at the time of the call it is about: playing, the replay goes on past
    both (it once stopped there for good, still saying "playing")."""
    lines = [encode(header("app")), encode(SessionStarted(1, "127.0.0.1", 12354, "AF_INET"))]
    lines += [encode(Note(at, "lesson", f"line {n}", "lesson")) for n, at in enumerate((0.5, 0.5, 0.5, 0.6))]
    playback = Playback(read_lines(lines))
    assert [playback.gap(moment) for moment in range(1, 4)] == [0.0, 0.0, pytest.approx(0.1)]
    app = ReplayApp(playback, "same-time.jsonl")
    async with app.run_test(size=(140, 44)) as pilot:
        screen = app.replay_screen
        await until(pilot, lambda: screen.moment == 0, "the first moment")
        await pilot.press("space")
        await until(pilot, lambda: screen.moment == len(playback) - 1, "the last moment")
        await until(pilot, lambda: not screen.playing, "the play to stop at the end")
        await pilot.resize_terminal(80, 24)  # the bar says it all at 80 columns too, on two lines
        await pilot.pause()
        top = " ".join(strip.text.strip() for strip in app.screen._compositor.render_strips()[:2])
        assert "moment 5 of 5" in top and top.endswith("space plays · n next · ← back"), top


def test_sockviz_replay_needs_no_network_and_refuses_another_version(tmp_path, recorded_echo):
    """In a network namespace of its own with no loopback up (nothing can be reached, nothing bound),
    `sockviz replay` still opens and plays; a file of another version is refused, saying why."""
    recording = tmp_path / "echo.jsonl"
    recording.write_text(recorded_echo[0], encoding="utf-8")
    script = (
        "import asyncio, sys\n"
        "from sockviz.replay import ReplayApp, read_playback\n"
        "async def main():\n"
        f"    app = ReplayApp(read_playback(__import__('pathlib').Path({str(recording)!r})), 'echo')\n"
        "    async with app.run_test() as pilot:\n"
        "        while app.replay_screen.moment != 0:\n"
        "            await pilot.pause(0.01)\n"
        "        for _ in range(5):\n"
        "            await pilot.press('n')\n"
        "        await pilot.pause()\n"
        "        print(app.replay_screen.moment, len(app.replay_screen.scene.sockets))\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run(["unshare", "-n", sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    if done.returncode != 0 and "unshare" in done.stderr and "Operation not permitted" in done.stderr:
        pytest.skip("this machine lets no one make a network namespace")
    assert done.returncode == 0, done.stderr
    moment, sockets = map(int, done.stdout.split())
    assert moment == 5 and sockets >= 1
    # In that namespace nothing could have been reached, not even loopback: the check means something.
    probe = "import socket; socket.create_connection(('127.0.0.1', 9), timeout=1)"
    cut_off = subprocess.run(["unshare", "-n", sys.executable, "-c", probe], capture_output=True, text=True, timeout=30)
    assert cut_off.returncode != 0 and "Network is unreachable" in cut_off.stderr
    newer = tmp_path / "newer.jsonl"
    newer.write_text(recorded_echo[0].replace('"version":2', '"version":3', 1), encoding="utf-8")
    refused = subprocess.run([sys.executable, "-m", "sockviz", "replay", str(newer)], capture_output=True, text=True,
                             timeout=60)  # fmt: skip
    assert refused.returncode == 2
    assert "version 3 of the sockviz session format, and this sockviz reads versions 1 and 2 only" in refused.stderr


def test_the_recording_is_written_by_the_app_with_a_header_and_an_end(recorded_echo):
    records = read_lines(recorded_echo[0].splitlines())
    kinds = [type(r).__name__ for r in records]
    assert kinds[:2] == ["Header", "SessionStarted"] and kinds[-2:] == ["Ended", "SocketsRecord"]
    assert records[0].source == "app"
    assert "Said" in kinds and "SocketsRecord" in kinds
    assert socket.AF_INET.name == records[1].family


def shared_reading() -> Playback:
    """accept() and the connect() that woke it, a fraction of a millisecond apart, and one reading after both."""
    from dataclasses import replace

    from sockviz.core import Call, Role, SocketAdded, SocketSnapshot, StepReturned, step
    from sockviz.core.story.recording.format import EventRecord, SocketsRecord
    from sockviz.core.story.recording.sockets import SocketState

    snapshot = SocketSnapshot(fd=5, family="AF_INET", type="SOCK_STREAM", proto=6, laddr=None, raddr=None,
                              closed=False, repr="<socket>", kernel=None)  # fmt: skip
    named = ((1, "s", Role.SERVER), (2, "c", Role.CLIENT), (3, "conn", Role.CONNECTION))
    rows = [SocketState(n, name, role, replace(snapshot, fd=4 + n), "idle") for n, name, role in named]
    accept = Call(2, step("server-accept"), "s", "conn, addr = s.accept()", 1.0)
    connect = Call(3, step("client-connect"), "c", "c.connect(('127.0.0.1', 12354))", 2.0)
    done = {"waited": 0.0, "blocked": False, "woken_by": None, "cancelled": False}
    lines = [encode(header("app")), encode(SessionStarted(1, "127.0.0.1", 12354, "AF_INET")),
             encode(SocketsRecord(at=0.5, after=0, sockets=tuple(rows[:2]))),
             encode(EventRecord(SocketAdded(seq=1, at=2.0100, socket_id=3, name="conn", side=accept.step.side))),
             encode(EventRecord(StepReturned(seq=2, at=2.0101, call=accept, result="conn", **done))),
             encode(EventRecord(StepReturned(seq=3, at=2.0102, call=connect, result="None", **done))),
             encode(SocketsRecord(at=2.0402, after=3, sockets=(rows[2],)))]  # fmt: skip
    return Playback(read_lines(lines))


async def test_the_bar_says_when_the_table_is_not_the_moments_own_reading():
    """Two calls a fraction of a millisecond apart share the one reading after them: the table at the first shows
    that reading (the conn it accepted), and the bar says it was read after the next moment too."""
    playback = shared_reading()
    app = ReplayApp(playback, "burst.jsonl")
    async with app.run_test(size=(140, 44)) as pilot:
        screen = app.replay_screen
        await until(pilot, lambda: screen.moment == 0, "the first moment")
        await pilot.press("n")
        await until(pilot, lambda: screen.moment == 1, "accept() returned")
        await pilot.pause()
        bar = str(screen.bar.render())
        assert "table: as read 30 ms after this moment, after the next moment too" in bar, bar
        assert app.query_one("#sockets").row_count == 3
        await pilot.press("n")
        await until(pilot, lambda: screen.moment == 2, "connect() returned")
        await pilot.pause()
        assert "table:" not in str(screen.bar.render())  # its own reading


async def test_the_bar_keeps_its_height_from_moment_to_moment():
    """A moment whose table is not its own reading carries a note on the bar: the bar keeps room for it at every
    moment, so the screen below does not jump a line down and back while one steps through, at 80 columns or 130;
    and all it says is on the screen."""
    playback = shared_reading()
    app = ReplayApp(playback, "a recording named [bold]long[/bold] enough.jsonl")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.replay_screen
        await until(pilot, lambda: screen.moment == 0, "the first moment")
        for size in ((80, 24), (130, 40)):
            await pilot.resize_terminal(*size)
            tops: set[tuple[int, int]] = set()
            noted = 0
            for moment in range(len(playback)):
                screen.show_moment(moment)
                await pilot.pause()
                said = str(screen.bar.render())
                noted += "table:" in said
                assert "[bold]long[/bold]" in said, said  # the file's name as it is, not as markup
                shown = " ".join(
                    s.text.strip() for s in app.screen._compositor.render_strips()[: screen.bar.size.height]
                )
                assert shown.replace(" ", "") == said.replace(" ", ""), (shown, said)
                tops.add((screen.bar.outer_size.height, app.query_one("#sockets").region.y))
            assert noted and len(tops) == 1, (size, tops)


async def test_a_udp_recording_names_udps_calls_on_the_buttons(tmp_path):
    """The live panes name the calls of the transport (`r 9 recvfrom()`): a UDP session's replay said `recv()`
    and `sendall()` on its buttons, beside a log of `recvfrom()` and `sendto()`."""
    from helpers import free_port

    done = subprocess.run([sys.executable, "-m", "sockviz", "run", "--lesson", "udp-echo", "--json", "--speed", "100",
                           "--port", str(free_port())], capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    playback = Playback(read_lines(done.stdout.splitlines()))
    app = ReplayApp(playback, "udp-echo.jsonl")
    async with app.run_test(size=(140, 44)) as pilot:
        screen = app.replay_screen
        await until(pilot, lambda: screen.moment == 0, "the first moment")
        assert "recv()" in str(app.query_one("#server-recv").label)  # no call yet: TCP's, as a fresh screen
        await pilot.press("end")
        await until(pilot, lambda: screen.moment == len(playback) - 1, "the last moment")
        await pilot.pause()
        assert "recvfrom()" in str(app.query_one("#server-recv").label)
        assert "sendto()" in str(app.query_one("#client-send").label)
        await pilot.press("f1")  # help explains UDP's steps, and names no key that switches (a replay has none)
        await until(pilot, lambda: app.screen.query("#help-intro"), "help")
        intro = str(app.screen.query_one("#help-intro").render())
        assert "The steps below are UDP's" in intro and "switch" not in intro, intro
