"""UDP in the app: the switch, the same buttons making UDP's calls, the table's UDP rows, the lessons, split mode."""

from __future__ import annotations

import select
import shutil
import subprocess

import pytest
from conftest import lecture
from helpers import port_outside_the_ephemeral_range, wait_for

from sockviz.app import SockvizApp
from sockviz.core import Side, StepFailed
from sockviz.core.model.transport import Transport
from sockviz.core.scenario import lessons

HELLO = b"Hello, Wireshark. You are an amazing tool!"


def _udp_bound(port: int) -> bool:
    with open("/proc/net/udp") as table:
        return any(line.split()[1].endswith(f":{port:04X}") for line in list(table)[1:])


def _label(app: SockvizApp, step_id: str) -> str:
    return str(app.query_one(f"#{step_id}").label)


async def test_a_udp_echo_with_the_same_buttons(port):
    app = SockvizApp(port=port, udp=True)
    async with lecture(app) as lect:
        assert app.query_one("#transport").render().plain == " TCP   UDP "
        assert "recvfrom()" in _label(app, "server-recv") and "sendto()" in _label(app, "client-send")
        await lect.press_all("server-socket", "server-bind")
        listened = await lect.press("server-listen")
        assert isinstance(listened, StepFailed) and listened.error.errno_name == "EOPNOTSUPP"
        await lect.press("server-recv", wait_for="block")
        await lect.press_all("client-socket", "client-send")
        await lect.until(lambda: len(lect.events.finished("server-recv")) == 1, "recvfrom() to return")
        assert lect.events.finished("server-recv")[0].data == HELLO
        await lect.press("server-send")  # the message field is empty: the reply echoes, to the last sender
        back = await lect.press("client-recv")
        assert back.data == HELLO
        assert lect.cell("s", "state") == "UNCONN" and lect.cell("s", "type") == "SOCK_DGRAM"
        log = lect.log_text()
        assert f"c.sendto({HELLO!r}, ('127.0.0.1', {port}))" in log and "s.sendto(data, addr)" in log
        assert "whether anyone received it, UDP never tells" in log
        assert "UDP has no connections, so there is nothing to listen for" in log


async def test_the_transport_key_switches_what_socket_makes_and_what_the_buttons_say(port):
    app = SockvizApp(port=port)
    async with lecture(app) as lect:
        assert "recv()" in _label(app, "server-recv")
        await lect.pilot.press("d")
        await lect.until(lambda: "recvfrom()" in _label(app, "server-recv"), "the buttons to name UDP's calls")
        assert app.session_screen.transport is Transport.UDP
        await lect.until(lambda: "here a UDP one" in lect.log_text(), "the welcome for UDP, before any socket")
        await lect.press("client-socket")
        assert lect.cell("c", "type") == "SOCK_DGRAM"
        await lect.click_line("transport")  # a click switches back
        await lect.until(lambda: app.session_screen.transport is Transport.TCP, "TCP again")
        assert "recv()" in _label(app, "server-recv")
        await lect.pilot.pause()
        assert lect.log_text().count("Welcome.") == 2  # with a socket made, the welcome is not said again


@pytest.mark.parametrize("name", ["udp-echo", "boundaries", "udp-refused", "udp-loss"])
async def test_the_udp_lessons_play_in_the_app(name):
    app = SockvizApp(port=port_outside_the_ephemeral_range(), scenario=(f"lesson: {name}", lessons.text(name)))
    async with lecture(app) as lect:
        await lect.until(lambda: "line 1 of" in str(app.query_one("#narration").render()), "the lesson to load")
        ended = await lect.play_to_the_end()
        assert "ended: every expect held" in ended, lect.log_text()
        assert app.session_screen.transport is Transport.UDP  # the lesson's transport line moved the switch
        if name == "udp-loss":
            await lect.until(lambda: "dropped" in lect.cell("s", "queues"), "the table to show the drops")


needs = pytest.mark.skipif(not (shutil.which("nc") and shutil.which("socat")), reason="needs netcat-openbsd and socat")


@needs
async def test_a_udp_server_in_sockviz_with_netcat_as_the_client(port):
    app = SockvizApp(port=port, only=Side.SERVER, udp=True)
    async with lecture(app) as lect:
        await lect.press_all("server-socket", "server-bind")
        await lect.press("server-recv", wait_for="block")
        nc = subprocess.Popen(["nc", "-u", "127.0.0.1", str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            assert nc.stdin is not None and nc.stdout is not None
            nc.stdin.write(b"hello from nc\n")
            nc.stdin.flush()
            await lect.until(lambda: lect.events.finished("server-recv"), "recvfrom() to return")
            assert lect.events.finished("server-recv")[0].data == b"hello from nc\n"
            await lect.press("server-send")  # the reply goes to nc's port, the last sender
            await lect.until(lambda: select.select([nc.stdout], [], [], 0)[0], "nc to print the reply")
            assert nc.stdout.readline() == b"hello from nc\n"
        finally:
            nc.kill()
            nc.wait()
        assert "(woken by the peer, a program outside this session)" in lect.log_text()


@needs
async def test_a_udp_client_in_sockviz_with_socat_as_an_echo_server(port):
    socat = subprocess.Popen(["socat", f"UDP4-RECVFROM:{port},bind=127.0.0.1,fork", "PIPE"])
    try:
        wait_for(lambda: _udp_bound(port), what="socat to bind")
        app = SockvizApp(port=port, only=Side.CLIENT, udp=True)
        async with lecture(app) as lect:
            await lect.press_all("client-socket", "client-send")
            got = await lect.press("client-recv")
            assert got.data == HELLO
            assert f"one datagram of 42 bytes from ('127.0.0.1', {port})" in lect.log_text()
            await lect.press("client-close")
    finally:
        socat.kill()
        socat.wait()


def test_no_two_actions_share_a_key():
    """Two engineers once bound u at once (a serve step and the transport switch): a key does one thing."""
    from textual.binding import Binding

    from sockviz.keys import ALL_BINDINGS

    actions: dict[str, set[str]] = {}
    for binding in Binding.make_bindings(ALL_BINDINGS):
        actions.setdefault(binding.key, set()).add(binding.action)
    assert {key: found for key, found in actions.items() if len(found) > 1} == {}
