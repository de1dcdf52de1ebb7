"""A lecturer with 200 followers: `python benchmarks/share.py [--followers 200] [--apps 3] [--rounds 3]`.

The lecturer is the real app with its share (`SockvizApp` and `ShareServer`), headless at 160x50, playing
the echo lesson as a lecturer does (space after each narration, then ctrl+r to play it again), `--rounds`
times; then a burst of 100 clients. The followers are processes of their own (benchmarks/share_follower.py):
`--apps` whole follower apps, the rest headless followers that decode every line with the follower app's
own code. Measured: the lecturer's event-loop lag (how late a 10 ms sleep wakes) while it plays, against
the same play with no follower, in the same run; and for every follower, how long after the lecturer's
session told each event that follower had it (the app's log showed it, or the headless reader decoded
it), on the monotonic clock all processes share. Targets: the lecturer's p99 under 16 ms, every follower
within 250 ms. Run it in a network namespace of its own:
`unshare -n sh -c 'ip link set lo up && python benchmarks/share.py'`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from textual.widgets import Input

from sockviz.app import SockvizApp
from sockviz.core import Event, Side
from sockviz.core.scenario import lessons
from sockviz.share.protocol import follow_url
from sockviz.share.server import ShareServer

HERE = Path(__file__).parent
BURST = 100


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) > 1 else (values[0] if values else 0.0)


async def lag_while(done: asyncio.Event, lags: list[float]) -> None:
    while not done.is_set():
        before = time.perf_counter()
        await asyncio.sleep(0.01)
        lags.append(time.perf_counter() - before - 0.01)


class Told:
    """When the lecturer's session told each event: (session number, seq) to the monotonic clock."""

    def __init__(self) -> None:
        self.at: dict[tuple[int, int], float] = {}
        self.number = 0
        self.session = None

    def follow(self, app: SockvizApp) -> None:
        if app.session is not self.session:
            self.session = app.session
            self.number += 1
            number = self.number
            app.session.subscribe(lambda event: self._heard(number, event))

    def _heard(self, number: int, event: Event) -> None:
        self.at[(number, event.seq)] = time.monotonic()


async def play(app: SockvizApp, pilot, told: Told, rounds: int) -> None:
    """The echo lesson `rounds` times, as a lecturer plays it."""

    def panel() -> str:
        return str(app.session_screen.scenario_panel.render())

    for round_ in range(rounds):
        if round_:
            await pilot.press("ctrl+r")
            while app.session_screen._rebuilding or "line 1 of" not in panel():
                await pilot.pause(0.02)
        told.follow(app)
        await pilot.press("space")
        while "ended" not in panel() and "stopped" not in panel():
            if "paused after" in panel():
                await pilot.press("space")
            await pilot.pause(0.02)


async def burst(app: SockvizApp, pilot) -> None:
    """A burst of clients, each connecting in its thread, and the accepts the table shows them by."""
    await app.session_screen.pane(Side.CLIENT).open_settings()
    app.session_screen.query_one("#client-burst-count", Input).value = str(BURST)
    await pilot.press("escape", "s", "o", "b", "l", "B")  # SO_REUSEADDR: the lesson's connections linger
    while sum(t.role.value == "client" for t in app.session.sockets) < BURST + 3:
        await pilot.pause(0.05)
    await pilot.pause(1.0)


async def lecture(followers: int, apps: int, rounds: int, out: Path) -> dict:
    port, share_port = free_port(), free_port()
    share = ShareServer("127.0.0.1", share_port)
    share.start()
    told = Told()
    app = SockvizApp(port=port, share=share, scenario=("lesson: echo", lessons.text("echo")))
    processes = []
    results: dict = {"followers": followers}
    url = follow_url("127.0.0.1", share.port, share.code)
    try:
        async with app.run_test(size=(160, 50)) as pilot:
            told.follow(app)
            await pilot.pause(0.5)
            if followers:
                started = time.monotonic()
                for number in range(followers):
                    mode = "app" if number < apps else "headless"
                    processes.append(subprocess.Popen(
                        [sys.executable, str(HERE / "share_follower.py"), mode, url, str(out / f"{number}.json")],
                        stdin=subprocess.DEVNULL))  # fmt: skip
                while share.followers < followers:
                    await pilot.pause(0.2)
                    if time.monotonic() - started > 300:
                        raise RuntimeError(f"only {share.followers} of {followers} followers joined in 300 s")
                results["joined in"] = time.monotonic() - started
                await pilot.pause(2.0)  # the last ones' start-up is over
            done = asyncio.Event()
            lags: list[float] = []
            sampler = asyncio.create_task(lag_while(done, lags))
            cpu = thread_cpu()
            began = time.perf_counter()
            await play(app, pilot, told, rounds)
            done.set()
            await sampler
            results["lessons end"] = time.monotonic()
            results["seconds"] = time.perf_counter() - began
            after = thread_cpu()
            results["cpu"] = {name: seconds - cpu.get(name, 0.0) for name, seconds in after.items()}
            results["lags"] = lags
            done, burst_lags = asyncio.Event(), []
            sampler = asyncio.create_task(lag_while(done, burst_lags))
            await burst(app, pilot)
            done.set()
            await sampler
            results["burst lags"] = burst_lags
            results["dropped"] = dict(share.dropped)
    finally:
        share.stop()
        for process in processes:
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
    results["told"] = told.at
    return results


def delays(told: dict[tuple[int, int], float], had: list) -> list[float]:
    return [at - told[(number, seq)] for number, seq, at in had if (number, seq) in told]


def timed(told: dict[tuple[int, int], float], had: list) -> list[tuple[float, float]]:
    """(delay, when the lecturer told it) for each event a follower had."""
    return [(at - told[(number, seq)], told[(number, seq)]) for number, seq, at in had if (number, seq) in told]


def thread_cpu() -> dict[str, float]:
    """CPU seconds of the lecturer's threads that matter here: the UI's, the share's, the recorder's."""
    tick = os.sysconf("SC_CLK_TCK")
    names = {"MainThread": "the UI", "sockviz-share": "the share's server", "sockviz-recorder": "its recorder"}
    found: dict[str, float] = {}
    for thread in threading.enumerate():
        name = names.get(thread.name)
        if name is None or thread.native_id is None:
            continue
        try:
            fields = Path(f"/proc/self/task/{thread.native_id}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[name] = found.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--followers", type=int, default=200)
    parser.add_argument("--apps", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    alone = asyncio.run(lecture(0, 0, args.rounds, Path(tempfile.mkdtemp())))
    out = Path(tempfile.mkdtemp(prefix="sockviz-share-bench-"))
    shared = asyncio.run(lecture(args.followers, args.apps, args.rounds, out))
    told = shared["told"]
    worst_by_follower, seen, faults, follower_cpu, frames = [], [], [], [], []
    for number in range(args.followers):
        path = out / f"{number}.json"
        if not path.exists():
            worst_by_follower.append(float("inf"))
            seen.append(0)
            continue
        found = json.loads(path.read_text())
        waited = delays(told, found["had"])
        worst_by_follower.append(max(waited) if waited else float("inf"))
        seen.append(len(waited))
        faults += found.get("faults", [])
        follower_cpu.append(found.get("cpu", 0.0))
        frames.append(found.get("frames", 0))
    every = [pair for number in range(args.followers) if (out / f"{number}.json").exists()
             for pair in timed(told, json.loads((out / f"{number}.json").read_text())["had"])]  # fmt: skip
    lag_alone, lag_shared = p99(alone["lags"]), p99(shared["lags"])
    worst = max(worst_by_follower) if worst_by_follower else 0.0
    in_lessons = [d for d, at in every if at <= shared["lessons end"]]
    lesson_worst = max(in_lessons, default=0.0)
    delays_only = [d for d, _ in every]
    print(
        f"sockviz share benchmark: {args.followers} followers ({args.apps} apps), {args.rounds} echo lessons "
        f"and a burst of {BURST}; load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    )
    print(f"  followers joined in {shared.get('joined in', 0):.1f} s; the lecturer told {len(told)} events")
    ok = "ok  " if lag_shared < 0.016 else "MISS"
    print(
        f"  {ok} lecturer's event-loop lag p99 in the lessons: {lag_shared * 1000:.1f} ms with followers, "
        f"{lag_alone * 1000:.1f} ms alone ({len(shared['lags'])} samples)   target: < 16 ms"
    )
    print(
        f"       ... during the burst: {p99(shared['burst lags']) * 1000:.1f} ms with followers, "
        f"{p99(alone['burst lags']) * 1000:.1f} ms alone"
    )
    ok = "ok  " if lesson_worst < 0.25 else "MISS"
    print(
        f"  {ok} every follower within {lesson_worst * 1000:.0f} ms of the lecturer in the lessons "
        f"(p50 {statistics.median(in_lessons or [0]) * 1000:.1f} ms, p99 {p99(in_lessons) * 1000:.1f} ms over "
        f"{len(in_lessons)} deliveries)   target: < 250 ms"
    )
    print(
        f"       ... with the burst: worst {worst * 1000:.0f} ms, p99 {p99(delays_only) * 1000:.1f} ms; "
        f"the follower apps' logs within {max(worst_by_follower[: args.apps], default=0.0) * 1000:.0f} ms"
    )
    print(
        f"  events each follower had: min {min(seen, default=0)} max {max(seen, default=0)} of {len(told)}; "
        f"faults in follower apps: {len(faults)}; frames the share dropped: {shared['dropped'] or 'none'}"
    )
    headless = statistics.median(follower_cpu[args.apps :] or [0])
    print(f"  frames a headless follower got: {statistics.median(frames[args.apps :] or [0]):.0f} (median)")
    print(
        f"  CPU of the follower processes, start-up included: {sum(follower_cpu):.1f} s in all; the apps "
        f"{sum(follower_cpu[: args.apps]):.1f} s, a headless one {headless:.2f} s (median)"
    )
    for label, run in (("with followers", shared), ("alone", alone)):
        cpu = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in run["cpu"].items())
        print(f"  CPU of the lecturer's threads in the lessons ({run['seconds']:.1f} s), {label}: {cpu}")


if __name__ == "__main__":
    main()
