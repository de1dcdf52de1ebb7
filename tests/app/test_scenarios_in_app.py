"""A scenario played in the app: paused at first, one line per `n`, to the end with space, narration beside the log."""

from __future__ import annotations

from conftest import lecture
from textual.command import CommandPalette

from sockviz.app import SockvizApp
from sockviz.core.scenario import lessons


def narration(app) -> str:
    return str(app.query_one("#narration").render())


async def test_a_lesson_plays_step_by_step_then_to_the_end(port):
    app = SockvizApp(port=port, scenario=("lesson: refused", lessons.text("refused")))
    async with lecture(app) as lect:
        assert app.query_one("#narration").display
        await lect.until(lambda: "next: server socket" in narration(app), "the first line to be next")
        assert not app.session.sockets  # paused: nothing runs until asked
        await lect.pilot.press("n")
        await lect.until(lambda: len(app.session.sockets) == 1, "one step")
        await lect.until(lambda: 'next: say "SO_REUSEADDR' in narration(app), "the next line")
        await lect.play_to_the_end()
        assert "ended: every expect held" in narration(app)
        assert "No socket listens there any more" in narration(app)
        assert "ConnectionRefusedError" in lect.log_text()


async def test_a_bad_scenario_is_refused_with_its_line(port):
    app = SockvizApp(port=port, scenario=("scenario: bad", "server socket\nserver frobnicate\n"))
    async with lecture(app) as lect:
        await lect.pilot.pause()
        assert not any(panel.display for panel in app.screen.query("#narration"))
        assert any("line 2" in str(n.message) for n in app._notifications)
        # The notice goes after a few seconds; a lecturer who looked away finds the reason in the log.
        await lect.until(lambda: "scenario not loaded: line 2" in lect.log_text(), "the reason in the log")


async def test_lessons_are_in_the_command_palette(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.pilot.press("ctrl+p")
        # Typed before the palette is up, the letters would go to the app as step keys (l is listen()).
        await lect.until(lambda: isinstance(app.screen, CommandPalette), "the palette to open")
        await lect.pilot.press(*"lesson: half")

        def offered() -> bool:
            options = app.screen.query("CommandList")
            return (
                bool(options)
                and options.first().option_count > 0
                and "half-close" in str(options.first().get_option_at_index(0).prompt)
            )

        await lect.until(offered, "the palette to offer the lesson", 10)
        await lect.pilot.press("enter")
        await lect.until(lambda: "lesson: half-close" in narration(app), "the lesson to load")
        await lect.play_to_the_end()
        assert "ended: every expect held" in narration(app)


async def test_quitting_in_the_middle_of_a_pause_does_not_hang(port):
    app = SockvizApp(port=port, scenario=("long", "server socket\npause 600\nserver bind\n"))
    async with lecture(app) as lect:
        await lect.pilot.press("space")
        await lect.until(lambda: "next: pause 600" in narration(app), "the long pause")
        await lect.pilot.press("ctrl+q")
    assert not app.session.running()
