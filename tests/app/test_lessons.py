"""Whole lessons clicked through in the real app, on real loopback sockets."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
from conftest import CONNECTED, LISTENING, lecture, quit_as_a_terminal_does
from helpers import sockviz_threads, wait_for
from textual import events
from textual.widgets import Button, Select
from textual.widgets._select import SelectOverlay

from sockviz.app import SockvizApp
from sockviz.core import Side, StepBlocked, StepFailed, StepReturned, Target, steps_of

HELLO = "Hello, Wireshark. You are an amazing tool!"


async def test_the_seed_lesson_steps_1_to_13(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        for step_id in ("server-socket", "server-bind", "server-listen"):
            await lect.click(step_id)
        assert lect.cell("s", "state") == "LISTEN"
        await lect.click("server-accept", wait_for="block")
        assert lect.cell("s", "now").startswith("accept() blocked ")
        await lect.click("client-socket")
        await lect.click("client-connect")
        accepted = [e for e in lect.delivered if isinstance(e, StepReturned) and e.call.step.id == "server-accept"]
        await lect.until(
            lambda: (
                accepted
                or [e for e in lect.delivered if isinstance(e, StepReturned) and e.call.step.id == "server-accept"]
            ),
            "accept to return",
        )
        await lect.click("client-send")
        got = await lect.click("server-recv")
        assert got.data == HELLO.encode()
        await lect.click("server-send")  # the message field is empty: echo
        back = await lect.click("client-recv")
        assert back.data == HELLO.encode()
        await lect.click("server-close-conn")
        assert lect.cell("conn", "open") == "closed" and lect.cell("conn", "fd") == "-1"
        await lect.click("client-close")
        # Step 4 again on the same listening socket, and a fresh client.
        await lect.click("server-accept", wait_for="block")
        await lect.click("client-socket")
        await lect.click("client-connect")
        await lect.until(lambda: len(app.session.sockets) == 5, "the second connection")
        assert [t.name for t in app.session.sockets] == ["s", "c", "conn", "c2", "conn2"]
        await lect.click("server-close-conn")
        await lect.click("client-close")
        await lect.click("server-close")
        await lect.click("client-socket")
        refused = await lect.click("client-connect")
        assert isinstance(refused, StepFailed) and refused.error.errno_name == "ECONNREFUSED"
        await lect.pilot.pause(0.3)
        log = lect.log_text()
        assert re.search(r"accept\(\) returned after [\d.]+ m?s: connection from \('127\.0\.0\.1', \d+\)", log)
        assert "woken by client c.connect()" in log
        assert f"c.sendall(b'{HELLO}')" in log
        assert "conn.sendall(data)" in log
        assert "conn2, addr = s.accept()" in log
        assert "ConnectionRefusedError ECONNREFUSED (111): [Errno 111] Connection refused" in log
        assert "why: Nothing is listening on that address and port" in log
        assert all(lect.cell(name, "open") == "closed" for name in ("s", "c", "conn", "c2", "conn2"))
        assert lect.cell("c3", "open") == "open"


async def test_the_blocking_order_lesson(port):
    """Server recv first; then client send and recv; then server send. Each block and wake in order."""
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.press_all(*CONNECTED)
        await lect.press("server-accept")
        await lect.press("server-recv", wait_for="block")
        await lect.press("client-send")
        await lect.until(lambda: "recv() returned after" in lect.log_text(), "server recv to wake")
        await lect.press("client-recv", wait_for="block")
        await lect.press("server-send")
        await lect.until(lambda: lect.log_text().count("recv() returned after") == 2, "client recv to wake")
        story = re.findall(r"^[\d.]+ (server|client) recv\(\) (blocks|returned after)", lect.log_text(), re.M)
        assert story == [
            ("server", "blocks"),
            ("server", "returned after"),
            ("client", "blocks"),
            ("client", "returned after"),
        ]
        assert "(woken by client c.sendall())" in lect.log_text()


async def test_quit_with_accept_and_recv_blocked_does_not_hang(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.press_all(*CONNECTED)
        await lect.press("client-recv", wait_for="block")
        await lect.press("server-accept")
        await lect.press("server-accept", wait_for="block")
        await lect.press("server-recv", wait_for="block")
        assert len(app.session.running()) == 3
        quit_as_a_terminal_does(app)
    assert not app.session.running()
    assert all(t.closed for t in app.session.sockets)


async def test_sixty_four_blocked_steps_keep_the_app_live(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.press_all(*LISTENING)
        for _ in range(64):
            await lect.pilot.press("a")
        await lect.until(lambda: len(lect.events.of(StepBlocked)) == 64, "64 blocked accepts", timeout=10)
        await lect.press("client-socket")  # the UI still answers
        await lect.press("client-connect")
        await lect.until(lambda: len(app.session.running()) == 63, "one accept to return")


async def test_peer_bytes_are_shown_literally(port):
    """Markup and escape codes from a peer must not style, move or clear the screen."""
    app = SockvizApp(port=port)
    hostile = b"[bold red]boom[/] [x] \x1b[2J\x1b]0;pwned\x07 \r\n\xff"
    async with lecture(app) as lect:
        await lect.press_all(*LISTENING)
        peer = socket.create_connection(("127.0.0.1", port))
        try:
            await lect.press("server-accept")
            peer.sendall(hostile)
            got = await lect.press("server-recv")
            assert got.data == hostile
            log = lect.log_text()
            assert repr(hostile) in log
            assert "\x1b" not in log and "\x07" not in log
            assert "[bold red]boom[/] [x]" in log
        finally:
            peer.close()


async def test_bad_input_is_refused_at_the_field_and_nothing_runs(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.press("server-socket")
        for bad, reason in [
            ("abc", "not a whole number"),
            ("-1", "not a whole number"),
            ("70000", "too large"),
            ("", "enter a port"),
        ]:
            app.query_one("#port").value = bad
            await lect.pilot.pause()
            await lect.click_line("server-bind")
            await lect.until(lambda reason=reason: reason in lect.note("port"), f"the port field to say {reason!r}")
            await lect.settled()
        assert not [e for e in lect.events.events if getattr(e, "call", None) and e.call.step.id == "server-bind"]
        app.query_one("#port").value = str(port)
        app.query_one("#host").value = "127.0.0.1 x"
        await lect.pilot.pause()
        assert "neither an IP address nor a host name" in lect.note("host")
        app.query_one("#host").value = "no-such-host.invalid"
        await lect.until(lambda: "does not resolve" in lect.note("host"), "the lookup to fail")
        await lect.click_line("server-bind")
        await lect.until(lambda: "does not resolve" in lect.note("host"), "the refusal to stay at the field")
        await lect.settled()
        assert not [e for e in lect.events.events if getattr(e, "call", None) and e.call.step.id == "server-bind"]
        app.query_one("#host").value = "localhost"
        await lect.until(lambda: "localhost is 127.0.0.1" in lect.note("host"), "lookup")
        bound = await lect.click("server-bind")
        assert isinstance(bound, StepReturned) and "127.0.0.1" in bound.call.code
        app.query_one("#client-message").value = "bad \\q escape"
        await lect.pilot.pause()
        assert "not an escape" in lect.note("client-message")


async def test_ipv4_literal_in_ipv6_mode_is_refused(port):
    app = SockvizApp(port=port, ipv6=True)
    async with lecture(app) as lect:
        assert app.query_one("#host").value == "::1"
        app.query_one("#host").value = "127.0.0.1"
        await lect.pilot.pause()
        assert "IPv4 address; in IPv6 mode use ::1" in lect.note("host")


async def test_the_ipv6_lesson(port):
    app = SockvizApp(port=port, ipv6=True)
    async with lecture(app) as lect:
        await lect.press_all(*CONNECTED)
        await lect.press("server-accept")
        assert lect.cell("s", "family") == "AF_INET6"
        assert lect.cell("s", "laddr") == f"[::1]:{port}"
        assert re.fullmatch(r"\[::1\]:\d+", lect.cell("conn", "raddr"))
        assert "s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)" in lect.log_text()


async def test_the_family_key_switches_host_and_sockets(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.pilot.press("6")
        assert app.query_one("#host").value == "::1"
        await lect.press("server-socket")
        assert lect.cell("s", "family") == "AF_INET6"
        await lect.pilot.press("6")
        assert app.query_one("#host").value == "127.0.0.1"


async def test_the_family_switch_is_clicked_or_pressed(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        toggle = app.query_one("#family")
        assert toggle.render().plain == " IPv4   IPv6 "
        await lect.pilot.click("#family")
        await lect.pilot.pause()
        assert app.query_one("#host").value == "::1" and toggle.family == socket.AF_INET6
        toggle.focus()
        await lect.pilot.press("enter")
        assert app.query_one("#host").value == "127.0.0.1" and toggle.family == socket.AF_INET


async def test_closing_a_blocked_listener_wakes_accept(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.press_all(*LISTENING)
        await lect.press("server-accept", wait_for="block")
        await lect.click("server-close")
        await lect.until(lambda: "accept() gave up after" in lect.log_text(), "accept to give up")
        assert "s.shutdown(socket.SHUT_RDWR); s.close()" in lect.log_text()
        assert "closing s here woke it with OSError EINVAL (22)" in lect.log_text()
        assert not app.session.running()


def choose_in_list(listed: Select, socket_id: int) -> None:
    """Choose a socket in a pane's drop-down list, as a click or enter on its line does."""
    index = next(n for n, (_, value) in enumerate(listed._options) if value == socket_id)
    listed.query_one(SelectOverlay).post_message(SelectOverlay.UpdateSelection(index))


async def test_the_user_chooses_the_connection_that_steps_act_on(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        assert not app.query("#server-conn") and "none accepted yet" in str(app.query_one(".no-choice").render())
        await lect.press_all(*LISTENING)
        peers = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
        try:
            await lect.press("server-accept")
            await lect.press("server-accept")
            assert app.session.current(Target.CONNECTION).name == "conn2"
            first = next(t for t in app.session.sockets if t.name == "conn")
            choose_in_list(app.query_one("#server-conn", Select), first.id)
            await lect.until(lambda: app.session.current(Target.CONNECTION) is first, "the user's choice")
            peers[0].sendall(b"one")
            got = await lect.press("server-recv")
            assert got.call.code == "data = conn.recv(1024)" and got.data == b"one"
            # Choosing a row in the table does the same.
            table = app.query_one("#sockets")
            table.focus()
            row = next(i for i, t in enumerate(app.session.sockets) if t.name == "conn2")
            table.move_cursor(row=row)
            await lect.pilot.press("enter")
            assert app.session.current(Target.CONNECTION).name == "conn2"
            assert app.query_one("#server-pane").border_subtitle == "acts on s, conn2"
        finally:
            for peer in peers:
                peer.close()


async def test_a_sockets_list_appearing_chooses_nothing(port):
    """The pane's list of sockets shows the session's choice; it is no choice of the user's. Textual's Select
    says Changed for its first value when it mounts: taken as a choice, it came back late under load and made
    c current again after a lesson had made c2 (the select lesson then sent from c and stopped)."""
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        chosen: list[str] = []
        select = app.session.select
        app.session.select = lambda tracked: (chosen.append(tracked.name), select(tracked))  # type: ignore[method-assign]
        await lect.press("client-socket")
        await lect.until(lambda: app.screen.query("#client-sock") and app.query_one("#client-sock").is_mounted,
                         "the client's list of sockets")  # fmt: skip
        for _ in range(5):  # the list's own Changed and the pane's message after it
            await lect.pilot.pause()
        assert chosen == []
        await lect.press("client-socket")
        first = next(t for t in app.session.sockets if t.name == "c")
        listed = app.query_one("#client-sock", Select)
        await lect.until(lambda: listed.value != first.id, "the list to show c2, the session's choice")
        # The list's Changed for its first value (c), as it came under load: after the list had shown c2.
        listed.post_message(Select.Changed(listed, first.id))
        for _ in range(5):
            await lect.pilot.pause()
        assert chosen == [] and app.session.current(Target.CLIENT).name == "c2"
        choose_in_list(listed, first.id)  # the user's choice still goes to the session
        await lect.until(lambda: chosen == ["c"], "the user's choice")
        assert app.session.current(Target.CLIENT) is first


def test_no_step_thread_outlives_the_app(port):
    """After the app exits, every thread it started for steps has ended."""
    import asyncio

    async def lesson() -> SockvizApp:
        app = SockvizApp(port=port)
        async with lecture(app) as lect:
            await lect.press_all(*LISTENING)
            await lect.press("server-accept", wait_for="block")
        return app

    asyncio.run(lesson())
    wait_for(lambda: not sockviz_threads(), what="threads to end")


def warned(app: SockvizApp) -> str:
    """The top bar's warning, if it shows one (its label is made with the first warning)."""
    found = app.screen.query("#exposure.-exposed")
    return str(found.first().render()) if found else ""


async def test_listening_on_all_interfaces_is_said_on_screen(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        assert not warned(app) and not app.screen.query("#notes")  # made with the first thing it has to say
        app.query_one("#host").value = "0.0.0.0"
        await lect.pilot.pause()
        assert app.query_one("#exposure").has_class("-exposed")
        assert "all interfaces" in str(app.query_one("#exposure").render())
        app.query_one("#host").value = "127.0.0.1"
        await lect.pilot.pause()
        assert not app.query_one("#exposure").has_class("-exposed")


async def test_a_socket_listening_on_all_interfaces_is_named_on_screen(port):
    """listen() without bind() listens everywhere, whatever the host field says. The core's test of that
    order reads it from the kernel; here the session's reading is stood in for, so that no more tests
    listen on a wildcard address."""
    app = SockvizApp(port=port)
    everywhere: list[str] = []
    app.session.listening_everywhere = lambda: everywhere
    async with lecture(app) as lect:
        everywhere.append("s")
        warning = "⚠ s is open to other hosts (all interfaces)"
        await lect.until(lambda: warned(app) == warning, "the warning")
        everywhere.clear()
        await lect.until(lambda: not warned(app), "the warning to go")


async def test_every_widget_id_is_unique(port):
    """Scripts find widgets by id: no two may share one."""
    app = SockvizApp(port=port)
    async with lecture(app):
        ours = ("server-", "client-", "sockets", "log", "host", "port", "repr", "family", "exposure", "endpoint")
        ids = [node.id for node in app.screen.query("*") if node.id and node.id.startswith(ours)]
        assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


async def test_tab_goes_round_the_screen_in_the_order_it_reads(port):
    """Focus starts on the server's first step; tab goes on through the server pane (its steps, then its message
    and more settings), the table, the client pane the same way, the log, the top bar, and round again."""
    app = SockvizApp(port=port)
    async with lecture(app):
        regions = ("endpoint", "server-pane", "sockets", "client-pane", "log")
        chain = app.screen.focus_chain
        order: list[str] = []
        for widget in chain:
            region = next(node.id for node in widget.ancestors_with_self if node.id in regions)
            if not order or order[-1] != region:
                order.append(region)
        assert order == list(regions)
        assert app.focused is not None and app.focused.id == "server-socket"
        ids = [widget.id for widget in chain]
        assert ids.index("client-message") > ids.index("client-close") and ids[-1] == "log"


async def test_presenter_keys(port, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.pilot.press("f2")
        assert app.theme == "sockviz-high-contrast"
        await lect.pilot.press("f12")
        await lect.pilot.pause()
        assert len(list(tmp_path.glob("*.svg"))) == 1
        await lect.pilot.press("f2")
        assert app.theme == "textual-dark"


async def export_after_accept(port: int, key: str) -> Path:
    """Connect and accept, press an export key; the folder it wrote in the current directory. Its notice goes
    after a few seconds, so the log keeps where the files went (and what to wait for before running them)."""
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.press_all(*CONNECTED, "server-accept")
        await lect.pilot.press(key)
        await lect.until(lambda: f"export: wrote {Path.cwd()}" in lect.log_text(), "the export's note in the log")
    (folder,) = Path.cwd().glob("sockviz-*")
    return folder


async def test_export_writes_both_scripts(port, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = await export_after_accept(port, "f3")
    server = (folder / "server.py").read_text()
    client = (folder / "client.py").read_text()
    assert "conn, addr = s.accept()" in server and "c.connect((HOST, PORT))" in client
    compile(server, "server.py", "exec")
    compile(client, "client.py", "exec")


async def test_export_writes_both_notebooks(port, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    monkeypatch.chdir(tmp_path)
    folder = await export_after_accept(port, "f4")
    server = nbformat.read(str(folder / "server.ipynb"), as_version=4)
    assert any("conn, addr = s.accept()" in cell.source for cell in server.cells)
    assert (folder / "client.ipynb").exists()


async def test_the_steps_are_reached_with_tab_and_run_with_enter(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        first = app.query_one("#server-socket", Button)
        while app.focused is not first:
            await lect.pilot.press("tab")
        await lect.pilot.press("enter")
        await lect.until(lambda: [t.name for t in app.session.sockets] == ["s"], "socket() from enter")
        await lect.pilot.press("down", "enter")
        await lect.until(lambda: lect.cell("s", "laddr") == f"127.0.0.1:{port}", "bind() from the keyboard")
        await lect.pilot.press("down", "enter")
        await lect.until(lambda: lect.cell("s", "state") == "LISTEN", "listen() from the keyboard")
        assert app.focused is not None and app.focused.id == "server-listen"
        await lect.pilot.press("up", "up", "up")  # round to the last step
        assert app.focused.id == steps_of(Side.SERVER)[-1].id
        await lect.pilot.press("tab")  # from the last step on to the pane's fields
        assert not isinstance(app.focused, Button)
        first.focus()
        await lect.until(lambda: app.focused is first, "the first step again")
        for _ in range(3):  # keys that arrive together, as a held key sends them: each moves one step on
            app.post_message(events.Key("down", None))
        await lect.until(lambda: app.focused is not None and app.focused.id == "server-accept", "three steps on")


async def test_split_mode_shows_only_its_sides_keys(port):
    """In split mode the other side's step keys do nothing: its pane is hidden and its bindings are off."""
    app = SockvizApp(port=port, only=Side.CLIENT)
    async with lecture(app) as lect:
        assert app.focused is app.query_one("#client-socket")  # where the client alone starts
        active = app.screen.active_bindings
        assert active["S"].enabled and ("s" not in active or not active["s"].enabled)
        await lect.pilot.press("s")
        await lect.pilot.pause()
        assert not app.session.sockets


async def test_a_stopped_lesson_names_its_line_one_way_in_the_panel(port):
    """A listener of another program holds the port, so the echo lesson stops at its bind(): the stop names the
    file's line, and the panel's counter (which counts the lines that run, not comments) says that line too."""
    import re
    import socket

    from sockviz.core.scenario import lessons

    with socket.create_server(("127.0.0.1", port)):
        app = SockvizApp(port=port, scenario=("lesson: echo", lessons.text("echo")))
        async with lecture(app) as lect:
            said = await lect.play_to_the_end()
            assert "stopped" in said, said
            in_file = re.search(r"stops at line (\d+)", said)
            counted = re.search(r"line (\d+) of \d+", said)
            assert in_file and counted and in_file[1] != counted[1], said
            assert f"line {counted[1]} of" in said and f"(line {in_file[1]} in the file)" in said, said
