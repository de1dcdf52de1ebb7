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

STEP_THREADS = 256
"""Threads for steps. asyncio's default pool has cpus + 4 (6 on two cores), and
every blocked step holds one: a seventh blocked accept() would wait unseen."""

SWITCH_SECONDS = 0.0005
"""How long the UI thread may keep the GIL from a step thread that wants it (Python's default is 5 ms).

A step thread whose send() or recv() returned waits for the GIL while the UI draws a frame; at 5 ms a
wait, a 256 MiB transfer through the app moved about a quarter of raw sockets' speed. Beside a raw
transfer, a thread that holds the GIL 30 ms in every 50 left it 52 to 64% of its speed at 5 ms and 95
to 100% at 0.5 ms (medians of five rounds, 2026-12-01; README, "A bulk transfer through the app")."""


YOUNG_OBJECTS = 10_000
"""Allocations between two collections of the youngest objects (Python's default is 700).

A frame makes and drops thousands of small objects (Textual's lines, segments and their caches). At 700,
a collection ran several times within each frame, so objects that live one frame were kept on to older
generations, and those filled fast enough to set off a full collection one to two times a second while
connections came and went, each a pause of 20 to 50 ms. At 10,000 they mostly die young: in 10 s of
churn there was no full collection, and the young collections took 0.18 s instead of 0.48 s."""


class Tuning:
    """The process's settings while one app runs, and the way back to what they were."""

    def __init__(self) -> None:
        self._switch_before = sys.getswitchinterval()
        self._collect_before = gc.get_threshold()
        self._collecting_before = gc.isenabled()
        self.step_threads: ThreadPoolExecutor | None = None

    def start(self) -> None:
        """On the app's load, on its event loop: the switch interval, the collector and the step threads."""
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
        (about 370 ms at a load of 5; README, "Start-up to the first frame"). A reset's first frame
        leaves the objects frozen at the first one as they are."""
        if not gc.get_freeze_count():
            gc.freeze()
        if self._collecting_before:
            gc.enable()

    def stop(self) -> None:
        """As the app ends: idle step threads end now, not when the event loop does; the settings go back."""
        if self.step_threads is not None:
            self.step_threads.shutdown(wait=False)
        sys.setswitchinterval(self._switch_before)
        gc.set_threshold(*self._collect_before)
        gc.unfreeze()  # the next collection may take all of it (a test's process makes many apps)
        if self._collecting_before:
            gc.enable()  # an app that ends before its first frame
