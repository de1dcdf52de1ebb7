"""How the app's process is tuned while it runs: the GIL's switch interval, the collector, the step threads.

Each setting is a measured answer to a pause a user saw (a transfer at a quarter of its speed, frames
held up by collections, a seventh blocked accept() waiting unseen); they are set when the app loads
and put back when it ends, so that a test's process, which makes many apps, is left as it was.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from concurrent.futures import ThreadPoolExecutor

from sockviz.strips import leave_no_cycles

STEP_THREADS = 256
"""Threads for steps. asyncio's default pool has cpus + 4 (6 on two cores), and
every blocked step holds one: a seventh blocked accept() would wait unseen."""

SWITCH_SECONDS = 0.0005
"""How long the UI thread may keep the GIL from a step thread that wants it (Python's default is 5 ms).

A step thread whose send() or recv() returned waits for the GIL while the UI draws a frame; at 5 ms a
wait, a 256 MiB transfer through the app moved about a quarter of raw sockets' speed. Beside a raw
transfer, a thread that holds the GIL 30 ms in every 50 left it 52 to 64% of its speed at 5 ms and 95
to 100% at 0.5 ms (medians of five rounds, 2026-12-01; benchmarks/README.md, "A bulk transfer through the app")."""


YOUNG_OBJECTS = 10_000
"""Allocations between two collections of the youngest objects (Python's default is 700), until the first frame.

A frame makes and drops thousands of small objects (Textual's lines, segments and their caches). At 700,
a collection ran several times within each frame, so objects that live one frame were kept on to older
generations, and those filled fast enough to set off a full collection one to two times a second while
connections came and went, each a pause of 20 to 50 ms. At 10,000 they mostly die young: in 10 s of
churn there was no full collection, and the young collections took 0.18 s instead of 0.48 s."""

YOUNG_BACKSTOP = 100_000
"""Once the first frame is drawn, Python's own collections wait for this many allocations: the collector runs
in turns of its own (`COLLECT_EVERY`), and this is only for a burst that allocates faster than those turns come.

At 10,000, a collection of the young ran inside a frame or a handler whenever the count came due: in a round
of the echo lesson 22 of them held a busy turn of the lecturer's loop 2 to 12 ms longer, and, every ten of
them, a collection of the middle generation (which also walks what the frames' young collections had kept
alive mid-frame) held one turn 35 to 140 ms (share benchmark, per turn, load 3 to 25)."""

COLLECT_EVERY = 0.05
"""Seconds between the collector's own turns on the event loop."""

COLLECT_YOUNG = 2_000
"""Young objects (allocations less deallocations since the last collection) that make a collector's turn collect.

Between frames the objects a frame made are gone, so what the young generation holds then is what lives on or
is garbage in a cycle: a collection of 2,000 of them is about a millisecond, and the middle generation, which
every tenth such collection walks, holds no frame's leftovers."""


class _Allocation:
    """An object whose allocation is counted by the collector (a list or a dict may come from a free list)."""


class Tuning:
    """The process's settings while one app runs, and the way back to what they were."""

    def __init__(self) -> None:
        self._switch_before = sys.getswitchinterval()
        self._collect_before = gc.get_threshold()
        self._collecting_before = gc.isenabled()
        self.step_threads: ThreadPoolExecutor | None = None
        self._collecting: asyncio.TimerHandle | None = None
        self._first_frame_drawn = False

    def start(self) -> None:
        """On the app's load, on its event loop: the switch interval, the collector and the step threads."""
        leave_no_cycles()
        self._first_frame_drawn = False
        self._switch_before = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_SECONDS)
        self._collect_before = gc.get_threshold()
        gc.set_threshold(YOUNG_OBJECTS, *self._collect_before[1:])
        self._collecting_before = gc.isenabled()
        gc.disable()  # until the first frame is drawn: see `first_frame`
        self.step_threads = ThreadPoolExecutor(max_workers=STEP_THREADS, thread_name_prefix="sockviz-step")
        asyncio.get_running_loop().set_default_executor(self.step_threads)

    def first_frame(self) -> None:
        """Once the first screen is drawn, what start-up made (modules, classes, the screen's widgets and styles:
        about 70,000 objects that may hold others) lives as long as the app. Python's full garbage collection
        walks every such object, and with these it paused the event loop 70 to 200 ms at a time, one to two
        times a second while connections came and went. Frozen, they are left out of every collection; what
        the session makes afterwards is still collected. Freezing is instant; a collection first would pause
        the first frame's loop for 50 to 200 ms to free about 6,000 objects of start-up's garbage, which wait
        for the end instead (as the first screen's widgets do when a reset makes new ones).

        Until then the collector does not run at all (`start` turns it off): every collection before the
        first frame walked objects that are frozen here anyway, and cost 12 ms of the start-up's CPU
        (about 370 ms at a load of 5; benchmarks/README.md, "Start-up to the first frame"). A reset's first frame
        leaves all this as the first one set it, and asks nothing: `gc.get_freeze_count` walks every frozen
        object, and with about 70,000 of them that held each restart of a lesson 10 to 19 ms of CPU, in the
        turn right after the restart's frame (share benchmark, load about 3)."""
        if self._first_frame_drawn:
            return
        self._first_frame_drawn = True
        if not gc.get_freeze_count():
            gc.freeze()
        if self._collecting_before:
            gc.enable()
            if self._collecting is None:
                gc.set_threshold(YOUNG_BACKSTOP, *gc.get_threshold()[1:])
                self._collecting = asyncio.get_running_loop().call_later(COLLECT_EVERY, self._collect)

    def _collect(self) -> None:
        """A turn of the collector's own, between the frames and handlers (see YOUNG_BACKSTOP), once the young
        generation holds COLLECT_YOUNG objects. Which generation it collects is Python's own choice, as when
        an allocation sets a collection off: the older ones once the one below has been collected as often as
        their thresholds say, and the oldest only when enough objects have come to it since it was last
        collected (Python's check that keeps full collections from growing with the heap), which `gc.collect`
        would skip."""
        self._collecting = asyncio.get_running_loop().call_later(COLLECT_EVERY, self._collect)
        if gc.get_count()[0] < COLLECT_YOUNG:
            return
        thresholds = gc.get_threshold()
        gc.set_threshold(1, *thresholds[1:])
        _Allocation()  # its allocation sets off Python's own collection, at once
        gc.set_threshold(*thresholds)

    def stop(self) -> None:
        """As the app ends: idle step threads end now, not when the event loop does; the settings go back."""
        if self._collecting is not None:
            self._collecting.cancel()
            self._collecting = None
        if self.step_threads is not None:
            self.step_threads.shutdown(wait=False)
        sys.setswitchinterval(self._switch_before)
        gc.set_threshold(*self._collect_before)
        gc.unfreeze()  # the next collection may take all of it (a test's process makes many apps)
        if self._collecting_before:
            gc.enable()  # an app that ends before its first frame
