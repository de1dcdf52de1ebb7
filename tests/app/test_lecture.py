"""The app in front of a class: lessons at a lecture's pace, a fresh session, keys you can find, a projector."""

from __future__ import annotations

import io
import re
import subprocess

from conftest import CONNECTED, LISTENING, Lecture, lecture
from textual.geometry import Region
from textual.widgets import Label, Static
from textual.widgets.data_table import CellDoesNotExist

from sockviz.app import SockvizApp
from sockviz.commands import palette_entries
from sockviz.core import STEPS, Side
from sockviz.core.model.transport import Transport
from sockviz.core.scenario import lessons
from sockviz.core.story.next_steps import welcome
from sockviz.keys import IN_OUR_WORDS, key_display, readme_markdown
from sockviz.messages import Narrated
from sockviz.themes import HIGH_CONTRAST
from sockviz.widgets.scenario_panel import ScenarioPanel
from sockviz.widgets.socket_rows import COLUMNS
from sockviz.widgets.socket_select import SocketSelect

TWO_SAYS = """\
say "First the server makes its socket."
server socket
server bind
say "Now it listens."
server listen
"""


def narration(app: SockvizApp) -> str:
    """What the lesson panel says; nothing while a reset makes the widgets again."""
    found = app.screen.query("#narration")
    return str(found.first().render()) if found else ""


def shows(lect: Lecture, name: str, column: str, text: str) -> bool:
    """Whether the table's row of `name` is drawn and its cell in `column` says `text`."""
    try:
        return lect.cell(name, column) == text
    except (KeyError, CellDoesNotExist):
        return False


# ----- lessons at a lecture's pace ------------------------------------------


async def test_a_playing_lesson_waits_after_each_say_for_the_lecturer(port):
    app = SockvizApp(port=port, scenario=("lesson: two says", TWO_SAYS))
    async with lecture(app) as lect:
        await lect.until(lambda: "line 1 of 5" in narration(app), "the counter at the first line")
        await lect.pilot.press("space")
        await lect.until(lambda: "paused after the narration" in narration(app), "a pause after the first say")
        assert "line 2 of 5" in narration(app) and "First the server makes its socket." in narration(app)
        panel = app.screen.query_one("#narration", ScenarioPanel)
        await lect.until(lambda: panel.waiting, "the player to wait before its next line")
        assert not app.session.sockets  # it waits for the lecturer: nothing ran after the say
        await lect.pilot.press("space")  # go on: the next say pauses it again, after socket() and bind()
        await lect.until(lambda: "line 5 of 5" in narration(app), "the second pause")
        assert "paused after the narration" in narration(app)
        # The player's events reach the screen apart from the panel's counter: no refresh being due can mean
        # that socket()'s row has not even arrived (CellDoesNotExist once, at load 6.6). Wait for bind()'s address.
        await lect.until(lambda: shows(lect, "s", "laddr", f"127.0.0.1:{port}"), "the table's row after bind()")
        assert [t.name for t in app.session.sockets] == ["s"] and lect.cell("s", "state") != "LISTEN"
        await lect.pilot.press("n")  # one line: listen()
        await lect.until(lambda: "all 5 lines played" in narration(app), "the end")
        log = lect.log_text()
        assert re.search(r"lesson\s+First the server makes its socket\.", log), log
        assert (
            log.index("First the server") < log.index("s.bind(") < log.index("Now it listens.") < log.index("s.listen(")
        )


async def test_a_lesson_with_a_pace_of_its_own_plays_through(port):
    app = SockvizApp(port=port, scenario=("paced", "pace 0\n" + TWO_SAYS))
    async with lecture(app) as lect:
        await lect.pilot.press("space")
        await lect.until(lambda: "ended: every expect held" in narration(app), "the paced lesson to end")
        assert "all 6 lines played" in narration(app)
        assert "Now it listens." in lect.log_text()


async def test_the_lesson_panel_names_its_keys_from_the_bindings(port):
    app = SockvizApp(port=port, scenario=("lesson: echo", lessons.text("echo")))
    async with lecture(app) as lect:
        await lect.until(lambda: "line 1 of" in narration(app), "the lesson to load")
        await lect.until(lambda: "lesson: echo is loaded" in lect.log_text(), "the log to say how to play it")
        assert "space play/pause" in lect.log_text()
        for action in ("play_pause", "step_scenario", "restart_lesson"):
            binding = next(b for _, b in [*app._bindings, *app.screen._bindings] if b.action == action)
            assert f"{key_display(binding)} {binding.description}" in narration(app)


# ----- keys you can find -----------------------------------------------------


def help_text(app: SockvizApp) -> str:
    """Everything the help screen shows, as plain text, scrolled or not."""
    lines = []
    for widget in app.screen.query(Static):
        strips = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
        lines += [strip.text for strip in strips]
    return "\n".join(lines)


async def test_help_lists_every_binding_of_the_app_its_screen_and_its_widgets(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        main = app.screen
        expected = [b for _, b in app._bindings if not b.system] + [b for _, b in main._bindings if not b.system]
        for widget in main.walk_children():
            if type(widget).__module__.startswith("sockviz") and "BINDINGS" in type(widget).__dict__:
                expected += [b for _, b in widget._bindings]
        await lect.pilot.press("f1")
        await lect.until(lambda: type(app.screen).__name__ == "HelpScreen", "help to open")
        await lect.pilot.pause()
        text = help_text(app)
        said = {b.action: IN_OUR_WORDS.get(b.action, (b.description,))[0] for b in expected}  # Textual's, ours
        missing = [f"{key_display(b)} {said[b.action]}" for b in expected if key_display(b) not in text or
                   said[b.action].split(":")[0] not in text]  # fmt: skip
        assert not missing, missing
        for needed in ("f4", "space", "^r", "0", "+", "-", "Lesson: echo", "Reset session", "^p"):
            assert needed in text, needed
        unlisted = [s.id for s in STEPS if f"{s.side.value} {s.label}" not in text]  # the steps table, row by row
        assert not unlisted, unlisted
        await lect.pilot.press("escape")
        await lect.until(lambda: type(app.screen).__name__ != "HelpScreen", "help to close")


async def test_the_palette_lists_the_lessons_with_nothing_typed(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.pilot.press("ctrl+p")

        def prompts() -> list[str]:
            lists = app.screen.query("CommandList")
            if not lists:
                return []
            options = lists.first()
            return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]

        await lect.until(lambda: sum("Lesson:" in p for p in prompts()) == len(lessons.names()), "every lesson", 10)
        assert any("Reset session" in p for p in prompts())
        assert not any("{" in p for p in prompts()), prompts()  # no raw templates


def test_no_key_description_is_a_raw_template():
    """The palette's keys panel shows the bindings' tooltips: none may be a `{sock}.bind({address})` template."""
    from sockviz.keys import ALL_BINDINGS

    assert not [b for b in ALL_BINDINGS if "{" in (b.tooltip or "") or "{" in b.description]
    assert all(name.startswith(("Lesson: ", "Reset")) for name, _ in palette_entries())


def test_the_readme_key_table_is_the_bindings():
    """One source for the keys: the README's table is what `python -m sockviz.keys` prints from the bindings."""
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert readme_markdown() in readme


async def test_the_key_bar_is_readable_at_80_and_130_columns(port):
    for width, wanted in (
        (80, ("f1 all keys", "t timeline", "0 reset", "^q quit", "^p palette")),
        (130, ("f1 help", "f2 contrast", "t timeline", "w wire", "6 IPv4/IPv6", "0 reset", "f3 .py", "f4 .ipynb")),
    ):
        app = SockvizApp(port=port)
        async with lecture(app, size=(width, 30)):
            text = app.screen.query_one("#keys").render().plain
            assert len(text) == width and "…" not in text, text
            for entry in wanted:
                assert entry in text, (width, entry, text)
            assert " │ " in text  # grouped


async def test_a_reset_takes_the_lessons_keys_off_the_key_bar(port):
    """After a lesson, a reset unloads it: space, n and ^r do nothing then, and the key bar no longer names them
    (it went on saying "space play/pause  n next line  ^r restart" until the next focus move)."""
    app = SockvizApp(port=port, scenario=("lesson: echo", lessons.text("echo")))
    async with lecture(app, size=(80, 24)) as lect:
        keys = app.screen.query_one("#keys")
        await lect.until(lambda: "space play/pause" in keys.render().plain, "the lesson's keys")
        app.session_screen.scenario_panel.speed(64)
        await lect.play_to_the_end(timeout=30)  # as a lecturer does, then starts afresh
        await lect.pilot.resize_terminal(130, 40)  # as the tour that found it did
        await lect.pilot.pause()
        assert "^r restart" in app.screen._compositor.render_strips()[-1].text
        old_session = app.session
        await lect.pilot.press("0")
        await lect.until(lambda: app.session is not old_session and "press s" in lect.log_text(), "a fresh session")
        await lect.pilot.pause()
        shown = app.screen._compositor.render_strips()[-1].text  # what is drawn: render() would say it anew
        assert "space" not in shown and "next line" not in shown and "restart" not in shown, shown
        assert "0 reset" in shown


async def test_a_click_on_the_key_bar_presses_the_key(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        keys = app.screen.query_one("#keys")
        column = keys.render().plain.index("t timeline")
        await lect.pilot.click(keys, offset=(column, 0))
        await lect.until(lambda: app.screen.query_one("#timeline").display, "the timeline from the key bar")


async def test_tab_goes_server_table_client_log(port):
    """A newcomer starts where the welcome says: on the server's first step, so Enter runs socket() and the
    first Tabs go on through the server's steps, then the table, the client's steps and the log."""
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        assert app.focused is app.query_one("#server-socket")
        order = ["server-pane", "sockets", "client-pane", "log"]
        seen: list[str] = ["server-pane"]
        for _ in range(60):
            await lect.pilot.press("tab")
            node = app.focused
            while node is not None and node.id not in order:
                node = node.parent
            if node is not None and (not seen or seen[-1] != node.id):
                seen.append(node.id)
        assert seen[:4] == order, seen
        app.query_one("#server-socket").focus()
        await lect.pilot.press("enter")
        await lect.until(lambda: [t.name for t in app.session.sockets] == ["s"], "socket() from the first Enter")


# ----- a first screen that teaches ----------------------------------------------


async def test_the_first_screen_says_what_to_press_and_then_what_next(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        log = app.screen.query_one("#log")
        await lect.until(lambda: "press s" in lect.log_text(), "the welcome")
        assert "next: s" in str(log.border_subtitle)
        await lect.press_all(*LISTENING)
        await lect.until(lambda: "a accept()" in str(log.border_subtitle), "accept named once s listens")
        assert "S" in str(log.border_subtitle)


async def test_while_a_lesson_has_lines_to_run_the_logs_next_is_the_lessons(port):
    """One `next` on the screen: with a lesson loaded, the log's guide points at the lesson's next line (in the
    panel) instead of naming steps of its own; once the lesson has ended, the guide's own steps come back."""
    app = SockvizApp(port=port, scenario=("lesson: echo", lessons.text("echo")))
    async with lecture(app) as lect:
        log = app.screen.query_one("#log")
        await lect.until(lambda: "line 1 of" in narration(app), "the lesson to load")
        await lect.until(lambda: "the lesson panel's next line" in str(log.border_subtitle), "the guide")
        assert "space plays it" in str(log.border_subtitle) and "n runs just that line" in str(log.border_subtitle)
        await lect.play_to_the_end()
        await lect.until(lambda: "lesson" not in str(log.border_subtitle), "the guide's own steps again")


def log_bottom(app: SockvizApp) -> str:
    """The log's bottom border as the terminal shows it: where its `next:` line is drawn."""
    log = app.screen.query_one("#log")
    strips = app.screen._compositor.render_strips()
    return strips[log.region.bottom - 1].text[log.region.x : log.region.right]


async def test_at_80_columns_the_logs_next_fits_its_border_whole(port):
    """At 80x24 the log is 80 columns wide, or 40 beside a lesson's panel: the guide's line is said in the words
    that fit (fewer suggestions, then without their asides) rather than cut by the border mid-word with `…`."""
    app = SockvizApp(port=port, scenario=("lesson: echo", lessons.text("echo")))
    async with lecture(app, size=(80, 24)) as lect:
        await lect.until(lambda: "line 1 of" in narration(app), "the lesson to load")
        await lect.until(lambda: "next: the lesson panel's next line" in log_bottom(app), "the lesson's guide")
        assert "…" not in log_bottom(app), log_bottom(app)
        await lect.pilot.resize_terminal(130, 40)
        await lect.until(lambda: "space plays it" in log_bottom(app), "the whole guide when there is room")
    app = SockvizApp(port=port)
    async with lecture(app, size=(80, 24)) as lect:
        await lect.press_all("server-socket", "server-listen", "client-socket")  # no bind(): listen() picks a port
        await lect.until(lambda: "a accept() takes a client" in log_bottom(app), "the guide after listen()")
        assert "…" not in log_bottom(app), log_bottom(app)
        guide = str(app.screen.query_one("#log").border_subtitle)
        assert "set the port to" not in guide, guide  # the second suggestion did not fit: it is left out whole
        await lect.pilot.resize_terminal(200, 50)
        await lect.until(lambda: "set the port to" in log_bottom(app), "both suggestions at 200 columns")


async def test_a_refused_field_value_says_why_in_the_log(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.press("server-socket")
        app.screen.query_one("#port").value = "99999"
        await lect.pilot.press("b")
        await lect.until(lambda: "bind() not run" in lect.log_text(), "the refusal in the log")
        assert not [t for t in app.session.sockets if t.bound_port]


# ----- projector comforts ----------------------------------------------------------


def grey_text(app: SockvizApp, selector: str) -> list[str]:
    """The text a widget draws in a grey (dim or muted): r = g = b, neither black nor white."""
    widget = app.screen.query_one(selector)
    found = []
    for strip in widget.render_lines(Region(0, 0, widget.size.width, widget.size.height)):
        for segment in strip:
            colour = segment.style.color if segment.style is not None else None
            if colour is None or not segment.text.strip():
                continue
            red, green, blue = colour.get_truecolor()
            if red == green == blue and 0x30 < red < 0xF0:
                found.append(segment.text)
    return found


def grey_on_screen(app: SockvizApp) -> list[tuple[int, str]]:
    """Every text on the whole screen drawn in a grey (see `grey_text`), with its row: what a washed-out
    projector loses. Lines and blocks (borders, scrollbars) are not text."""
    found = []
    for y, strip in enumerate(app.screen._compositor.render_strips()):
        for segment in strip:
            text = "".join(c for c in segment.text if not 0x2500 <= ord(c) < 0x25A0).strip()
            colour = segment.style.color if segment.style is not None else None
            if colour is None or not text:
                continue
            red, green, blue = colour.get_truecolor()
            if (red == green == blue and 0x30 < red < 0xF0) or segment.style.dim:
                found.append((y, text))
    return found


async def test_high_contrast_draws_nothing_dim(port):
    """Nothing grey anywhere on screen, from the first screen ("select a socket..." under the table) to closed
    sockets (their rows, the panes' socket lists and their arrows), the timeline and a lesson's panel."""
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.pilot.pause()
        assert grey_text(app, "#log")  # the timestamps are dim grey in the default theme
        assert grey_text(app, "#repr")  # and so is the placeholder under the table
        await lect.pilot.press("f2")
        assert app.theme == HIGH_CONTRAST.name
        await lect.until(lambda: not grey_on_screen(app), "the first screen drawn again in white")

        def ink_of(step_id: str) -> tuple[int, int, int]:
            button = app.screen.query_one(f"#{step_id}")
            key_cell = button.render_line(0)  # the key, then the label: the label's colour is the second segment
            return [s.style.color for s in key_cell if s.text.strip()][-1].get_truecolor()

        app.screen.query_one("#client-socket").focus()  # (a focused step is drawn in the cursor's colours)
        await lect.pilot.pause()
        assert ink_of("server-socket") != ink_of("server-bind")  # socket() can run, bind() cannot: they look apart
        await lect.press_all(*CONNECTED, "server-accept", "server-close-conn", "client-close", "server-close")
        await lect.pilot.press("t")
        await lect.pilot.pause()
        assert not grey_on_screen(app), grey_on_screen(app)
        for selector in ("#log", "#server-pane", "#sockets", "#keys", "#repr"):
            assert not grey_text(app, selector), (selector, grey_text(app, selector))
        app.load_lesson("echo")
        await lect.until(lambda: "line 1 of" in narration(app), "the lesson to load")
        await lect.pilot.pause()
        assert not grey_on_screen(app), grey_on_screen(app)


# ----- starting over -----------------------------------------------------------------


async def test_reset_closes_every_socket_and_blocking_order_then_runs_on_the_same_port(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.press_all(*LISTENING, "client-socket", "client-connect", "server-accept")
        await lect.press("client-recv", wait_for="block")  # a blocked call too: reset must wake it
        old_session = app.session
        old_sockets = list(old_session.sockets)
        await lect.pilot.press("0")
        await lect.until(lambda: app.session is not old_session and "s.bind(" not in lect.log_text(), "a fresh log")
        await lect.until(lambda: "press s" in lect.log_text(), "the welcome again")
        assert not app.session.sockets
        assert all(t.closed for t in old_sockets) and not old_session.running()
        table = app.screen.query_one("#sockets")
        held = [str(key.value) for key in table.rows if str(key.value).startswith("held-")]
        assert table.row_count == len(held)  # only what the kernel still holds of the old session (the client's
        # TIME_WAIT: reset closes clients first)
        assert "s.bind(" not in lect.log_text() and "press s" in lect.log_text()  # the log starts over
        app.load_lesson("blocking-order")
        await lect.until(lambda: "line 1 of" in narration(app), "the lesson to load")
        assert "ended: every expect held" in await lect.play_to_the_end()
        assert lect.cell("s", "laddr") == "" or str(port) in lect.log_text()
        assert "EADDRINUSE" not in lect.log_text()
        await lect.pilot.press("space")  # nothing left to play: it says so, and how to play it again
        await lect.until(lambda: app._notifications, "a word that the lesson has ended")
        assert "the lesson has ended: ^r plays it again" in str(list(app._notifications)[-1].message)
        await lect.pilot.press("space", "n", "space")  # pressed again while it shows: one notice, not a stack
        await lect.pilot.pause()
        assert len(app._notifications) == 1


async def test_after_a_reset_the_time_wait_that_holds_the_port_keeps_its_row(port):
    """The server closed first: its side is in TIME_WAIT on the server's port (ss says so too). After a reset
    that row stays, marked pre-reset, the log says why, and the next bind() fails with EADDRINUSE for real."""
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.press_all(*LISTENING, "client-socket", "client-connect", "server-accept")
        await lect.press_all("server-close-conn", "client-close", "server-close")
        await lect.until(lambda: lect.cell("conn", "state") == "TIME_WAIT", "the server's side in TIME_WAIT")
        old_session = app.session
        await lect.pilot.press("0")
        await lect.until(lambda: app.session is not old_session and "press s" in lect.log_text(), "a fresh session")
        table = app.screen.query_one("#sockets")
        await lect.until(lambda: table.row_count == 1, "the held row")
        row = dict(zip([key for key, _ in COLUMNS], table.get_row_at(0), strict=True))
        assert (row["name"], row["state"], row["laddr"], row["open"]) == ("conn", "TIME_WAIT", f"127.0.0.1:{port}",
                                                                          "closed")  # fmt: skip
        assert re.fullmatch(r"\d+ s left \(pre-reset\)", row["now"]), row["now"]
        held = subprocess.run(["ss", "-tanH", "state", "time-wait", f"( sport = :{port} )"], capture_output=True,
                              text=True, check=True).stdout  # fmt: skip
        assert f"127.0.0.1:{port}" in held  # the kernel holds it, as the row says
        assert re.search(rf"conn 127\.0\.0\.1:{port} ⇄ 127\.0\.0\.1:\d+ in TIME_WAIT", lect.log_text())
        assert f"bind() to port {port} fails with EADDRINUSE" in lect.log_text()
        await lect.press("server-socket")
        await lect.press("server-bind")
        assert "bind() failed: OSError EADDRINUSE" in lect.log_text()
        await lect.until(lambda: table.row_count == 2, "the new socket's row below the held one")
        assert table.get_row_at(0)[0] == "conn" and table.get_row_at(1)[0] == "s"
        assert lect.cell("s", "name") == "s"  # the new session's rows are read as before, the held one above
        table.focus()
        table.move_cursor(row=0)
        await lect.pilot.press("enter")  # the held row chosen: no socket of this session to act on, no fault
        await lect.pilot.pause()
        assert not app.faults


async def test_loading_a_lesson_into_a_used_session_resets_it_first(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.press_all(*LISTENING)
        used = app.session
        app.load_lesson("refused")
        await lect.until(lambda: app.session is not used and "line 1 of" in narration(app), "a fresh session")
        assert not app.session.sockets and all(t.closed for t in used.sockets)
        assert "lesson: refused" in narration(app)


async def test_a_lesson_restarts_from_its_first_line_on_a_fresh_session(port):
    app = SockvizApp(port=port, scenario=("lesson: two says", TWO_SAYS))
    async with lecture(app) as lect:
        await lect.until(lambda: "line 1 of 5" in narration(app), "the lesson to load")
        await lect.pilot.press("n", "n", "n")
        await lect.until(lambda: len(app.session.sockets) == 1 and "line 4 of 5" in narration(app), "three lines")
        played = app.session
        await lect.pilot.press("ctrl+r")
        await lect.until(lambda: app.session is not played and "line 1 of 5" in narration(app), "the restart")
        assert not app.session.sockets and all(t.closed for t in played.sockets)
        await lect.pilot.press("n", "n")
        await lect.until(lambda: len(app.session.sockets) == 1, "the lesson to run again")


async def test_a_restart_empties_the_same_widgets_and_a_stopped_players_late_line_reaches_no_log(port):
    """The screen is emptied for the fresh session, not made again (its 70 widgets' layout and first frame held the
    loop 40-60 ms); the stopped player's lines still on their way are dropped, the new player's are shown."""
    app = SockvizApp(port=port, scenario=("lesson: two says", TWO_SAYS))
    async with lecture(app) as lect:
        await lect.until(lambda: "line 1 of 5" in narration(app), "the lesson to load")
        await lect.pilot.press("n", "n")
        await lect.until(lambda: len(app.session.sockets) == 1, "socket() to run")
        screen = app.session_screen
        widgets = (screen.table, screen.event_log, screen.scenario_panel, screen.pane(Side.SERVER))
        stopped = screen.scenario_panel._player
        await lect.pilot.press("ctrl+r")
        await lect.until(lambda: not screen._rebuilding and "line 1 of 5" in narration(app), "the restart")
        assert (screen.table, screen.event_log, screen.scenario_panel, screen.pane(Side.SERVER)) == widgets
        assert screen.table.row_count == 0 and "s = socket.socket" not in lect.log_text()
        assert str(screen.query_one("#server-pane .no-choice", Label).render()) == "connection\nnone accepted yet"
        screen.scenario_panel.post_message(Narrated(1, "a line of the stopped lesson", stopped))
        screen.scenario_panel.post_message(Narrated(1, "a line of the playing lesson", screen.scenario_panel._player))
        await lect.until(lambda: "a line of the playing lesson" in lect.log_text(), "the playing lesson's line")
        assert "a line of the stopped lesson" not in lect.log_text()
        assert "a line of the stopped lesson" not in narration(app)


async def test_a_restart_says_the_lessons_welcome_once_then_how_to_play_it(port):
    """The fresh session's welcome is already the lesson's: the log keeps it (cleared and written again, it cost the
    restart a second wrap and a repaint of the whole log) and says under it how to play the lesson."""
    app = SockvizApp(port=port, scenario=("lesson: two says", TWO_SAYS))
    async with lecture(app) as lect:
        await lect.until(lambda: "line 1 of 5" in narration(app), "the lesson to load")
        await lect.pilot.press("n", "n")
        await lect.until(lambda: len(app.session.sockets) == 1, "socket() to run")
        log = app.session_screen.event_log
        await lect.pilot.press("ctrl+r")
        await lect.until(lambda: any("is loaded" in text for _, text, _ in log.says()), "the restart's welcome")
        said = [text for _, text, _ in log.says()]
        assert said[0] == welcome(Transport.TCP) and said.count(said[0]) == 1
        assert said[-1].startswith("lesson: two says is loaded. It pauses after each narration")
        assert lect.log_text().count(welcome(Transport.TCP).split(".")[0]) == 1


CLIENT_SOCKET = """\
say "The client makes its socket."
client socket
"""


async def test_after_a_restart_the_socket_list_stays_and_says_there_is_nothing_to_choose(port):
    """Hidden at each restart and shown again with the next first socket, the list laid the whole screen out twice a
    round of a lesson: it stays where it stands, in a fresh pane's words, and does not open with nothing in it."""
    app = SockvizApp(port=port, scenario=("lesson: a client socket", CLIENT_SOCKET))
    async with lecture(app) as lect:
        await lect.until(lambda: "line 1 of 2" in narration(app), "the lesson to load")
        await lect.pilot.press("n", "n")
        screen = app.session_screen
        await lect.until(lambda: screen.query("#client-sock"), "the client's list of sockets")
        select = screen.query_one("#client-sock", SocketSelect)
        line = select.query_one("#label", Static)
        await lect.until(lambda: str(line.render()).startswith("c"), "the list to show c")
        await lect.pilot.press("ctrl+r")
        await lect.until(lambda: not screen._rebuilding and "line 1 of 2" in narration(app), "the restart")
        await lect.until(lambda: str(line.render()) == "none yet", "the list to say there is nothing to choose")
        assert select.display and str(screen.query_one("#client-pane .no-choice", Label).render()) == "client socket"
        select.expanded = True
        assert not select.expanded and not select.can_focus
        await lect.pilot.press("n", "n")
        await lect.until(lambda: str(line.render()).startswith("c"), "the new session's c in the list")
        assert select.can_focus


async def test_reset_is_in_the_palette(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.press("server-socket")
        used = app.session
        await lect.pilot.press("ctrl+p")
        await lect.pilot.pause()
        await lect.pilot.press(*"reset session")

        def offered() -> bool:
            lists = app.screen.query("CommandList")
            return (
                bool(lists)
                and lists.first().option_count > 0
                and "Reset" in str(lists.first().get_option_at_index(0).prompt)
            )

        await lect.until(offered, "the palette to offer the reset", 10)
        await lect.pilot.press("enter")
        await lect.until(lambda: app.session is not used, "the reset")
        assert all(t.closed for t in used.sockets)


async def test_at_80x24_the_lesson_panel_keeps_its_counter_and_next_line_under_a_long_narration(port):
    """echo's SO_REUSEADDR narration is seven lines at the panel's width; at 80x24 the panel has seven: the
    narration is cut ("…", the log keeps it whole) and the counter, the next line and the state stay on screen."""
    app = SockvizApp(port=port, scenario=("lesson: echo", lessons.text("echo")))
    async with lecture(app, size=(80, 24)) as lect:
        await lect.until(lambda: "line 1 of" in narration(app), "the lesson to load")
        await lect.pilot.press("n", "n", "n")  # a say, socket(), then the long say
        await lect.until(lambda: "SO_REUSEADDR before bind()" in narration(app), "the long narration")
        await lect.until(lambda: "next: server option SO_REUSEADDR=1" in narration(app), "its next line")
        await lect.pilot.pause()
        panel = app.query_one("#narration", ScenarioPanel)
        screen = [strip.text for strip in app.screen._compositor.render_strips()]
        shown = "\n".join(
            line[panel.region.x : panel.region.right] for line in screen[panel.region.y : panel.region.bottom]
        )
        assert "line 4 of" in shown and "next: server option SO_REUSEADDR=1" in shown and "paused" in shown, shown
        assert "…" in shown and "only if both sockets set SO_REUSEADDR." in lect.log_text()


async def test_help_says_every_key_in_sockviz_words_even_textuals_own(port):
    """Help is built from the real bindings, Textual's own among them (tab, a step's enter, copy): none is
    shown with Textual's description ("Focus Next", "Press button"), and each of them is there."""
    from rich.console import Console
    from textual.app import App
    from textual.binding import Binding
    from textual.screen import Screen
    from textual.widgets import Button

    from sockviz.keys import IN_OUR_WORDS
    from sockviz.screens.help import HelpScreen

    textuals = {b.description for cls in (App, Screen, Button) for b in Binding.make_bindings(cls.BINDINGS)}
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.pilot.press("f1")
        await lect.until(lambda: isinstance(app.screen, HelpScreen), "help")
        console = Console(width=200, record=True, file=io.StringIO())
        for static in app.screen.query(Static):
            console.print(static.content)
        shown = console.export_text()
        for own in textuals - {""}:
            assert own not in shown, own
        for words, _what in IN_OUR_WORDS.values():
            assert words in shown, words
    assert not textuals & set(readme_markdown().split(" | "))
