"""A lecturer with 200 followers: `python benchmarks/share.py [--followers 200] [--apps 3] [--rounds 3]
[--priority idle]`.

The lecturer is the real app with its share (`SockvizApp` and `ShareServer`, whose process serves the
followers), headless at 160x50, playing the echo lesson as a lecturer does (space after each narration,
then ctrl+r to play it again), `--rounds` times. One app, one run, in phases:

1. alone: the rounds and the burst with nobody following;
2. the followers join: processes of their own (benchmarks/share_follower.py), `--apps` whole follower apps
   and the rest headless followers that decode every line with the follower app's own code, at
   `--priority`: `idle` (SCHED_IDLE: they get only the CPU time the lecturer's processes leave, as if each
   student had a machine of their own, which in a class they do; nice 19 is not enough: two hundred
   runnable nice-19 processes weigh three times one nice-0 process), 19, or 0 (what 200 followers on the
   lecturer's own 2 cores cost it). How long they take to join is said apart;
3. with followers: the rounds, then a burst of 100 clients, measured apart;
4. alone again, once they have gone: the rounds and the burst.

Measured: the lecturer's event-loop lag (how late a 10 ms sleep wakes) in each phase; for each event of
phase 3, on the monotonic clock every process shares, how long after the lecturer's process sent its line
(down the share's pipe) each follower had decoded it, and how long after the lecturer's session told it;
and the CPU seconds each part used in phase 3 against what the machine's cores give in that time.
Targets: the lecturer's p99 under 16 ms, every follower within 250 ms. Run it in a network namespace:
`unshare -n sh -c 'ip link set lo up && python benchmarks/share.py'`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from textual.screen import Screen
from textual.widgets import Input

from sockviz.app import SockvizApp
from sockviz.core import Event, Side
from sockviz.core.scenario import lessons
from sockviz.core.story.recording.format import Note
from sockviz.share.protocol import follow_url
from sockviz.share.server import ShareServer

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from share_follower import LEAVE  # noqa: E402 - the followers' own module, beside this one
from turns import Turns  # noqa: E402

BURST = 100
SETTLE = 2.0
"""Seconds after the last follower joined before phase 3: the last ones' start-up is over."""
TICK = os.sysconf("SC_CLK_TCK")
JOINING = 300.0
"""Seconds the followers have to join; the run goes on with those who have (and says how many)."""
LEAVING = 120.0
"""Seconds the followers have, after phase 3, to read every line up to the lecturer's note to leave."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def p(values: list[float], percent: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100)[percent - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def process_cpu(pid: int | str) -> float:
    """User and system CPU seconds of a process (or one of this process's threads, `self/task/TID`)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def lecturer_cpu(share: ShareServer) -> dict[str, float]:
    """CPU seconds of what the lecturer runs: its UI thread, the share's recorder and link threads, the share's
    process."""
    names = {"MainThread": "the UI thread", "sockviz-recorder": "the recorder", "sockviz-share": "the share's link"}
    found: dict[str, float] = {}
    for thread in threading.enumerate():
        name = names.get(thread.name)
        if name is not None and thread.native_id is not None:
            found[name] = found.get(name, 0.0) + process_cpu(f"self/task/{thread.native_id}")
    if share.pid is not None:
        found["the share's process"] = process_cpu(share.pid)
    return found


class Lags:
    """How late a 10 ms sleep wakes on the lecturer's event loop, while something plays."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self._done = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._sample())

    async def _sample(self) -> None:
        while not self._done.is_set():
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            self.lags.append(time.perf_counter() - before - 0.01)

    async def stop(self) -> list[float]:
        self._done.set()
        await self._task
        return self.lags


class Frames:
    """The CPU of each frame and each layout of the lecturer's screen while something plays: the turns that hold
    its loop longest (Textual's two calls for them, timed on the UI thread; a layout includes its frame)."""

    def __init__(self) -> None:
        self.frames: list[float] = []
        self.layouts: list[float] = []
        refresh, layout = Screen._compositor_refresh, Screen._refresh_layout

        def timed_refresh(screen: Screen) -> None:
            started = time.thread_time()
            refresh(screen)
            self.frames.append(time.thread_time() - started)

        def timed_layout(screen: Screen, *args, **kwargs) -> None:
            started = time.thread_time()
            layout(screen, *args, **kwargs)
            self.layouts.append(time.thread_time() - started)

        Screen._compositor_refresh = timed_refresh  # type: ignore[method-assign]
        Screen._refresh_layout = timed_layout  # type: ignore[method-assign]

    def since(self, mark: tuple[int, int]) -> tuple[list[float], list[float]]:
        return self.frames[mark[0] :], self.layouts[mark[1] :]

    def mark(self) -> tuple[int, int]:
        return len(self.frames), len(self.layouts)


async def floor(app: SockvizApp, pilot) -> dict[str, float]:
    """The CPU of frames that no frame of this screen goes under for what it draws (medians of seven): every widget
    drawn again; the table, the log and the lesson's panel drawn again (what a step of a lesson changes: a row, a
    line that scrolls the log, the panel's line); the whole screen composed from what the widgets have drawn."""
    screen = app.session_screen
    parts = {"every widget": list(screen.walk_children(with_self=True)),
             "the table, the log and the panel": [screen.table, screen.event_log, screen.scenario_panel],
             "composing": [screen]}  # fmt: skip
    found = {}
    for name, widgets in parts.items():
        times = []
        for _ in range(7):
            await pilot.pause(0.05)
            for widget in widgets:
                widget.refresh()
            screen._dirty_widgets.update(widgets)
            started = time.thread_time()
            screen._on_timer_update()
            times.append(time.thread_time() - started)
        found[name] = statistics.median(times)
    return found


class Told:
    """When the lecturer's session told each event, and when its line went down the share's pipe: (session
    number, seq) to the monotonic clock."""

    def __init__(self, share: ShareServer) -> None:
        self.at: dict[tuple[int, int], float] = {}
        self.sent: dict[tuple[int, int], float] = {}
        self.number = 0
        self.session = None
        self._batches: list[tuple[list[str], float]] = []
        share.on_lines.append(lambda lines, at: self._batches.append((lines, at)))

    def follow(self, app: SockvizApp) -> None:
        if app.session is not self.session:
            self.session = app.session
            self.number += 1
            number = self.number
            app.session.subscribe(lambda event: self._heard(number, event))

    def _heard(self, number: int, event: Event) -> None:
        self.at[(number, event.seq)] = time.monotonic()

    def kinds(self, start: float, end: float) -> dict[str, tuple[int, int]]:
        """Lines and bytes sent between `start` and `end`, by record kind."""
        found: dict[str, tuple[int, int]] = {}
        for lines, at in self._batches:
            if start <= at <= end:
                for line in lines:
                    kind = line[11:].split('"', 1)[0] if line.startswith('{"record":"') else "share's own"
                    count, size = found.get(kind, (0, 0))
                    found[kind] = (count + 1, size + len(line))
        return found

    def read_sent(self) -> None:
        """The pipe's lines, read after the run (not while the lecturer is measured): each event's send time."""
        number = 0
        for lines, at in self._batches:
            for line in lines:
                if line.startswith('{"record":"session"'):
                    number = json.loads(line)["number"]
                elif line.startswith('{"record":"event"'):
                    self.sent[(number, json.loads(line)["seq"])] = at


async def play(app: SockvizApp, pilot, told: Told, rounds: int) -> None:
    """The echo lesson `rounds` times, as a lecturer plays it (the lesson loaded again before each)."""

    def panel() -> str:
        return str(app.session_screen.scenario_panel.render())

    for _ in range(rounds):
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


async def measured(
    app: SockvizApp, pilot, told: Told, rounds: int, reading, turns: Turns | None, phase: str, frames: Frames
) -> dict:
    """The rounds, then the burst: the loop's lag in each, the frames and layouts of the rounds, and `reading()`
    (CPU so far) at each boundary."""
    found: dict = {"read": [reading()], "at": [time.monotonic()]}
    if turns is not None:
        turns.mark(f"the lessons {phase}")
    lags = Lags()
    mark = frames.mark()
    await play(app, pilot, told, rounds)
    found["lags"] = await lags.stop()
    found["frames"] = frames.since(mark)
    found["read"].append(reading())
    found["at"].append(time.monotonic())
    if turns is not None:
        turns.mark(f"the burst {phase}")
    lags = Lags()
    await burst(app, pilot)
    found["burst lags"] = await lags.stop()
    found["read"].append(reading())
    found["at"].append(time.monotonic())
    if turns is not None:
        turns.mark(f"between phases (after {phase})")
    return found


async def lecture(args: argparse.Namespace, out: Path, turns: Turns | None) -> dict:
    port = free_port()
    share = ShareServer("127.0.0.1", free_port())
    share.start()
    told = Told(share)
    app = SockvizApp(port=port, share=share, scenario=("lesson: echo", lessons.text("echo")))
    followers: list[subprocess.Popen] = []
    probes: list[subprocess.Popen] = []
    results: dict = {}
    frames = Frames()
    url = follow_url("127.0.0.1", share.port, share.code)
    try:
        async with app.run_test(size=(160, 50)) as pilot:
            told.follow(app)
            await pilot.pause(0.5)

            def alone() -> dict[str, float]:
                return lecturer_cpu(share)

            results["alone"] = await measured(app, pilot, told, args.rounds, alone, turns, "alone", frames)
            results["floor"] = await floor(app, pilot)

            started = time.monotonic()
            for number in range(args.followers):
                mode = "app" if number < args.apps else "headless"
                command = [sys.executable, str(HERE / "share_follower.py"), mode, url, str(out / f"{number}.json")]
                followers.append(subprocess.Popen([*command, args.priority], stdin=subprocess.DEVNULL))
            probe = [sys.executable, str(HERE / "share_follower.py"), "headless", url, str(out / "probe.json"), "0"]
            probes.append(subprocess.Popen(probe, stdin=subprocess.DEVNULL))  # at the lecturer's priority
            while share.followers < args.followers + 1 and time.monotonic() - started < JOINING:
                await pilot.pause(0.1)
            results["joined in"] = time.monotonic() - started
            results["joined"] = share.followers - 1  # the probe is not counted
            await pilot.pause(SETTLE)

            def reading() -> tuple[dict[str, float], float]:
                return lecturer_cpu(share), sum(process_cpu(follower.pid) for follower in followers)

            apps_at_phase_3 = sum(process_cpu(f.pid) for f in followers[: args.apps])
            results["shared"] = await measured(app, pilot, told, args.rounds, reading, turns, "with followers", frames)
            results["dropped"] = dict(share.dropped)

            share.record(Note(at=app.session.now(), who="benchmark", text=LEAVE, kind="guide"))
            left = time.monotonic()
            while share.followers and time.monotonic() - left < LEAVING:
                await pilot.pause(0.1)
            results["caught up in"] = time.monotonic() - left
            apps = followers[: args.apps]
            results["followers' phase 3"] = (reading()[1] - results["shared"]["read"][0][1],
                                             sum(process_cpu(f.pid) for f in apps) - apps_at_phase_3,
                                             time.monotonic() - results["shared"]["at"][0])  # fmt: skip
            for follower in [*followers, *probes]:  # they write what they had, then end
                with contextlib.suppress(subprocess.TimeoutExpired):
                    await asyncio.to_thread(follower.wait, max(0.1, left + LEAVING - time.monotonic()))
                if follower.poll() is None:
                    follower.send_signal(signal.SIGTERM)  # still there: it writes what it had, and goes
            for follower in [*followers, *probes]:
                try:
                    await asyncio.to_thread(follower.wait, 60)
                except subprocess.TimeoutExpired:
                    follower.kill()
            while share.followers:
                await pilot.pause(0.1)
            await pilot.pause(SETTLE)
            results["alone again"] = await measured(app, pilot, told, args.rounds, alone, turns, "alone again", frames)
    finally:
        share.stop()
        for follower in [*followers, *probes]:
            if follower.poll() is None:
                follower.kill()
    told.read_sent()
    results["told"], results["sent"] = told.at, told.sent
    at = results["shared"]["at"]
    results["kinds"] = told.kinds(at[0], at[1]), told.kinds(at[1], at[2])
    return results


def deliveries(results: dict, out: Path, count: int | str, start: float, end: float) -> dict:
    """The delays of the followers who had joined before phase 3 (`count` of them, or the one named so), for the
    events told between `start` and `end`: from the lecturer's send, and from its session; for headless followers
    split into the frame's coming (the share's batching and fan-out, the kernel, the follower's wait for the CPU)
    and its decoding up to the event; and the frames each had in that time, by kind."""
    told, sent = results["told"], results["sent"]
    found: dict = {"from send": [], "from session": [], "worst": [], "seen": [], "faults": [], "cpu": [], "out": 0,
                   "coming": [], "decoding": [], "frames": [], "kinds": {}}  # fmt: skip
    wanted = {key for key, at in told.items() if start <= at <= end and key in sent}
    began = results["shared"]["at"][0]
    for name in [count] if isinstance(count, str) else range(count):
        path = out / f"{name}.json"
        had = json.loads(path.read_text()) if path.exists() else {}
        if had.get("joined") is None or had["joined"] > began:
            found["out"] += 1  # it never joined, or only once phase 3 had begun: its catch-up is no delay
            continue
        delays = []
        for session, seq, at, arrived in had["had"]:
            key = (session, seq)
            if key in wanted:
                delays.append(at - sent[key])
                found["from session"].append(at - told[key])
                if isinstance(had.get("frames"), list):
                    found["coming"].append(arrived - sent[key])
                    found["decoding"].append(at - arrived)
        found["from send"] += delays
        found["worst"].append(max(delays, default=float("inf")))
        found["seen"].append(len(delays))
        found["faults"] += had.get("faults", [])
        found["cpu"].append(had.get("cpu", 0.0))
        if isinstance(had.get("frames"), list):
            mine = [(kind, lines) for arrived, kind, lines, _ in had["frames"] if start <= arrived <= end + 1.0]
            found["frames"].append(len(mine))
            for kind, lines in mine:
                frames, count_lines = found["kinds"].get(kind, (0, 0))
                found["kinds"][kind] = (frames + 1, count_lines + lines)
    found["wanted"] = len(wanted)
    return found


def cpu_used(phase: dict, part: int) -> tuple[dict[str, float], float, float]:
    """CPU seconds of each of the lecturer's parts, of the followers, and the wall seconds, in part 0 (the lessons)
    or 1 (the burst) of a phase."""
    before, after = phase["read"][part], phase["read"][part + 1]
    seconds = phase["at"][part + 1] - phase["at"][part]
    if isinstance(before, dict):
        before, after = (before, 0.0), (after, 0.0)
    lecturer = {name: value - before[0].get(name, 0.0) for name, value in after[0].items()}
    return lecturer, after[1] - before[1], seconds


def report_delays(label: str, had: dict, apps: int) -> None:
    sends, sessions = had["from send"], had["from session"]
    worst = max(sends, default=0.0)
    missed = sum(seen < had["wanted"] for seen in had["seen"])
    short = f"; {missed} followers had not every event (let go, or lost)" if missed else ""
    print(f"  {'ok  ' if worst < 0.25 and not missed else 'MISS'} {label}: every follower within {ms(worst)} of the "
          f"lecturer's send (p50 {ms(p(sends, 50))}, p99 {ms(p(sends, 99))} over {len(sends)} deliveries of "
          f"{had['wanted']} events{short})   target: < 250 ms")  # fmt: skip
    print(f"       ... from the lecturer's session telling the event: p50 {ms(p(sessions, 50))}, "
          f"p99 {ms(p(sessions, 99))}, worst {ms(max(sessions, default=0.0))}; the follower apps' logs within "
          f"{ms(max((w for w in had['worst'][:apps] if w != float('inf')), default=0.0))}")  # fmt: skip


def report_where(label: str, had: dict, probe: dict, seconds: float, cpu_per_frame: float, followers: int) -> None:
    """Where the followers' delay is: the share's side (a probe follower at the lecturer's priority, which never
    waits for the CPU), the frame's coming to an idle follower, its decoding; and the floor the cores set."""
    coming, decoding = had["coming"], had["decoding"]
    if not coming:
        return
    print(f"       ... where: to a probe follower at the lecturer's priority (the share's batching and fan-out, the "
          f"kernel) p50 {ms(p(probe['coming'], 50))}, p99 {ms(p(probe['coming'], 99))}, worst "
          f"{ms(max(probe['coming'], default=0.0))}; to the idle followers, their frame's coming p50 "
          f"{ms(p(coming, 50))}, p99 {ms(p(coming, 99))}, and its decoding up to the event p50 {ms(p(decoding, 50))}, "
          f"p99 {ms(p(decoding, 99))}")  # fmt: skip
    frames = statistics.median(had["frames"] or [0])
    kinds = ", ".join(f"{n / max(1, len(had['frames'])):.0f} {kind} ({lines / max(1, n):.1f} lines each)"
                      for kind, (n, lines) in sorted(had["kinds"].items()))  # fmt: skip
    cores = os.cpu_count() or 1
    each_frame = followers * cpu_per_frame
    print(f"       ... frames each follower had: {frames:.0f} in {seconds:.1f} s ({kinds}); at "
          f"{cpu_per_frame * 1e6:.0f} µs a frame a follower, each frame costs the {followers} followers "
          f"{ms(each_frame)} of CPU, so on {cores} cores the last of them can have it no sooner than "
          f"{ms(each_frame / cores)} after it came, and later while the lecturer's processes (which idle followers "
          "yield to) run")  # fmt: skip


def report_cpu(label: str, phase: dict, part: int) -> None:
    lecturer, followers, seconds = cpu_used(phase, part)
    cores = os.cpu_count() or 1
    parts = ", ".join(f"{name} {value:.2f} s" for name, value in lecturer.items())
    print(f"  CPU in {label} ({seconds:.1f} s, so {cores * seconds:.1f} CPU-s on {cores} cores): the followers "
          f"{followers:.1f} s; {parts}")  # fmt: skip


def report(args: argparse.Namespace, results: dict, out: Path, load: tuple[float, float]) -> None:
    alone, shared, again = results["alone"], results["shared"], results["alone again"]
    both_alone = alone["lags"] + again["lags"]
    print(f"sockviz share benchmark: {args.followers} followers ({args.apps} apps) at priority {args.priority}, "
          f"{args.rounds} echo lessons then a burst of {BURST} clients in each phase; {os.cpu_count()} cores; "
          f"load average {load[0]:.1f} at the start, {load[1]:.1f} at the end")  # fmt: skip
    print(f"  {results['joined']} of {args.followers} followers joined in {results['joined in']:.1f} s (not "
          "measured below: the figures start "
          f"{SETTLE:.0f} s after the last one joined); they had read every line "
          f"{results['caught up in']:.1f} s after the lecturer's last")  # fmt: skip
    lag = p(shared["lags"], 99)
    print(f"  {'ok  ' if lag < 0.016 else 'MISS'} lecturer's event-loop lag p99 in the lessons: {ms(lag)} with "
          f"followers; alone {ms(p(both_alone, 99))} (before {ms(p(alone['lags'], 99))}, after "
          f"{ms(p(again['lags'], 99))}); {len(shared['lags'])} samples   target: < 16 ms")  # fmt: skip
    print(f"       ... in the burst: {ms(p(shared['burst lags'], 99))} with followers, "
          f"{ms(p(alone['burst lags'] + again['burst lags'], 99))} alone")  # fmt: skip
    frames = alone["frames"][0] + again["frames"][0]
    layouts = alone["frames"][1] + again["frames"][1]
    longest = ", ".join(f"{cpu * 1000:.1f}" for cpu in sorted(frames + layouts, reverse=True)[:4])
    floor, rounds = results["floor"], 2 * args.rounds
    print(f"       ... the loop's longest turns are its frames: in the lessons alone {len(frames) / rounds:.0f} "
          f"frames a round (CPU p50 {ms(p(frames, 50))}) and {len(layouts) / rounds:.1f} layouts of the "
          f"screen (each with its frame); the longest {longest} ms of CPU. The floor here: a frame that draws every "
          f"widget again {ms(floor['every widget'])} of CPU, the table, the log and the panel "
          f"{ms(floor['the table, the log and the panel'])}, composing the screen from what is drawn "
          f"{ms(floor['composing'])}")  # fmt: skip
    at = shared["at"]
    lessons = deliveries(results, out, args.followers, at[0], at[1])
    bursts = deliveries(results, out, args.followers, at[1], at[2])
    needed, apps, took = results["followers' phase 3"]
    headless_count = max(1, args.followers - args.apps)
    frames = sum(lessons["frames"]) + sum(bursts["frames"])
    cpu_per_frame = (needed - apps) / max(1, frames)  # the headless followers' CPU in phase 3, by their frames
    report_delays("in the lessons", lessons, args.apps)
    report_where("lessons", lessons, deliveries(results, out, "probe", at[0], at[1]), at[1] - at[0], cpu_per_frame,
                 headless_count)  # fmt: skip
    report_delays("in the burst", bursts, args.apps)
    report_where("burst", bursts, deliveries(results, out, "probe", at[1], at[2]), at[2] - at[1], cpu_per_frame,
                 headless_count)  # fmt: skip
    print(f"  events each follower had in the lessons: min {min(lessons['seen'], default=0)} max "
          f"{max(lessons['seen'], default=0)} of {lessons['wanted']} (the {lessons['out']} who had not joined "
          f"before phase 3 left out); faults in follower apps: {len(lessons['faults'])}; dropped: "
          f"{results['dropped'] or 'none'}")  # fmt: skip
    for label, kinds in zip(("lessons", "burst"), results["kinds"], strict=True):
        said = ", ".join(f"{count} {kind} ({size / 1024:.0f} KiB)" for kind, (count, size) in sorted(kinds.items()))
        print(f"  lines sent in the {label} with followers: {said}")
    report_cpu("the lessons with followers", shared, 0)
    report_cpu("the burst with followers", shared, 1)
    report_cpu("the lessons alone before", alone, 0)
    cores = os.cpu_count() or 1
    each = (needed - apps) / max(1, (lessons["wanted"] + bursts["wanted"]) * headless_count)
    print(f"  the followers' CPU for phase 3's lines, until each had read the last: {needed:.1f} s in {took:.1f} s "
          f"(the cores give {cores * took:.1f} CPU-s in that time), the {args.apps} apps {apps:.1f} s of it; "
          f"{each * 1e6:.0f} µs a headless follower an event")  # fmt: skip
    headless = statistics.median(lessons["cpu"][args.apps :] or [0.0])
    print(f"  a headless follower used {headless:.2f} s in all, start-up included (median)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--followers", type=int, default=200)
    parser.add_argument("--apps", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--priority", default="idle", help="the followers' priority: idle (SCHED_IDLE: only CPU "
                        "time the lecturer leaves, as if on machines of their own), or a niceness (19; 0: as the "
                        "lecturer)")  # fmt: skip
    parser.add_argument("--turns", type=float, default=0.0, metavar="MS", help="time every turn of the lecturer's "
                        "loop and say where those over MS ms of CPU went (benchmarks/turns.py; it costs the loop a "
                        "little, so the lags it measures are not the plain run's)")  # fmt: skip
    args = parser.parse_args()
    load = os.getloadavg()[0]
    out = Path(tempfile.mkdtemp(prefix="sockviz-share-bench-"))
    turns = Turns(args.turns).install() if args.turns else None
    results = asyncio.run(lecture(args, out, turns))
    report(args, results, out, (load, os.getloadavg()[0]))
    if turns is not None:
        turns.uninstall()
        turns.report()


if __name__ == "__main__":
    main()
