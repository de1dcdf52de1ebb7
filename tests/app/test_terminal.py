"""sockviz as a real process in a real pseudo-terminal: keys in, quit with calls blocked."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator

from helpers import free_port, listening, wait_for


@contextlib.contextmanager
def in_a_terminal(port: int) -> Iterator[tuple[subprocess.Popen, int, bytearray]]:
    """`sockviz --port PORT` in a 140x40 pseudo-terminal, once it has drawn its screen: the process, the
    terminal's end to type into, and everything the app wrote so far. Killed at the end if still running."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "TEXTUAL_ANIMATIONS": "none"}
    app = subprocess.Popen([sys.executable, "-m", "sockviz", "--port", str(port)], stdin=follower, stdout=follower,
                           stderr=follower, env=env, close_fds=True, start_new_session=True)  # fmt: skip
    os.close(follower)
    screen = bytearray()

    def drain() -> None:
        with contextlib.suppress(OSError):
            while chunk := os.read(leader, 65536):
                screen.extend(chunk)

    threading.Thread(target=drain, daemon=True).start()
    try:
        wait_for(lambda: b"Welcome" in screen, timeout=20, what="the app to draw its screen")  # the title comes earlier
        yield app, leader, screen
    finally:
        if app.poll() is None:
            os.killpg(app.pid, 9)
            app.wait()
        os.close(leader)


def type_keys(leader: int, keys: bytes) -> None:
    """Type step keys as a person does: each step acts on what the one before made, so each gets its time."""
    for key in keys:
        os.write(leader, bytes([key]))
        time.sleep(0.3)


def test_quit_with_accept_and_recv_blocked_exits_at_once():
    port = free_port()
    with in_a_terminal(port) as (app, leader, screen):
        type_keys(leader, b"sbla")
        wait_for(lambda: listening(port), what="the listener")
        type_keys(leader, b"SCR")  # a client connects (accept returns), then the client's recv blocks
        os.write(leader, b"a")  # a second accept blocks
        time.sleep(0.5)
        os.write(leader, b"\x11")  # ctrl+q
        app.wait(timeout=10)
        assert app.returncode == 0, bytes(screen[-2000:])
        assert not listening(port)


def test_sigterm_ends_sockviz_with_calls_blocked_and_says_so_in_its_status():
    """SIGTERM quits as ctrl+q does (the listener is closed), and the status says the process was ended."""
    port = free_port()
    with in_a_terminal(port) as (app, leader, screen):
        type_keys(leader, b"sbla")  # socket, bind, listen, and accept() blocks
        wait_for(lambda: listening(port), what="the listener")
        app.terminate()
        app.wait(timeout=10)
        assert app.returncode == 128 + signal.SIGTERM, bytes(screen[-2000:])
        assert not listening(port)
