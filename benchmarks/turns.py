"""Where the event loop's long turns go: `Turns(threshold_ms).install()` in a benchmark's process, then
`turns.report()`.

A turn is one callback the asyncio loop runs (one step of a task: a widget's messages until it awaits, a
timer, a frame). Each turn on the UI thread is timed, wall and CPU (`time.thread_time`, which the machine's
load moves much less than the wall clock); inside it, the parts that make a frame expensive are timed too,
inclusive of what they call: each message handled (by receiver and handler), each layout of the screen
(with the widgets that asked for it and where in sockviz they were asked, and how many widgets the reflow
showed, hid and resized), each frame (the compositor's render and the display), each restyle of nodes, and
each run of the garbage collector (by generation, through `gc.callbacks`). A turn whose CPU is over the
threshold is kept whole; every turn adds to the totals by kind. The timing costs the loop a little (a few
µs a message), so measure the figures a user sees without it.

Made for `benchmarks/share.py --turns`; it patches Textual's classes in this process, for as long as it runs.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from textual._compositor import Compositor
from textual.app import App
from textual.css.stylesheet import Stylesheet
from textual.message_pump import MessagePump
from textual.screen import Screen
from textual.widget import Widget


@dataclass
class Turn:
    """One turn of the loop: its times, and what took time in it."""

    wall: float = 0.0
    cpu: float = 0.0
    label: str = ""
    parts: list[tuple[int, str, float]] = field(default_factory=list)
    """(depth, what, CPU seconds), in the order they ended."""


def _where() -> str:
    """Where the caller was called from: the innermost function outside this module, and the innermost sockviz
    frame (file:line function) or, with none, the innermost one outside Textual and asyncio."""
    frame = sys._getframe(2)
    first = ""
    outside = ""
    while frame is not None:
        name = frame.f_code.co_filename
        if name != __file__:
            if not first:
                first = frame.f_code.co_qualname
            if "/sockviz/" in name and "/benchmarks/" not in name:
                return f"{first} <- {name.rsplit('/sockviz/', 1)[1]}:{frame.f_lineno} {frame.f_code.co_name}"
            if not outside and "/textual/" not in name and "/asyncio/" not in name:
                outside = f"{name.rsplit('/', 1)[1]}:{frame.f_lineno} {frame.f_code.co_name}"
        frame = frame.f_back
    return f"{first} <- {outside or 'textual'}"


def _name(node: object) -> str:
    node_id = getattr(node, "id", None)
    return f"{type(node).__name__}#{node_id}" if node_id else type(node).__name__


class Turns:
    """Times the UI thread's turns and their parts (see the module's docstring)."""

    def __init__(self, threshold_ms: float = 8.0) -> None:
        self.threshold = threshold_ms / 1000
        self.kept: list[Turn] = []
        self.count = 0
        self.totals: defaultdict[str, float] = defaultdict(float)
        """CPU seconds by kind of part, over every turn (not only the kept ones)."""
        self.counts: Counter[str] = Counter()
        self.gc_pauses: dict[int, list[float]] = defaultdict(list)
        self.layout_askers: Counter[str] = Counter()
        self._turn: Turn | None = None
        self._depth = 0
        self._thread = threading.main_thread()
        self._asked: list[str] = []
        self._why: list[str] = []
        self._repaints = ""
        self._whole: list[str] = []
        self._gc_started = 0.0
        self._undo: list[Callable[[], None]] = []
        self.marks: list[tuple[float, str]] = []
        """(perf_counter, what) the benchmark marks (a phase's start), to tell the kept turns' phases apart."""

    # ----- timing ---------------------------------------------------------------

    def _span(self, kind: str, describe: Callable[..., str] | None = None) -> Callable[[Callable], Callable]:
        """A wrapper that times a call (sync or async; an async one only up to the end of its turn) as `kind`,
        said by `describe(*the call's arguments)`, which is asked before the call."""
        turns = self

        def wrap(function: Callable) -> Callable:
            if asyncio.iscoroutinefunction(function):

                @wraps(function)
                async def timed_async(*args: Any, **kwargs: Any) -> Any:
                    turn = turns._turn
                    what = describe(*args, **kwargs) if describe and turn is not None else kind
                    start = time.thread_time()
                    turns._depth += 1
                    try:
                        return await function(*args, **kwargs)
                    finally:
                        turns._depth -= 1
                        if turn is not None and turn is turns._turn:
                            turns._part(kind, what, time.thread_time() - start)

                return timed_async

            @wraps(function)
            def timed(*args: Any, **kwargs: Any) -> Any:
                turn = turns._turn
                what = describe(*args, **kwargs) if describe and turn is not None else kind
                start = time.thread_time()
                turns._depth += 1
                try:
                    return function(*args, **kwargs)
                finally:
                    turns._depth -= 1
                    if turn is not None and turn is turns._turn:
                        turns._part(kind, what, time.thread_time() - start)

            return timed

        return wrap

    def _part(self, kind: str, what: str, cpu: float) -> None:
        assert self._turn is not None
        self._turn.parts.append((self._depth, what, cpu))
        self.totals[kind] += cpu
        self.counts[kind] += 1

    def _patch(self, owner: type, name: str, wrapper: Callable[[Callable], Callable]) -> None:
        original = owner.__dict__[name]
        setattr(owner, name, wrapper(original))
        self._undo.append(lambda: setattr(owner, name, original))

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        if threading.current_thread() is not self._thread:
            return
        now = time.thread_time()
        if phase == "start":
            self._gc_started = now
            return
        pause = now - self._gc_started
        generation = info.get("generation", -1)
        self.gc_pauses[generation].append(pause)
        if self._turn is not None:
            self._part(f"gc gen{generation}", f"gc gen{generation} ({info.get('collected', 0)} freed)", pause)

    def install(self) -> Turns:
        turns = self
        original_run = asyncio.events.Handle._run

        def _run(handle: asyncio.events.Handle) -> None:
            if threading.current_thread() is not turns._thread or turns._turn is not None:
                original_run(handle)
                return
            turn = turns._turn = Turn()
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                original_run(handle)
            finally:
                turn.cpu = time.thread_time() - cpu
                turn.wall = time.perf_counter() - wall
                turns._turn = None
                turns._depth = 0
                turns.count += 1
                turns.totals["turns"] += turn.cpu
                if turn.cpu >= turns.threshold:
                    turn.label = f"{time.perf_counter():.3f} {_callback_name(handle)}"
                    turns.kept.append(turn)

        asyncio.events.Handle._run = _run  # type: ignore[method-assign]
        self._undo.append(lambda: setattr(asyncio.events.Handle, "_run", original_run))

        def message(pump: MessagePump, message: Any) -> str:
            return f"{_name(pump)} <- {type(message).__name__}"

        self._patch(MessagePump, "_dispatch_message", self._span("messages", message))

        def layout(screen: Screen, *args: Any, **kwargs: Any) -> str:
            asked = Counter(turns._asked)
            turns._asked.clear()
            said = ", ".join(f"{what}×{n}" if n > 1 else what for what, n in asked.most_common(6))
            why = Counter(turns._why)
            turns._why.clear()
            because = "; ".join(f"{what}×{n}" if n > 1 else what for what, n in why.most_common(4))
            return f"LAYOUT of the screen, asked by: {said or 'the screen itself'} [{because}]"

        self._patch(Screen, "_refresh_layout", self._span("layout", layout))

        def reflow(compositor: Compositor, *args: Any) -> str:
            return f"reflow ({len(compositor.widgets)} widgets)"

        self._patch(Compositor, "reflow", self._span("reflow", reflow))

        def frame(screen: Screen) -> str:
            compositor = screen._compositor
            area = screen.size.area or 1
            regions = compositor._dirty_regions
            whole = screen.size.region in regions
            dirty = 100 if whole else min(100, round(100 * sum(region.area for region in regions) / area))
            biggest = sorted(regions, key=lambda r: r.area, reverse=True)[:5]
            where = " ".join(f"{r.width}x{r.height}@{r.x},{r.y}" for r in biggest)
            wholes = Counter(turns._whole)
            turns._whole.clear()
            said = "; ".join(f"{what}×{n}" if n > 1 else what for what, n in wholes.most_common(4))
            return (
                f"frame of {len(screen._dirty_widgets)} widgets, {dirty}% of the screen dirty"
                + (" (whole)" if whole else f" [{len(regions)} regions: {where}] {turns._repaints}")
                + (f" {{whole: {said}}}" if said else "")
            )

        self._patch(Screen, "_compositor_refresh", self._span("frame", frame))

        def update_widgets(compositor: Compositor, widgets: set[Widget]) -> str:
            visible = compositor.visible_widgets
            sizes = []
            for widget in widgets:
                if widget in visible:
                    region = visible[widget][0]
                    area = sum(r.area for r in widget._repaint_regions) if widget._repaint_regions else region.area
                    sizes.append((area, f"{_name(widget)} {area}"))
                else:
                    sizes.append((0, f"{_name(widget)} (unseen)"))
            sizes.sort(reverse=True)
            more = " ..." if len(sizes) > 8 else ""
            turns._repaints = "repaints: " + ", ".join(said for _, said in sizes[:8]) + more
            return turns._repaints

        self._patch(Compositor, "update_widgets", self._span("update", update_widgets))
        self._patch(Compositor, "render_update", self._span("render", lambda *a, **k: "compositor render"))
        self._patch(App, "_display", self._span("display", lambda *a: "display (segments to text)"))
        self._patch(Stylesheet, "update_nodes", self._span("styles", lambda *a, **k: "restyle nodes"))

        original_on_layout = Screen.__dict__["_on_layout"]

        async def _on_layout(screen: Screen, message: Any) -> None:
            turns._asked.append(_name(message.widget))
            await original_on_layout(screen, message)

        Screen._on_layout = _on_layout  # type: ignore[method-assign]
        self._undo.append(lambda: setattr(Screen, "_on_layout", original_on_layout))

        original_refresh = Widget.__dict__["refresh"]

        def refresh(widget: Widget, *regions: Any, layout: bool = False, **kwargs: Any) -> Any:
            if layout:
                asker = f"{_name(widget)} from {_where()}"
                turns.layout_askers[asker] += 1
                turns._why.append(asker)
            elif not regions and kwargs.get("repaint", True) and widget.size.area >= 1000:
                turns._whole.append(f"{_name(widget)} from {_where()}")
            return original_refresh(widget, *regions, layout=layout, **kwargs)

        Widget.refresh = refresh  # type: ignore[method-assign]
        self._undo.append(lambda: setattr(Widget, "refresh", original_refresh))

        gc.callbacks.append(self._gc)
        self._undo.append(lambda: gc.callbacks.remove(self._gc))
        return self

    def uninstall(self) -> None:
        while self._undo:
            self._undo.pop()()

    def mark(self, what: str) -> None:
        self.marks.append((time.perf_counter(), what))

    # ----- telling --------------------------------------------------------------

    def _phase(self, label: str) -> str:
        at = float(label.split(" ", 1)[0])
        name = "before"
        for when, what in self.marks:
            if when <= at:
                name = what
        return name

    def report(self, worst: int = 30, out: Any = None) -> None:
        out = out or sys.stdout
        cpus = sorted(turn.cpu for turn in self.kept)
        print(f"  turns timed: {self.count}, {len(self.kept)} over {self.threshold * 1000:.0f} ms of CPU "
              f"(their CPU {sum(cpus) * 1000:.0f} ms of {self.totals['turns'] * 1000:.0f} ms in all turns)",
              file=out)  # fmt: skip
        kinds = ("layout", "reflow", "frame", "render", "display", "styles", "messages")
        print("  all turns, CPU by kind (inclusive): " + ", ".join(
            f"{kind} {self.totals[kind] * 1000:.0f} ms ×{self.counts[kind]}" for kind in kinds), file=out)  # fmt: skip
        for generation, pauses in sorted(self.gc_pauses.items()):
            print(f"  gc gen{generation}: {len(pauses)} collections, {sum(pauses) * 1000:.1f} ms, longest "
                  f"{max(pauses) * 1000:.1f} ms", file=out)  # fmt: skip
        for what, count in self.layout_askers.most_common(12):
            print(f"  refresh(layout=True) ×{count}: {what}", file=out)
        phases: dict[str, list[Turn]] = defaultdict(list)
        for turn in self.kept:
            phases[self._phase(turn.label)].append(turn)
        for phase, kept in phases.items():
            kept_cpu = sorted((turn.cpu * 1000 for turn in kept), reverse=True)
            print(f"  {phase}: {len(kept)} turns over {self.threshold * 1000:.0f} ms: "
                  + ", ".join(f"{cpu:.1f}" for cpu in kept_cpu) + " ms of CPU", file=out)  # fmt: skip
        for turn in sorted(self.kept, key=lambda t: t.cpu, reverse=True)[:worst]:
            self._tell(turn, out)

    def _tell(self, turn: Turn, out: Any) -> None:
        print(f"  - turn {turn.cpu * 1000:.1f} ms CPU, {turn.wall * 1000:.1f} ms wall, in {self._phase(turn.label)}"
              f": {turn.label.split(' ', 1)[1]}", file=out)  # fmt: skip
        shown: Counter[str] = Counter()
        summed: dict[str, float] = defaultdict(float)
        for depth, what, cpu in turn.parts:
            key = f"{'  ' * depth}{what}"
            shown[key] += 1
            summed[key] += cpu
        for key, cpu in sorted(summed.items(), key=lambda kv: kv[1], reverse=True)[:10]:
            if cpu >= 0.0005:
                times = f" ×{shown[key]}" if shown[key] > 1 else ""
                print(f"      {cpu * 1000:6.1f} ms {key}{times}", file=out)


def _callback_name(handle: asyncio.events.Handle) -> str:
    callback = getattr(handle, "_callback", None)
    owner = getattr(callback, "__self__", None)
    if isinstance(owner, asyncio.Task):
        coro = owner.get_coro()
        code = getattr(coro, "cr_code", None)
        frame = getattr(coro, "cr_frame", None)
        pump = frame.f_locals.get("self") if frame is not None else None
        return f"task {getattr(code, 'co_qualname', '?')}" + (f" of {_name(pump)}" if pump is not None else "")
    return getattr(callback, "__qualname__", repr(callback))
