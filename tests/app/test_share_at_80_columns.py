"""Sharing on a laptop's default terminal (80x24): what the top bar and the key line say, read off the screen.

At 80 columns the bar's fields fill the first line, so the share's label (the join code, how many follow, whom a
follower follows) goes to a second line rather than past the edge; a wide screen keeps one line.
"""

from __future__ import annotations

import asyncio
import socket

from helpers import free_port, until
from textual.widgets import Input

from sockviz.app import SockvizApp
from sockviz.follow import FollowApp
from sockviz.share.client import Connection
from sockviz.share.mirror import Feed
from sockviz.share.protocol import follow_url
from sockviz.share.server import ShareServer


def screen_lines(app) -> list[str]:
    """The screen as the terminal shows it, line by line (what is past the edge is not there)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


async def test_the_lecturers_bar_shows_the_code_and_how_many_follow_at_80_columns():
    share = ShareServer("127.0.0.1", 0)
    share.start()
    follower = Connection(follow_url("127.0.0.1", share.port, share.code), Feed(lambda _: None).frame)
    app = SockvizApp(port=free_port(), share=share)
    label = f"sharing 127.0.0.1:{share.port} · code {share.code} · 1 follow"
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            following = asyncio.get_running_loop().create_task(follower.run())
            await until(pilot, lambda: any(label in line for line in screen_lines(app)[:2]), "the share's label")
            first, second = screen_lines(app)[:2]
            assert "host 127.0.0.1" in first and "UDP" in first  # the fields keep their line
            assert second.strip() == label
            await pilot.resize_terminal(130, 40)
            await until(pilot, lambda: label in screen_lines(app)[0], "one line at 130 columns")
            assert "UDP" in screen_lines(app)[0] and "╭" in screen_lines(app)[1]
            await pilot.press("ctrl+q")
        following.cancel()
    finally:
        share.stop()


async def test_with_nothing_to_say_the_bar_keeps_one_line_whatever_its_fields_say():
    """A field's note (a name that does not resolve) can push the row past the edge: with no share and no
    warning, the bar still keeps one line, so nothing below it moves (a click aimed at a step would miss)."""
    app = SockvizApp(port=free_port())
    async with app.run_test(size=(80, 24)) as pilot:
        app.query_one("#host", Input).value = "no-such-host.invalid"

        def host_note() -> str:
            found = app.query("#host-field .field-note")
            return str(found.first().render()) if found else ""

        await until(pilot, lambda: "does not resolve" in host_note(), "the lookup to fail")
        await pilot.pause()
        assert not app.session_screen.bar.has_class("-two-lines")
        assert screen_lines(app)[1].startswith("╭")  # the panes begin on the second line


async def test_a_followers_bar_says_whom_it_follows_and_its_key_line_offers_only_its_keys(shared):
    session, share, _ = shared
    app = FollowApp("127.0.0.1", share.port, share.code)
    async with app.run_test(size=(80, 24)) as pilot:
        label = f"following 127.0.0.1:{share.port} · read-only"
        await until(pilot, lambda: share.followers == 1, "the follower to join")
        await until(pilot, lambda: screen_lines(app)[1].strip() == label, "the label on the bar's second line")
        keys = screen_lines(app)[-1]
        assert "timeline" in keys and "quit" in keys
        for lecturers in ("restart", "reset", "IPv4/IPv6", "TCP/UDP"):  # never a follower's keys
            assert lecturers not in keys

        def told(text: str) -> bool:
            return any(text in str(notice.message) for notice in app._notifications)

        await pilot.press("0", "6", "d")  # still bound: each says why it does nothing
        await until(pilot, lambda: told("the lecturer resets the session"), "why 0 does nothing")
        await until(pilot, lambda: told("the lecturer chooses the address family"), "why 6 does nothing")
        await until(pilot, lambda: told("the lecturer chooses TCP or UDP"), "why d does nothing")
        await pilot.click("#family")  # the bar's switches and fields take no input: they show the lecturer's
        await pilot.pause()
        assert "host 127.0.0.1" in screen_lines(app)[0] and app.session_screen.bar.family == socket.AF_INET
        assert all(field.disabled for field in app.session_screen.bar.query(Input))
        await pilot.resize_terminal(130, 40)  # room for every key: still none of the lecturer's
        await until(pilot, lambda: "f12" in screen_lines(app)[-1], "the whole key line")
        assert ".ipynb" in screen_lines(app)[-1] and ".pcapng" not in screen_lines(app)[-1]
        assert not session.sockets and not app.faults


async def test_a_follower_whose_lecturer_stopped_sharing_is_promised_no_next_step(shared):
    """The guide would still foretell the session's next step ("next: s the server's socket()"), which nobody
    will run any more: once the lecturer stops sharing, the log's `next:` says that nothing comes."""
    _, share, _ = shared
    app = FollowApp("127.0.0.1", share.port, share.code)
    async with app.run_test(size=(130, 40)) as pilot:
        log = app.session_screen.event_log
        await until(pilot, lambda: share.followers == 1, "the follower to join")
        await until(pilot, lambda: "next: s" in str(log.border_subtitle), "the guide foretelling socket()")
        share.stop()
        await until(pilot, lambda: "next: nothing" in str(log.border_subtitle), "the guide to say it ended")
        assert str(log.border_subtitle) == "next: nothing: the lecturer stopped sharing"
        app.session_screen.refresh_sockets()  # a later refresh keeps it so
        assert str(log.border_subtitle) == "next: nothing: the lecturer stopped sharing"
