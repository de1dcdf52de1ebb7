"""The lecturer's wire view reaches the class and the recording: the lines, never the frames.

The lecturer is a real sharing app in a process of its own (tests/share_apps.py) that opens its wire view
and plays the echo lesson while recording; a follower app under Pilot shows the same lines in its wire view;
the recording replays them, moment by moment, in the replay's wire view.
"""

from __future__ import annotations

import os

import pytest
from helpers import free_port, until
from test_share_processes import AppProcess

from sockviz.core.story.recording.format import WireShown
from sockviz.core.story.wire_text import plain
from sockviz.follow import FollowApp
from sockviz.replay import ReplayApp, read_playback
from sockviz.screens.classroom import WIRE_NOT_YET
from sockviz.screens.replay import NO_WIRE_YET

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="a raw socket on lo needs root")


def words(widget) -> str:
    return " ".join(" ".join(strip.text.split()) for strip in widget.lines)


def flat(text: str) -> str:
    return " ".join(text.split())


@root_only
async def test_a_follower_and_a_replay_see_the_lecturers_wire_lines(tmp_path):
    recording = tmp_path / "lecture.jsonl"
    lecturer = AppProcess("lecturer", "--port", str(free_port()), "--share-port", "0", "--lesson", "echo",
                          "--record", str(recording))  # fmt: skip
    try:
        app = FollowApp("127.0.0.1", lecturer.ready["share_port"], lecturer.ready["code"])
        async with app.run_test(size=(160, 50)) as pilot:
            wire = app.session_screen.wire
            await until(pilot, lambda: app.mirror.started is not None, "the follower to join")
            await pilot.press("w")
            await until(pilot, lambda: WIRE_NOT_YET.split(":")[0] in words(wire), "why there is nothing yet")
            lecturer.ask(do="keys", keys=["w"])
            assert "ended: every expect held" in lecturer.ask(do="play", timeout=60)["played"]
            await until(pilot, lambda: "FIN-ACK" in lecturer.ask(do="dump")["wire"], "the lecturer's FIN", 10)
            theirs = lecturer.ask(do="dump")["wire"]
            await until(pilot, lambda: theirs in words(wire), "the lecturer's lines in the follower's wire", 10)
            assert "client: c.connect(" in theirs and "c → conn SYN" in theirs and "b'Hello" in theirs
            assert not app.faults
    finally:
        assert lecturer.quit().get("faults") == []

    playback = read_playback(recording)
    recorded = [record for record in playback.records if isinstance(record, WireShown)]
    assert flat(" ".join(plain(record.parts) for record in recorded)).startswith(theirs)
    replay = ReplayApp(playback, "lecture.jsonl")
    async with replay.run_test(size=(160, 50)) as pilot:
        screen = replay.replay_screen
        await until(pilot, lambda: screen.moment == 0, "the first moment")
        await pilot.press("w")
        await until(pilot, lambda: NO_WIRE_YET in flat(words(screen.wire)), "no line yet at the first moment")
        await pilot.press("end")
        await until(pilot, lambda: theirs in words(screen.wire), "every line at the last moment")

        def wire_at(moment: int) -> str:
            return flat(" ".join(plain(shown.parts) for shown in playback.scene(moment).wire))

        handshake = next(i for i in range(len(playback)) if "SYN-ACK" in wire_at(i))
        while screen.moment > handshake:
            await pilot.press("left")  # step back: the wire as it was then
        await until(pilot, lambda: screen.moment == handshake, "the moment after the handshake")
        assert words(screen.wire) == wire_at(handshake) and "FIN" not in wire_at(handshake)
