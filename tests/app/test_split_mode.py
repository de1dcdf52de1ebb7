"""Split mode: one side in sockviz, the other a program that is not sockviz (netcat, socat)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from conftest import lecture
from helpers import listening, wait_for

from sockviz.app import SockvizApp
from sockviz.core import Side, Target

needs = pytest.mark.skipif(not (shutil.which("nc") and shutil.which("socat")), reason="needs netcat-openbsd and socat")


@needs
async def test_sockviz_server_with_netcat_as_the_client(port):
    app = SockvizApp(port=port, only=Side.SERVER)
    async with lecture(app) as lect:
        assert not app.query_one("#client-pane").display
        await lect.pilot.press("S")  # a client key does nothing in server mode
        await lect.pilot.pause()
        assert not app.session.sockets
        await lect.press_all("server-socket", "server-bind", "server-listen")
        await lect.press("server-accept", wait_for="block")
        nc = subprocess.Popen(["nc", "-N", "127.0.0.1", str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            nc.stdin.write(b"hello from nc\n")
            nc.stdin.flush()
            await lect.until(lambda: app.session.current(Target.CONNECTION).role.value == "connection", "accept")
            got = await lect.press("server-recv")
            assert got.data == b"hello from nc\n"
            await lect.press("server-send")  # echo
            await lect.press("server-close-conn")
            out, _ = nc.communicate(timeout=10)
        finally:
            nc.kill()
        assert out == b"hello from nc\n"
        assert "woken by a client outside this session" in lect.log_text()  # nc, not one of the session's sockets


@needs
async def test_sockviz_client_with_socat_as_an_echo_server(port):
    socat = subprocess.Popen(["socat", f"TCP4-LISTEN:{port},bind=127.0.0.1,reuseaddr", "EXEC:cat"])
    try:
        wait_for(lambda: listening(port), what="socat to listen")
        app = SockvizApp(port=port, only=Side.CLIENT)
        async with lecture(app) as lect:
            assert not app.query_one("#server-pane").display
            await lect.press_all("client-socket", "client-connect", "client-send")
            got = await lect.press("client-recv")
            if got.data != b"Hello, Wireshark. You are an amazing tool!":  # cat may answer in two pieces
                await lect.press("client-recv")
            assert "Hello, Wireshark" in lect.log_text().split("c.recv(1024)")[1]
            await lect.press("client-close")
    finally:
        socat.kill()
        socat.wait()
