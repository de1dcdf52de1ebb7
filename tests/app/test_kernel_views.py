"""The kernel's side of the lesson in the app: hints, queues, lingering rows, bursts, bulk sends, cancel, options."""

from __future__ import annotations

import re

from conftest import CONNECTED, LISTENING, lecture
from textual.widgets import Button, OptionList, ProgressBar, Select

from sockviz.app import SockvizApp
from sockviz.core import Role, StepBlocked, step


def label(app, step_id: str) -> str:
    return app.query_one(f"#{step_id}", Button).label.plain


async def set_field(lect, field_id: str, value: str) -> None:
    """Type into a field of a pane's settings, opening them as a user would."""
    side = field_id.split("-")[0]
    await lect.app.query_one(f"#{side}-pane").open_settings()
    lect.app.query_one(f"#{field_id}").value = value
    await lect.pilot.pause()


async def test_hints_follow_the_kernel(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.press_all(*LISTENING)
        await lect.until(lambda: label(app, "server-accept").endswith("waits"), "accept's hint")
        await lect.press("client-socket")
        await lect.press("client-connect")
        await lect.until(lambda: label(app, "server-accept").endswith("1 ready"), "accept's hint after connect")
        assert lect.cell("s", "queues") == "1/128 queued"
        await lect.press("server-accept")
        await lect.until(lambda: label(app, "server-recv").endswith("waits"), "recv's hint")
        await lect.press("client-send")
        await lect.until(lambda: label(app, "server-recv").endswith("42B in"), "recv's hint with bytes waiting")
        assert lect.cell("conn", "queues") == "in 42 · out 0"
        got = await lect.press("server-recv")
        assert not got.blocked  # returned at once: the bytes were waiting, and the kernel said so


async def test_time_wait_row_after_close(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.press_all(*CONNECTED)
        await lect.press("server-accept")
        await lect.press("server-close-conn")  # the server closes first: its side lingers
        await lect.press("client-close")
        await lect.until(lambda: lect.cell("conn", "state") == "TIME_WAIT", "TIME_WAIT")
        assert re.fullmatch(r"\d+ s left", lect.cell("conn", "now"))
        assert lect.cell("conn", "laddr") == f"127.0.0.1:{port}"  # a closed row keeps its addresses
        assert lect.cell("conn", "raddr").startswith("127.0.0.1:")
        assert lect.cell("conn", "open") == "closed" and lect.cell("conn", "fd") == "-1"
        await lect.until(lambda: lect.cell("c", "state") == "", "the client's row to show nothing held")


async def test_burst_with_a_small_backlog(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.press("server-socket")
        await lect.press("server-bind")
        await set_field(lect, "server-backlog", "2")
        listened = await lect.press("server-listen")
        assert listened.call.code == "s.listen(2)"
        await set_field(lect, "client-burst-count", "12")
        burst = await lect.press("client-burst")
        assert "12 clients (c to c12) are connecting" in burst.result
        clients = [t for t in app.session.sockets if t.role is Role.CLIENT]
        assert len(clients) == 12
        await lect.until(lambda: sum(lect.cell(t.name, "state") == "SYN_SENT" for t in clients) == 9, "SYN_SENT rows")
        assert lect.cell("s", "queues") == "3/2 queued"
        app.query_one("#client-sock", Select).expanded = True  # the list is made when it opens
        await lect.pilot.pause()
        offered = app.query_one("#client-sock").query_one(OptionList).options
        assert "c12" in [str(option.prompt) for option in offered]


async def test_a_burst_is_one_line_in_the_log(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.press_all(*LISTENING)
        await set_field(lect, "client-burst-count", "50")
        await lect.press("client-burst")
        await lect.until(lambda: "burst done: 50 of 50 connected" in lect.log_text(), "the burst summary")
        assert lect.log_text().count("connect(") <= 2


async def test_bulk_send_shows_progress_and_recv_all_checks_it(port):
    """Both bars move as the bytes go, stop where the kernel's buffers are full, and end at the total."""
    total = 64 * 1024 * 1024
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.press_all(*CONNECTED)
        await lect.press("server-accept")
        assert not app.query("#client-progress")  # not made at start-up
        await set_field(lect, "client-size", "64M")
        await lect.until(lambda: app.query("#client-progress"), "the progress bar, made once a size is set")
        bar = app.query_one("#client-progress", ProgressBar)
        await lect.until(lambda: (bar.progress, bar.total) == (0, total), "0 of the size before the send")
        await lect.press("client-send", wait_for="block")
        shown: list[float] = []
        app.watch(bar, "progress", lambda value: shown.append(value))
        # Nobody reads yet: the send stops once the buffers are full, and the bar shows how far it got.
        await lect.until(lambda: bar.display and 0 < bar.progress < bar.total == total, "progress", 10)
        await set_field(lect, "server-expect", "64M")
        got = await lect.press("server-recv-all")
        assert "67108864 bytes in all (all expected bytes came)" in got.result
        assert "c has sent 67108864 in all, conn received 67108864: equal" in got.result
        assert "every byte matches the generated pattern" in got.result
        received = app.query_one("#server-progress", ProgressBar)
        await lect.until(lambda: bar.progress == received.progress == total, "both bars to reach the total")
        assert bar.display and received.display and bar.total == received.total == total  # they stay, full
        assert shown == sorted(shown) and shown[-1] == total and any(0 < v < total for v in shown)  # moved forwards
        assert "100%" in str(bar.query_one("#percentage").render())


async def test_cancel_key_wakes_a_blocked_recv(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.press_all(*CONNECTED)
        await lect.press("client-recv", wait_for="block")
        cancelled = await lect.press("client-cancel")
        assert cancelled.call.code == "c.shutdown(socket.SHUT_RD)"
        await lect.until(lambda: "because this socket was shut down here" in lect.log_text(), "recv to wake")
        refused = await lect.press("client-cancel")
        assert "nothing to cancel" in refused.reason


async def test_options_from_the_pane(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.press("server-socket")
        done = await lect.press("server-option")  # SO_REUSEADDR 1 is the default choice
        assert done.call.code == "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)"
        await set_field(lect, "server-option-value", "1")
        app.query_one("#server-option-name").value = "settimeout"
        await lect.pilot.pause()
        assert app.query_one("#server-option-value").value == "2"
        await set_field(lect, "server-option-value", "0")
        await lect.press("server-option")
        await lect.press("server-bind")
        await lect.press("server-listen")
        await lect.until(lambda: label(app, "server-accept").endswith("raises"), "the non-blocking hint")
        failed = await lect.press("server-accept")
        assert failed.error.exception == "BlockingIOError"
        await set_field(lect, "server-option-value", "forever")
        await lect.pilot.pause()
        assert "seconds" in lect.note("server-option-value")


async def test_hint_mismatch_is_said(port):
    """A hint read before another thread changes things can be wrong; the log says so instead of hiding it."""
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.press_all(*CONNECTED)
        await lect.press("server-accept")
        await lect.press("server-recv", wait_for="block")
        assert "(as the kernel's state before the call said it would)" in lect.log_text()
        assert [e for e in lect.events.of(StepBlocked) if e.call.prediction.blocks]


async def test_settings_open_with_a_click_and_keep_their_defaults_until_then(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.press("client-socket")
        assert not app.query("#client-size")  # not made until opened: start-up stays quicker
        await lect.pilot.click("#client-more")  # the title alone, until the settings first open
        await lect.until(lambda: app.query("#client-size"), "the settings to open")
        assert app.query_one("#client-burst-count").value == "10"


async def test_hovering_a_step_explains_it_and_its_hint(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.press_all(*LISTENING)
        accept = app.query_one("#server-accept", Button)
        assert await lect.pilot.hover(accept)
        assert str(accept.tooltip).startswith(step("server-accept").explains)
        await lect.until(lambda: "Now: " in str(accept.tooltip), "the hint's reason in the tooltip")
        assert app.query_one("#server-socket", Button).tooltip == step("server-socket").explains
