"""A sharing app and its followers as real processes: the echo lesson on the lecturer's screen and on theirs.

Each app runs in a process of its own (tests/share_apps.py: the real app, headless, answering a test's
commands on its stdin), so the lecturer's share and the followers meet over real websockets. The test
plays the echo lesson on the lecturer's app, with hostile clients beside the followers, and waits until
every follower's log and table read as the lecturer's: an early follower, another, and a late one.
"""

from __future__ import annotations

import asyncio
import json
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import aiohttp
from helpers import PATIENCE, free_port, until

from sockviz.share.protocol import answer_frame, follow_url

HARNESS = Path(__file__).resolve().parents[1] / "share_apps.py"
FOLLOWING = "not run: you follow the lecturer's session: only the lecturer runs steps"


class AppProcess:
    """One app as a process: commands in on stdin, one JSON answer a line out."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(HARNESS), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.ready = self._answer(30)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)

    def _answer(self, timeout: float) -> dict:
        try:
            return json.loads(self._lines.get(timeout=timeout * PATIENCE))
        except queue.Empty:
            raise AssertionError(f"{self.process.args[2:]} did not answer (exit {self.process.poll()})") from None

    def ask(self, timeout: float = 20, **command: object) -> dict:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self._answer(timeout)

    def quit(self) -> dict:
        if self.process.poll() is not None:
            return {}
        answer = self.ask(do="quit")
        self.process.wait(10)
        return answer


def still(table: list[list[str]]) -> list[list[str]]:
    """The table but the countdowns of connections the kernel holds (`56 s left`), which move on their own."""
    return [[re.sub(r"^\d+ s left", "… s left", cell) for cell in row] for row in table]


def story(entries: list[str]) -> list[str]:
    """The log's entries that tell the lecturer's session (not each app's own welcome, or the lesson's keys),
    each in its words: an entry written before a lesson's panel took its room is wrapped wider."""
    told = [e for e in entries if e.split()[1:2] != ["start"] and " is loaded. It pauses after each" not in e]
    return [" ".join(entry.split()) for entry in told]


def wait_until_same(lecturer: AppProcess, follower: AppProcess, timeout: float = 10) -> dict:
    """Both apps' logs and tables, once they read alike (a follower is a moment behind); the follower's dump."""
    deadline = time.monotonic() + timeout * PATIENCE
    while True:
        theirs, mine = lecturer.ask(do="dump"), follower.ask(do="dump")
        same = story(theirs["log"]) == story(mine["log"]) and still(theirs["table"]) == still(mine["table"])
        if same:
            return mine
        if time.monotonic() > deadline:
            assert story(mine["log"]) == story(theirs["log"])
            assert still(mine["table"]) == still(theirs["table"])
        time.sleep(0.1)


async def hostile(port: int, code: str) -> None:
    """What followers must not send: garbage, a command, a 1 MB frame, a thousand answers a second, a wrong code."""
    url = follow_url("127.0.0.1", port, code)
    async with aiohttp.ClientSession() as http:
        garbage = await http.ws_connect(url)
        await garbage.send_str("garbage {")
        await garbage.send_str(json.dumps({"type": "step", "step": "server-socket"}))
        await garbage.send_bytes(b"\xff\x00")
        big = await http.ws_connect(url)
        await big.send_str("x" * (1 << 20))
        flood = await http.ws_connect(url)
        for _ in range(1000):  # as fast as they go: far more than a thousand a second
            await flood.send_str(answer_frame(1, "waits"))
        wrong = await http.get(url.replace(f"code={code}", "code=WRONG1"))
        assert wrong.status == 403
        for websocket in (garbage, big, flood):
            await websocket.close()


def test_followers_see_the_echo_lesson_as_the_lecturer_does_and_run_nothing():
    lecturer = AppProcess("lecturer", "--port", str(free_port()), "--share-port", "0", "--lesson", "echo")
    followers: list[AppProcess] = []
    try:
        address, code = f"127.0.0.1:{lecturer.ready['share_port']}", lecturer.ready["code"]
        followers += [AppProcess("follower", address, "--code", code) for _ in range(2)]
        asyncio.run(hostile(lecturer.ready["share_port"], code))
        assert "ended: every expect held" in lecturer.ask(do="play", timeout=60)["played"]
        followers.append(AppProcess("follower", address, "--code", code))  # late: the lesson is over
        dumps = [wait_until_same(lecturer, follower) for follower in followers]
        assert len(story(dumps[-1]["log"])) > 40 and len(dumps[-1]["table"]) == 6  # the whole lesson came
        before = lecturer.ask(do="dump")
        assert before["followers"] == 3
        dropped = before["dropped"]
        assert dropped["malformed"] == 1 and dropped["not an answer"] == 1 and dropped["not text"] == 1
        assert dropped["oversized"] == 1 and dropped["wrong code"] == 1 and dropped["flooding"] > 900
        assert dropped["flooding"] + dropped["no open question"] == 1000

        followers[0].ask(do="keys", keys=["s", "b", "l", "a", "S", "C", "0"])  # a follower tries to run steps
        mine = followers[0].ask(do="dump")
        assert sum(FOLLOWING in entry for entry in mine["log"]) == 6
        after = lecturer.ask(do="dump")
        assert after["log"] == before["log"] and still(after["table"]) == still(before["table"])
    finally:
        ends = [app.quit() for app in (*followers, lecturer)]
    assert all(end.get("faults") == [] for end in ends), ends


def test_rows_held_over_a_reset_are_the_lecturers_on_every_follower_and_in_the_replay(tmp_path):
    """The server closes first, so its side lingers in TIME_WAIT; after a reset the lecturer's table keeps that
    row (pre-reset) above the fresh session's. A follower there before, one who joins after, and a replay of the
    recording show the same row, and the log's word on it."""
    recording = tmp_path / "held.jsonl"
    lecturer = AppProcess("lecturer", "--port", str(free_port()), "--record", str(recording))
    followers: list[AppProcess] = []

    def lecturers_table(wanted) -> list[list[str]]:
        deadline = time.monotonic() + 10 * PATIENCE
        while not wanted(table := lecturer.ask(do="dump")["table"]):
            assert time.monotonic() < deadline, table
            time.sleep(0.05)
        return table

    try:
        address, code = f"127.0.0.1:{lecturer.ready['share_port']}", lecturer.ready["code"]
        followers.append(AppProcess("follower", address, "--code", code))
        for keys, state in ((["s", "b", "l", "a", "S", "C"], "ESTABLISHED"), (["x", "X", "z"], "TIME_WAIT")):
            lecturer.ask(do="keys", keys=keys)
            lecturers_table(lambda table, state=state: any(row[0] == "conn" and state in row for row in table))
        lecturer.ask(do="keys", keys=["0"])
        held = lecturers_table(lambda table: any("(pre-reset)" in cell for row in table for cell in row))
        assert [row[0] for row in held] == ["conn"]
        followers.append(AppProcess("follower", address, "--code", code))  # joins after the reset
        for follower in followers:
            mine = wait_until_same(lecturer, follower)
            assert still(mine["table"]) == still(held)
            assert any(
                "The kernel still holds what the session before the reset closed: conn" in e for e in mine["log"]
            )
    finally:
        ends = [app.quit() for app in (*followers, lecturer)]
    assert all(end.get("faults") == [] for end in ends), ends

    from sockviz.replay import ReplayApp, read_playback

    async def replayed() -> list[list[str]]:
        playback = read_playback(recording)
        app = ReplayApp(playback, "held")
        async with app.run_test(size=(160, 50)) as pilot:
            screen = app.replay_screen
            await until(pilot, lambda: screen.scene is not None, "the replay's first moment")
            await pilot.press("end")
            await until(pilot, lambda: screen.moment == len(playback) - 1 and screen.table.row_count, "the end")
            table = screen.table
            return [[str(cell) for cell in table.get_row(key)] for key in table.rows]

    assert still(asyncio.run(replayed())) == still(held)
