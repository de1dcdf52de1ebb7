"""The wire view in the app: segments under the calls that caused them, bursts summed up, pcap export."""

from __future__ import annotations

import os
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
        assert not app.query_one("#wire").display
        await lect.pilot.press("w")
        assert app.query_one("#wire").display
        await lect.press_all(*CONNECTED)
        await lect.until(lambda: "ACK" in wire_text(app).split("SYN-ACK")[-1], "the handshake", 5)
        text = wire_text(app)
        assert text.index("client: c.connect(") < text.index("SYN ") < text.index("SYN-ACK")
        assert "c → s" in text and "s → c" in text  # before accept(), the listener answers
        await lect.pilot.press("p")
        await lect.pilot.pause()
        saved = list(tmp_path.glob("sockviz-*.pcap"))
        assert len(saved) == 1 and saved[0].stat().st_size > 24


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
        await lect.until(lambda: "segments, " in wire_text(app), "a summary line")
        assert len(app.query_one("#wire").lines) < 200


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
