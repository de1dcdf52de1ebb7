"""The timeline pane in the app: it opens on `t`, follows the calls, holds still, and fits 80x24."""

from __future__ import annotations

from conftest import LISTENING, lecture

from sockviz.app import SockvizApp
from sockviz.core.scenario import lessons


def narration(app: SockvizApp) -> str:
    """What the lesson panel says; nothing while a reset makes the widgets again."""
    found = app.screen.query("#narration")
    return str(found.first().render()) if found else ""


def picture(app: SockvizApp) -> list[str]:
    return app.query_one("#timeline").render().plain.splitlines()


def story(app: SockvizApp) -> str:
    """What the lines under the lanes tell, whole (drawn in as many lines as it takes, up to three)."""
    timeline = app.query_one("#timeline")
    timeline.render()
    return timeline.story


def lane(app: SockvizApp, name: str) -> str:
    return next(line for line in picture(app) if line[:8].strip() == name)


async def test_the_timeline_follows_a_blocked_accept_until_connect_ends_it(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        assert not app.screen.query("#timeline")  # made when first opened, not at start
        await lect.pilot.press("t")
        timeline = app.query_one("#timeline")
        assert timeline.display and app.focused is timeline
        assert app.query_one("#log").display  # wide enough for both
        await lect.press_all(*LISTENING)
        await lect.press("server-accept", wait_for="block")
        await lect.until(lambda: "s: accept() is waiting" in story(app), "the story line to tell the wait")
        waiting = lane(app, "s")
        assert "a" in waiting and "━" in waiting
        await lect.press_all("client-socket", "client-connect")
        await lect.until(lambda: "conn" in "".join(line[:8] for line in picture(app)), "the conn lane")
        await lect.until(lambda: "┓" in lane(app, "s"), "the bar to turn towards the connect")
        assert "c" in lane(app, "c") and "woken by client c.connect()" in story(app)

        await lect.press_all("client-connect")  # connected already, so it fails: the story line tells that...
        await lect.until(lambda: "woken by" not in story(app), "the story to move on")
        await lect.pilot.press("f")  # held still: while it follows, a new scale could move the bar under the mouse
        rows = picture(app)
        y = next(i for i, line in enumerate(rows) if line[:8].strip() == "s")
        x = rows[y].index("━")
        await lect.pilot.click(timeline, offset=(2 + x, 1 + y))  # ...until a click on the bar asks for it
        assert story(app).startswith("s: accept() returned after")
        await lect.pilot.click(timeline, offset=(2, 1))  # the axis: let go
        assert not story(app).startswith("s: accept()")


async def test_holding_the_timeline_keeps_the_picture_still(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.pilot.press("t")
        await lect.press_all(*LISTENING)
        await lect.pilot.press("f")
        timeline = app.query_one("#timeline")
        assert "held at" in timeline.border_title
        still, held_at, lanes = picture(app), app.session.now(), timeline.timeline.lane_count
        await lect.press_all("client-socket")
        # What a following view would show is there: a new lane, and time enough for a bar to grow.
        await lect.until(lambda: timeline.timeline.lane_count > lanes, "the c lane in the timeline's model")
        await lect.until(lambda: app.session.now() > held_at + 0.5, "half a second of session time")
        assert picture(app)[1:] == still[1:]  # no new lane, nothing grown (the first line is the axis)
        await lect.pilot.press("f")
        assert "following" in timeline.border_title
        await lect.until(lambda: any(line[:8].strip() == "c" for line in picture(app)), "the c lane")
        await lect.pilot.press("left")
        assert "held at" in timeline.border_title
        await lect.pilot.press("end")
        assert "following" in timeline.border_title
        await lect.pilot.press("t")
        assert not timeline.display and app.focused is app.query_one("#sockets")


async def test_at_80_by_24_the_timeline_takes_the_logs_place(port):
    app = SockvizApp(port=port)
    async with lecture(app, size=(80, 24)) as lect:
        log = app.query_one("#log")
        await lect.pilot.press("t")
        await lect.pilot.pause()
        assert not log.display or log.size.width == 0
        timeline = app.query_one("#timeline")
        assert timeline.size.width >= 76 and timeline.size.height >= 6
        await lect.press_all(*LISTENING)
        await lect.until(lambda: "l" in lane(app, "s"), "listen() on the s lane")
        await lect.pilot.press("t")
        await lect.until(lambda: "s.listen()" in lect.log_text(), "the lines written while the log was hidden")
        assert log.size.width > 40
        # written at the log's own width once it showed, not squeezed to its minimum while hidden
        assert max(len(line.text.rstrip()) for line in log.lines) > 45


async def test_at_80x24_after_a_lesson_is_loaded_the_timeline_takes_the_logs_place(port):
    """Loading a lesson into a used session makes the screen's widgets again (a reset): the new bottom row must
    know it is narrow, or `t` leaves the log an empty strip between the lesson panel and the timeline."""
    app = SockvizApp(port=port)
    async with lecture(app, size=(80, 24)) as lect:
        await lect.press("server-socket")
        app.load_lesson("blocking-order")
        await lect.until(lambda: "line 1 of" in narration(app), "the lesson")
        await lect.pilot.press("t")
        await lect.pilot.pause()
        assert app.screen.query_one("#timeline").display
        assert not app.screen.query_one("#log").region, "the log beside the lesson panel and the timeline"


async def test_at_130x40_with_a_lesson_the_timeline_takes_the_logs_place_and_gives_it_back(port):
    """The lesson panel takes 40 columns: the log beside it and the timeline would get 28 and 58, the log's lines
    half cut. So the timeline takes the log's place while it shows, as at 80 columns, and gives it back."""
    app = SockvizApp(port=port, scenario=("lesson: blocking-order", lessons.text("blocking-order")))
    async with lecture(app, size=(130, 40)) as lect:
        await lect.until(lambda: "line 1 of" in narration(app), "the lesson")
        await lect.pilot.press("t")
        await lect.pilot.pause()
        assert app.screen.query_one("#timeline").display and not app.screen.query_one("#log").region
        await lect.pilot.press("t")
        await lect.pilot.pause()
        assert app.screen.query_one("#log").region.width > 80


async def test_a_serve_modes_lanes_keep_their_sockets_names(port):
    """A lane of a threads serve mode is `conn (thread 1)`: cut to its last 8 cells it was `hread 1)`, and the
    socket's name was gone; now `conn t1`."""
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.press_all(*LISTENING)
        await lect.pilot.press("j")
        await lect.press_all("client-socket", "client-connect", "client-socket", "client-connect")
        await lect.until(lambda: "3 threads" in lect.cell("s", "now"), "a thread waiting in each connection")
        await lect.pilot.press("t")
        await lect.until(lambda: "conn2 t2" in [line[:8].strip() for line in picture(app)], "the lanes' names")
        assert "conn t1" in [line[:8].strip() for line in picture(app)]


async def test_the_story_under_the_lanes_is_whole_on_the_screen(port):
    """The story is a sentence of the log, addresses and all: drawn on one line it was cropped at the pane's edge
    (`conn is a new` at 130 columns). It takes the lines it needs, the lanes keeping three."""
    app = SockvizApp(port=port)
    async with lecture(app, size=(130, 40)) as lect:
        await lect.press_all(*LISTENING)
        await lect.press("server-accept", wait_for="block")
        await lect.press_all("client-socket", "client-connect")
        await lect.pilot.press("t")
        timeline = app.query_one("#timeline")
        await lect.until(lambda: "woken by client c.connect()" in story(app), "the story of the accept")
        for size in ((130, 40), (80, 24)):
            await lect.pilot.resize_terminal(*size)
            await lect.pilot.pause()
            await lect.until(lambda: "woken by client c.connect()" in story(app), "the story again")
            region = timeline.content_region
            strips = app.screen._compositor.render_strips()
            shown = [strips[y].text[region.x : region.right] for y in range(region.y, region.bottom)]
            told = " ".join(line.strip() for line in shown[-len(timeline.story_lines) :])
            assert told == story(app), (size, shown)
            assert {"s", "c", "conn"} <= {line[:8].strip() for line in shown}, shown  # the lanes are still there


async def test_beside_the_wire_the_timelines_keys_fit_its_border_whole(port):
    """At 130 columns beside the wire (as at 80) the border has room for fewer keys than it names: those that fit,
    whole, rather than `← earlier · → later · …`."""
    app = SockvizApp(port=port)
    async with lecture(app, size=(130, 40)) as lect:
        await lect.pilot.press("t", "w")
        timeline = app.query_one("#timeline")
        await lect.until(lambda: app.query_one("#wire").size.width > 0, "the wire beside the timeline")
        await lect.pilot.pause()
        bottom = app.screen._compositor.render_strips()[timeline.region.bottom - 1].text
        bottom = bottom[timeline.region.x : timeline.region.right]
        assert timeline.outer_size.width < 80 and "click a call · f hold/follow" in bottom, bottom
        assert "…" not in bottom, bottom


async def test_at_80x24_beside_a_lesson_the_wire_takes_the_logs_place_and_gives_it_back(port):
    """The lesson panel takes 40 of 80 columns: the log and the wire beside it got 20 each, and the log showed its
    lines' times and nothing of their words. So the wire takes the log's place while it shows, as the timeline
    does; without a lesson the log keeps its half."""
    app = SockvizApp(port=port, scenario=("lesson: blocking-order", lessons.text("blocking-order")))
    async with lecture(app, size=(80, 24)) as lect:
        await lect.until(lambda: "line 1 of" in narration(app), "the lesson")
        log = app.screen.query_one("#log")
        await lect.pilot.press("w")
        wire = app.screen.query_one("#wire")
        await lect.until(lambda: wire.region.width > 0, "the wire to show")
        await lect.pilot.pause()
        assert not log.region and wire.region.width >= 38, (log.region, wire.region)
        await lect.pilot.press("w")
        await lect.until(lambda: log.region.width >= 38, "the log back beside the panel")
    app = SockvizApp(port=port)
    async with lecture(app, size=(80, 24)) as lect:
        await lect.pilot.press("w")
        wire = app.screen.query_one("#wire")
        await lect.until(lambda: wire.region.width > 0, "the wire to show")
        await lect.pilot.pause()
        assert app.screen.query_one("#log").region.width >= 38  # no lesson: the two halves, as before
