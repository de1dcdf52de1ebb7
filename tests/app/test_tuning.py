"""The UI process's collector: garbage in cycles is collected in turns of the collector's own, and Textual's lines
are no such garbage."""

from __future__ import annotations

import gc
import weakref

from helpers import until
from rich.segment import Segment
from textual.strip import Strip

from sockviz.app import SockvizApp
from sockviz.strips import leave_no_cycles
from sockviz.tuning import COLLECT_YOUNG, YOUNG_BACKSTOP


def test_a_line_that_is_its_own_answer_is_not_kept_in_its_own_caches():
    leave_no_cycles()
    line = Strip([Segment("hello "), Segment("world")])
    assert line.divide([11]) == [line]
    assert line.crop_extend(0, 11, None) is line
    assert not line._divide_cache and not line._crop_extend_cache  # else the line refers to itself: a cycle
    halves = line.divide([6, 11])
    assert [half.text for half in halves] == ["hello ", "world"]
    assert line.divide([6, 11]) is halves  # other answers are still cached


class Cycle:
    def __init__(self) -> None:
        self.me = self


async def test_garbage_in_cycles_is_collected_between_frames(port):
    app = SockvizApp(port=port)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: gc.get_freeze_count() > 0, "the first frame's tuning")
        # fewer young objects than Python's own collections waited for before (10,000), more than a turn of the
        # collector's own takes: only such a turn frees them
        cycles = [Cycle() for _ in range(COLLECT_YOUNG)]
        freed = [weakref.ref(cycle) for cycle in cycles]
        del cycles
        assert all(ref() is not None for ref in freed)
        await until(pilot, lambda: all(ref() is None for ref in freed), "the cycles collected")
        assert gc.get_threshold()[0] == YOUNG_BACKSTOP


async def test_a_resets_first_frame_asks_the_collector_nothing(port, monkeypatch):
    """The first frame froze start-up's objects and set the collector going; a reset's first frame leaves that as it
    is, without asking how many are frozen (that walks every frozen object: 10 to 19 ms of each restart's CPU)."""
    app = SockvizApp(port=port)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: gc.get_freeze_count() > 0, "the first frame's tuning")
        tuning = app._tuning
        frames: list[None] = []
        first_frame = tuning.first_frame
        monkeypatch.setattr(tuning, "first_frame", lambda: frames.append(first_frame()))
        asked: list[None] = []
        frozen = gc.get_freeze_count
        monkeypatch.setattr(gc, "get_freeze_count", lambda: asked.append(None) or frozen())
        used = app.session
        app.reset_session()
        await until(pilot, lambda: app.session is not used and frames, "the reset's first frame")
        assert not asked
        assert gc.isenabled() and gc.get_threshold()[0] == YOUNG_BACKSTOP and frozen() > 0
