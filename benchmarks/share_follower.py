"""One follower of `benchmarks/share.py`, a process of its own: `python benchmarks/share_follower.py MODE URL OUT
PRIORITY`.

`headless`: the follower app's own client and reader (`Connection`, `Feed`, `Mirror`) with no screen: every line is
decoded as the app decodes it, in a process whose collector is tuned as the app's (`Tuning`). `app`: the whole
follower app (`FollowApp`), headless at 160x50, whose log shows each event. Either way it notes when it had each
event (the session's number and the event's seq) on the machine's monotonic clock, which every process shares, and
writes them as JSON to OUT, with the CPU time it used, once it has read the lecturer's note LEAVE (so it has had
every line before it), the lecturer stops sharing, or SIGTERM comes. It starts at nice 19 (two hundred start-ups,
polite to the machine's other work) and, once it has joined, takes PRIORITY: `idle` (SCHED_IDLE: it runs only on
CPU time nothing else wants, as if it were on a machine of its own) or a niceness (19, or 0: as the lecturer). It
ends with its parent, however the parent ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import signal
import sys
import time

LEAVE = "the benchmark's phase 3 is over: followers leave"
"""The lecturer's note that ends a follower's measuring: every line before it has been decoded."""


START_NICE = 19


def take_priority(priority: str) -> None:
    """The priority it follows at, from the first frame on."""
    if priority == "idle":
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    else:
        os.setpriority(os.PRIO_PROCESS, 0, int(priority))


def die_with_parent() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG


def first_of_each(had: list[tuple[int, int, float, float]]) -> list[tuple[int, int, float, float]]:
    """When each event was first had, and when the frame it came in arrived (a log drawn again after it narrows
    shows an event again)."""
    seen: dict[tuple[int, int], tuple[float, float]] = {}
    for number, seq, at, arrived in had:
        seen.setdefault((number, seq), (at, arrived))
    return [(number, seq, at, arrived) for (number, seq), (at, arrived) in seen.items()]


def frame_kind(text: str) -> str:
    """`lines` (the session's), or the share's own message a frame is (`facts`, `lesson`, `question`...)."""
    if text.startswith('{"share": "'):
        return text[11:].split('"', 1)[0]
    return "lines"


async def headless(url: str, priority: str) -> dict:
    from sockviz.core.story.recording.format import Note
    from sockviz.share.client import Connection
    from sockviz.share.mirror import Feed, StartedAfresh
    from sockviz.tuning import Tuning

    tuning = Tuning()  # the process tuned as the follower app tunes its own, its start-up's objects frozen
    tuning.start()
    tuning.first_frame()

    had: list[tuple[int, int, float, float]] = []
    joined: list[float] = []
    frames: list[tuple[float, str, int, float]] = []
    """Each frame: when it arrived, its kind, its lines, and the seconds its decoding took."""
    arrived = [0.0]

    def show(shown: object) -> None:
        if isinstance(shown, StartedAfresh):
            listen(shown.mirror)
            feed.release()
        elif isinstance(shown, Note) and shown.text == LEAVE:
            running.cancel()

    def listen(mirror) -> None:
        def heard(event) -> None:
            number = mirror.started.number if mirror.started else 0
            had.append((number, event.seq, time.monotonic(), arrived[0]))

        mirror.subscribe(heard)

    feed = Feed(show)
    listen(feed.mirror)

    def frame(text: str) -> None:
        arrived[0] = time.monotonic()
        if not feed.lines:
            joined.append(arrived[0])
            take_priority(priority)
        feed.frame(text)
        frames.append((arrived[0], frame_kind(text), text.count("\n") + 1, time.monotonic() - arrived[0]))

    connection = Connection(url, frame)
    running = asyncio.get_running_loop().create_task(connection.run())
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, running.cancel)
    try:
        why = await running
    except asyncio.CancelledError:
        why = "left when the benchmark said"
    return {"had": first_of_each(had), "joined": joined[0] if joined else None, "why": why, "lines": feed.lines,
            "frames": frames}  # fmt: skip


async def app(url: str, priority: str) -> dict:
    from urllib.parse import parse_qs, urlparse

    from sockviz.core.story.recording.format import Note
    from sockviz.follow import FollowApp
    from sockviz.widgets.event_log import EventLog

    parts = urlparse(url)
    follower = FollowApp(parts.hostname or "127.0.0.1", parts.port or 8765, parse_qs(parts.query)["code"][0])
    had: list[tuple[int, int, float, float]] = []
    let_go = asyncio.Event()
    show = follower.feed.show

    def shown(what: object) -> None:
        if isinstance(what, Note) and what.text == LEAVE:
            let_go.set()
        show(what)

    follower.feed.show = shown

    show_in_log = EventLog.show

    def timed(log: EventLog, event) -> None:
        """Each event as the screen puts it in its log (every log: a reset makes the log again)."""
        show_in_log(log, event)
        started = getattr(follower.session_screen.session, "started", None)  # the mirror the screen shows
        now = time.monotonic()
        had.append((started.number if started else 0, event.seq, now, now))  # its frame's arrival: not seen

    EventLog.show = timed  # type: ignore[method-assign] - the benchmark times the real method

    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, let_go.set)
    async with follower.run_test(size=(160, 50)) as pilot:
        joined: float | None = None
        while not (follower.mirror.ended and follower.feed.lines) and follower.return_code is None:
            if let_go.is_set():
                break
            if follower.feed.lines and joined is None:
                joined = time.monotonic()
                take_priority(priority)
            await pilot.pause(0.02)
        await pilot.pause(0.5)
    return {"had": first_of_each(had), "joined": joined, "why": "ended", "lines": follower.feed.lines,
            "faults": [f.text for f in follower.faults]}  # fmt: skip


def main() -> None:
    die_with_parent()
    mode, url, out = sys.argv[1:4]
    priority = sys.argv[4] if len(sys.argv) > 4 else "idle"
    os.setpriority(os.PRIO_PROCESS, 0, START_NICE)
    started = time.process_time()
    found = asyncio.run(headless(url, priority) if mode == "headless" else app(url, priority))
    found["cpu"] = time.process_time() - started
    with open(out + ".part", "w") as file:
        json.dump(found, file)
    os.replace(out + ".part", out)  # whole or not at all


if __name__ == "__main__":
    main()
