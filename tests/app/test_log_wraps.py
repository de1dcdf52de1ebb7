"""The log wraps its entries again when its width changes: a resized terminal, the wire view beside it."""

from __future__ import annotations

import os

import pytest
from conftest import CONNECTED, lecture

from sockviz.app import SockvizApp
from sockviz.widgets.event_log import EventLog

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="the wire's capture on lo needs root")


def widest(log: EventLog) -> int:
    """The widest line's text, trailing spaces (the fill to the width the line was written at) left out."""
    return max(len(line.text.rstrip()) for line in log.lines)


def wrapped_to(log: EventLog) -> bool:
    """Every line fits the log as it is now, and a line of the echo's longest entry is nearly as wide: the
    entries were wrapped to this width, not merely left narrower."""
    width = log.scrollable_content_region.width
    return widest(log) <= width and widest(log) > width - 12


async def test_the_log_wraps_again_when_the_terminal_narrows_and_widens(port):
    app = SockvizApp(port=port)
    async with lecture(app, size=(130, 40)) as lect:
        await lect.press_all(*CONNECTED, "server-accept", "client-send", "server-recv")
        log = app.query_one("#log", EventLog)
        log.flush()
        told = lect.log_text()
        assert wrapped_to(log), widest(log)
        for size in ((80, 24), (200, 56), (100, 30)):
            await lect.pilot.resize_terminal(*size)
            await lect.until(lambda: wrapped_to(log), f"the log wrapped to its width at {size}")
            assert lect.log_text() == told  # the same entries, in the same order, none cut
            assert log.scroll_y == log.max_scroll_y  # still at its end, where the newest lines are


@root_only
async def test_the_log_wraps_again_beside_the_wire(port):
    """The wire view opening beside the log narrows it: what it said before is wrapped again, and so is what
    it says after; closed again, the log takes its width back."""
    app = SockvizApp(port=port)
    async with lecture(app, size=(130, 40)) as lect:
        await lect.press_all(*CONNECTED, "server-accept", "client-send")
        log = app.query_one("#log", EventLog)
        log.flush()
        wide, told = log.scrollable_content_region.width, lect.log_text()
        await lect.pilot.press("w")
        await lect.until(lambda: log.scrollable_content_region.width < wide - 20, "the wire beside the log")
        await lect.until(lambda: wrapped_to(log), "the log wrapped beside the wire")
        assert lect.log_text() == told
        await lect.press("server-recv")
        log.flush()
        assert wrapped_to(log)
        await lect.pilot.press("w")
        await lect.until(lambda: log.scrollable_content_region.width == wide and wrapped_to(log), "the width back")


async def test_a_long_log_wraps_again_a_turn_at_a_time_and_keeps_every_entry(port):
    """Three thousand entries, more than one turn of the event loop wraps: the newest show at once at the new
    width, the older ones follow above them, and at the end every entry is there, in order, at the new width."""
    app = SockvizApp(port=port)
    async with lecture(app, size=(130, 40)) as lect:
        log = app.query_one("#log", EventLog)
        for number in range(3000):
            log.note(float(number), "lesson", f"entry {number}: " + "a narration long enough to wrap " * 4)
        log.flush()
        told = lect.log_text()
        await lect.pilot.resize_terminal(100, 30)
        await lect.until(lambda: log.lines[-1].text.strip().endswith("wrap") and wrapped_to(log), "the newest")
        await lect.until(lambda: lect.log_text() == told, "every entry wrapped again", timeout=20)
        assert wrapped_to(log) and log.scroll_y == log.max_scroll_y
