"""A lecturer's sharing app or a follower's app, as a real process that a test drives over its stdin.

    python tests/share_apps.py lecturer --port P --share-port Q [--lesson echo] [--record FILE] [--predict]
    python tests/share_apps.py follower 127.0.0.1:Q --code CODE

Each runs the real app (`SockvizApp` with a `ShareServer`, or `FollowApp`) headless, at a fixed size so
that two apps wrap their logs alike, and answers JSON commands, one a line, with one JSON line each:
`{"do": "dump"}` (the log's entries, the table's rows, the wire view's lines, what the share counted),
`{"do": "keys", "keys": [...]}`,
`{"do": "play"}` (the loaded lesson to its end, as a lecturer plays it) and `{"do": "quit"}`. The first line
it writes says it is ready (and, for a lecturer, the join code).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import threading

from sockviz.app import SockvizApp, SockvizBase
from sockviz.core.scenario import lessons
from sockviz.follow import FollowApp

SIZE = (160, 50)
ENTRY = re.compile(r"^\s*\d+\.\d{3} ")
"""A log entry's first line starts with its time; the lines after it, until the next, are its wrapping."""


def log_entries(app: SockvizBase) -> list[str]:
    """The log as entries (time, side, text and its wrapping), oldest first."""
    entries: list[str] = []
    for strip in app.session_screen.event_log.lines:
        text = strip.text.rstrip()
        if ENTRY.match(text) or not entries:
            entries.append(text)
        else:
            entries[-1] += "\n" + text
    return entries


def table_rows(app: SockvizBase) -> list[list[str]]:
    table = app.session_screen.table
    return [[str(cell) for cell in table.get_row(key)] for key in table.rows]


def wire_words(app) -> str:
    """The wire view's lines drawn so far, their words only (however the pane wraps them)."""
    return " ".join(" ".join(strip.text.split()) for strip in app.session_screen.wire.lines)


def dump(app: SockvizBase) -> dict:
    found: dict = {"log": log_entries(app), "table": table_rows(app), "wire": wire_words(app)}
    share = getattr(app, "share", None)
    if share is not None:
        found |= {"dropped": dict(share.dropped), "followers": share.followers, "code": share.code}
    found["events"] = getattr(app.session_screen.session, "events_seen", None)
    return found


async def play(app: SockvizBase, pilot) -> str:
    """Space, and space again after each narration the lesson pauses at, until it ends."""

    def panel() -> str:
        return str(app.session_screen.scenario_panel.render())

    await pilot.press("space")
    while True:
        while not any(word in panel() for word in ("paused after", "ended", "stopped")):
            await pilot.pause(0.01)
        if "ended" in panel() or "stopped" in panel():
            return panel()
        await pilot.press("space")


def _commands(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue) -> None:
    for line in sys.stdin:
        loop.call_soon_threadsafe(queue.put_nowait, json.loads(line))
    loop.call_soon_threadsafe(queue.put_nowait, {"do": "quit"})


def say(record: dict) -> None:
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


async def serve(app: SockvizBase, ready: dict) -> None:
    async with app.run_test(size=SIZE) as pilot:
        queue: asyncio.Queue = asyncio.Queue()
        threading.Thread(target=_commands, args=(asyncio.get_running_loop(), queue), daemon=True).start()
        say({"ready": True, **ready})
        while True:
            command = await queue.get()
            do = command.get("do")
            if do == "quit":
                break
            if do == "dump":
                await pilot.pause()
                say(dump(app))
            elif do == "keys":
                for key in command["keys"]:
                    await pilot.press(key)
                await pilot.pause()
                say({"pressed": command["keys"]})
            elif do == "play":
                say({"played": await play(app, pilot)})
    say({"quit": True, "faults": [fault.text for fault in app.faults]})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=("lecturer", "follower"))
    parser.add_argument("address", nargs="?")
    parser.add_argument("--port", type=int, default=12354)
    parser.add_argument("--share-port", type=int, default=0)
    parser.add_argument("--lesson")
    parser.add_argument("--code")
    parser.add_argument("--record")
    parser.add_argument("--predict", action="store_true")
    args = parser.parse_args()
    if args.role == "lecturer":
        from sockviz.share.server import ShareServer

        share = ShareServer("127.0.0.1", args.share_port)
        share.start()
        scenario = (f"lesson: {args.lesson}", lessons.text(args.lesson)) if args.lesson else None
        record = open(args.record, "w", encoding="utf-8") if args.record else None  # noqa: SIM115 - closed below
        app: SockvizBase = SockvizApp(port=args.port, share=share, scenario=scenario, record=record,
                                      predict=args.predict)  # fmt: skip
        try:
            asyncio.run(serve(app, {"code": share.code, "share_port": share.port}))
        finally:
            share.stop()
            if record is not None:
                record.close()
    else:
        host, _, port = args.address.rpartition(":")
        app = FollowApp(host, int(port), args.code)
        asyncio.run(serve(app, {}))
    sys.exit(app.return_code or 0)


if __name__ == "__main__":
    main()
