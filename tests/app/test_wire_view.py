"""The wire view in the app: segments under the calls that caused them, bursts summed up, pcap export."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

import pytest
from conftest import CONNECTED, lecture

from sockviz.app import SockvizApp

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="a raw socket on lo needs root")


def wire_text(app) -> str:
    return "\n".join(line.text for line in app.query_one("#wire").lines)


@root_only
async def test_the_wire_shows_the_handshake_under_connect(port, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        assert not app.screen.query("#wire")  # made when first opened, not at start
        await lect.pilot.press("w")
        assert app.query_one("#wire").display
        await lect.press_all(*CONNECTED)
        await lect.until(lambda: "ACK" in wire_text(app).split("SYN-ACK")[-1], "the handshake", 5)
        text = wire_text(app)
        assert text.index("client: c.connect(") < text.index("SYN ") < text.index("SYN-ACK")
        assert "c → s" in text and "s → c" in text  # before accept(), the listener answers
        await lect.pilot.press("p")
        await lect.until(lambda: list(tmp_path.glob("sockviz-*.pcapng")), "the pcapng file")
        saved = list(tmp_path.glob("sockviz-*.pcapng"))
        assert saved[0].read_bytes()[:4] == b"\x0a\x0d\x0d\x0a"  # a pcapng section header
        await lect.pilot.press("P")
        await lect.until(lambda: list(tmp_path.glob("sockviz-*.pcap")), "the plain pcap file")


@root_only
async def test_a_bulk_send_is_summed_up(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.pilot.press("w")
        await lect.press_all(*CONNECTED, "server-accept")
        await app.query_one("#client-pane").open_settings()
        app.query_one("#client-size").value = "16M"
        await app.query_one("#server-pane").open_settings()
        app.query_one("#server-expect").value = "16M"
        await lect.pilot.pause()
        await lect.press("client-send", wait_for="block")
        await lect.press("server-recv-all")
        try:
            await lect.until(lambda: sent_to_server(app) == 16 * 2**20, "summaries that add up to 16 MiB", 15)
        except AssertionError:
            raise AssertionError(wire_text(app)) from None
        assert len(app.query_one("#wire").lines) < 60  # however the frames were batched: eight lines, then sums


def sent_to_server(app) -> int:
    """The payload bytes that the wire view's lines say went from c to conn: single segments and summaries."""
    text = " ".join(wire_text(app).split())  # the pane wraps long lines
    single = re.findall(r"c → conn (?:PSH-)?ACK seq=\d+ ack=\d+ len=(\d+)( \((?:([\d,]+) bytes )?sent again\))?", text)
    summed = re.findall(r"c → conn: [\d,]+ segments, ([\d,]+) bytes", text)
    fresh = [int(n) - int(part.replace(",", "") or n) if again else int(n) for n, again, part in single]
    return sum(fresh) + sum(int(n.replace(",", "")) for n in summed)


@root_only
async def test_a_view_opened_late_numbers_as_wireshark_and_names_the_real_length(port):
    """Opened after the handshake, the first segment is seq=1 ack=1; a preview counts the bytes it leaves out."""
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        await lect.press_all(*CONNECTED, "server-accept")
        await app.query_one("#client-pane").open_settings()
        app.query_one("#client-size").value = "5000"
        await lect.pilot.pause()
        await lect.pilot.press("w")
        await lect.press("client-send")
        await lect.until(lambda: "len=5000" in wire_text(app), "the 5000-byte segment")
        text = " ".join(wire_text(app).split())  # the pane wraps long lines
        assert re.search(r"c → conn PSH-ACK seq=1 ack=1 len=5000 b['\"].{1,140}['\"]… \(4,968 more bytes\)", text), text
        wire = app.query_one("#wire")  # wrapped at its own width, not cropped at RichLog's 78 columns
        assert max(line.cell_length for line in wire.lines) <= wire.scrollable_content_region.width < 78


async def test_without_the_privilege_the_pane_says_why(port):
    """Run in a subprocess without CAP_NET_RAW (or as a normal user): the pane explains, nothing fails."""
    if os.geteuid() == 0:
        script = textwrap.dedent(
            f"""
            import asyncio
            from sockviz.app import SockvizApp
            async def main():
                app = SockvizApp(port={port})
                async with app.run_test() as pilot:
                    await pilot.press("w")
                    await pilot.pause()
                    print("\\n".join(line.text for line in app.query_one("#wire").lines))
            asyncio.run(main())
            """
        )
        drop = ["setpriv", "--bounding-set", "-net_raw", "--inh-caps", "-net_raw"]
        out = subprocess.run([*drop, sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
        assert "needs root or CAP_NET_RAW" in out.stdout, out.stderr[-2000:]
    else:
        app = SockvizApp(port=port)
        async with lecture(app) as lect:
            await lect.pilot.press("w")
            await lect.pilot.pause()
            assert "needs root or CAP_NET_RAW" in wire_text(app)


async def test_deliveries_held_during_a_transfer_are_drawn_in_order_once_it_ends():
    """While a transfer's bytes move the pane keeps what the capture delivers; released, it draws all of it, and
    one that comes meanwhile, in the order they came."""
    from textual.app import App

    from sockviz.core import Session
    from sockviz.core.kernel.capture import CallLine, Delivery
    from sockviz.widgets.wire_pane import WirePane

    class Pane(App[None]):
        def compose(self):
            yield WirePane(id="wire")

    async with Pane().run_test(size=(80, 20)) as pilot:
        pane = pilot.app.query_one(WirePane)
        pane.display = True
        source = object()
        pane.wire, pane._session = source, Session()  # as start() leaves them, with no capture
        await pilot.pause()
        pane.hold(10.0)
        for n in (1, 2):
            pane.show_delivery(Delivery([CallLine(n, "client", f"call {n}")]), source)  # type: ignore[arg-type]
        await pilot.pause()
        assert not pane.lines
        pane.hold(None)
        pane.show_delivery(Delivery([CallLine(3, "client", "call 3")]), source)  # type: ignore[arg-type]
        await pilot.pause()
        drawn = [strip.text for strip in pane.lines]
        assert [line.split(": ")[1].strip() for line in drawn] == ["call 1", "call 2", "call 3"]
        pane._session.close()
        pane.wire = None  # no capture to stop as the pane goes
