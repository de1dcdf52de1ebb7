"""One follower of `benchmarks/share.py`, a process of its own: `python benchmarks/share_follower.py MODE URL OUT
PRIORITY`.

`headless`: the follower app's own client and reader (`Connection`, `Feed`, `Mirror`) with no screen: every
line is decoded as the app decodes it. `app`: the whole follower app (`FollowApp`), headless at 160x50, whose
log shows each event. Either way it notes when it had each event (the session's number and the event's seq)
on the machine's monotonic clock, which every process shares, and writes them as JSON to OUT, with the CPU
time it used, once it has read the lecturer's note LEAVE (so it has had every line before it), the lecturer
stops sharing, or SIGTERM comes. PRIORITY is `idle` (SCHED_IDLE: it runs only on CPU time nothing else
wants, as if it were on a machine of its own) or a niceness (19, or 0: as the lecturer). It ends with its
parent, however the parent ends.
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


def die_with_parent() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG


async def headless(url: str) -> dict:
    from sockviz.core.story.recording.format import Note
    from sockviz.share.client import Connection
    from sockviz.share.mirror import Feed, StartedAfresh

    had: list[tuple[int, int, float]] = []

    def show(shown: object) -> None:
        if isinstance(shown, StartedAfresh):
            listen(shown.mirror)
            feed.release()
        elif isinstance(shown, Note) and shown.text == LEAVE:
            running.cancel()

    def listen(mirror) -> None:
        def heard(event) -> None:
            number = mirror.started.number if mirror.started else 0
            had.append((number, event.seq, time.monotonic()))

        mirror.subscribe(heard)

    feed = Feed(show)
    listen(feed.mirror)
    connection = Connection(url, feed.frame)
    running = asyncio.get_running_loop().create_task(connection.run())
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, running.cancel)
    try:
        why = await running
    except asyncio.CancelledError:
        why = "left when the benchmark said"
    return {"had": had, "why": why, "lines": feed.lines, "frames": connection.frames}


async def app(url: str) -> dict:
    from urllib.parse import parse_qs, urlparse

    from sockviz.core.story.recording.format import Note
    from sockviz.follow import FollowApp

    parts = urlparse(url)
    follower = FollowApp(parts.hostname or "127.0.0.1", parts.port or 8765, parse_qs(parts.query)["code"][0])
    had: list[tuple[int, int, float]] = []
    let_go = asyncio.Event()
    show = follower.feed.show

    def shown(what: object) -> None:
        if isinstance(what, Note) and what.text == LEAVE:
            let_go.set()
        show(what)

    follower.feed.show = shown

    def time_the_log() -> None:
        """Note when the screen puts each event in its log (a reset makes a new log: it is timed again)."""
        log = follower.session_screen.event_log
        if getattr(log, "timed", False):
            return
        show = log.show

        def timed(event) -> None:
            show(event)
            started = follower.mirror.started
            had.append((started.number if started else 0, event.seq, time.monotonic()))

        log.show = timed  # type: ignore[method-assign] - the benchmark times the real method
        log.timed = True  # type: ignore[attr-defined]

    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, let_go.set)
    async with follower.run_test(size=(160, 50)) as pilot:
        while not (follower.mirror.ended and follower.feed.lines) and follower.return_code is None:
            if let_go.is_set():
                break
            with contextlib.suppress(Exception):  # a reset is making the log again
                time_the_log()
            await pilot.pause(0.02)
        await pilot.pause(0.5)
    return {"had": had, "why": "ended", "lines": follower.feed.lines, "faults": [f.text for f in follower.faults]}


def main() -> None:
    die_with_parent()
    mode, url, out = sys.argv[1:4]
    priority = sys.argv[4] if len(sys.argv) > 4 else "idle"
    if priority == "idle":
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    else:
        os.nice(int(priority))
    started = time.process_time()
    found = asyncio.run(headless(url) if mode == "headless" else app(url))
    found["cpu"] = time.process_time() - started
    with open(out, "w") as file:
        json.dump(found, file)


if __name__ == "__main__":
    main()
