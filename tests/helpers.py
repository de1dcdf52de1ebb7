"""What the core tests and the app tests share: ports, waiting, and recording events."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from sockviz.core import Event, Session, StepArgs, StepFinished, step


def open_fds() -> set[str]:
    """The process's open file descriptors, by number: a test compares them before and after."""
    return set(os.listdir("/proc/self/fd"))


def sockviz_threads() -> list[str]:
    """The names of the threads that sockviz started (steps, bursts, serve modes), sorted."""
    return sorted(t.name for t in threading.enumerate() if t.name.startswith("sockviz"))


def free_port(host: str = "127.0.0.1") -> int:
    """An ephemeral port that nothing listens on right now."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def port_outside_the_ephemeral_range(host: str = "127.0.0.1") -> int:
    """A free port (TCP and UDP) that the kernel never picks for an unbound socket's first send or connect.

    A lesson that sends to a port where nothing listens would otherwise, once in tens of thousands of
    runs, get that very port for its own next socket, and hear its own datagram instead of waiting."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for candidate in random.sample(range(low // 2, low), 200):
        try:
            with socket.socket(family, socket.SOCK_STREAM) as tcp, socket.socket(family, socket.SOCK_DGRAM) as udp:
                tcp.bind((host, candidate))
                udp.bind((host, candidate))
        except OSError:
            continue
        return candidate
    raise RuntimeError(f"no free port below {low} on {host}")


def _in_state(port: int, state: str) -> bool:
    """Whether the kernel has an IPv4 connection in `state` (its hex code) on this local port, from /proc/net/tcp."""
    with open("/proc/net/tcp") as table:
        rows = [line.split() for line in table.readlines()[1:]]
    return any(row[1].endswith(f":{port:04X}") and row[3] == state for row in rows)


def listening(port: int) -> bool:
    """Whether the kernel has an IPv4 listener on this port (state 0A is LISTEN)."""
    return _in_state(port, "0A")


def time_wait_on(port: int) -> bool:
    """Whether the kernel holds an IPv4 connection in TIME_WAIT (state 06) on this local port."""
    return _in_state(port, "06")


class ManualClock:
    """A session clock that moves only when the test says so: pictures of time come out the same."""

    START = 1000.0

    def __init__(self) -> None:
        self.now = self.START

    def __call__(self) -> float:
        return self.now

    def set(self, seconds: float) -> None:
        """Move to `seconds` after the session began (the session counts from the clock's first reading)."""
        self.now = self.START + seconds


PATIENCE = float(os.environ.get("SOCKVIZ_TEST_PATIENCE", "4"))
"""How many times its `timeout` a wait for a state holds on before it gives up.

A wait returns as soon as the state is there, so patience costs nothing when the test passes. The
timeouts in the tests are what an idle machine needs; a loaded one (a CI runner, two suites at once,
tests/under_load.py) has been seen to take six times as long, and a wait that gives up then is a timed
assertion in disguise. pytest's own timeout (pyproject) still ends a test that hangs.
"""


def _deadline(timeout: float) -> float:
    return time.monotonic() + timeout * PATIENCE


def wait_for(condition: Callable[[], object], timeout: float = 5.0, what: str = "condition") -> None:
    deadline = _deadline(timeout)
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


async def until(pilot, condition: Callable[[], object], what: str, timeout: float = 5.0) -> None:
    """`wait_for` for a running app: the pilot pauses between looks, so the app goes on meanwhile."""
    deadline = _deadline(timeout)
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.01)


class Recorder:
    """Every event of a session, in order, for assertions."""

    def __init__(self, session: Session) -> None:
        self.events: list[Event] = []
        self._lock = threading.Lock()
        session.subscribe(self._add)

    def _add(self, event: Event) -> None:
        with self._lock:
            self.events.append(event)

    def of(self, kind: type[Event]) -> list:
        with self._lock:
            return [e for e in self.events if isinstance(e, kind)]

    def of_each(self, *kinds: type[Event]) -> tuple[list, ...]:
        """The events of each kind, read at one moment: two `of` calls while calls run in threads can see a call
        finish that the first read did not yet see begin."""
        with self._lock:
            return tuple([e for e in self.events if isinstance(e, kind)] for kind in kinds)

    def finished(self, step_id: str) -> list[StepFinished]:
        return [e for e in self.of(StepFinished) if e.call.step.id == step_id]

    def last(self, kind: type[Event]):
        found = self.of(kind)
        assert found, f"no {kind.__name__} event"
        return found[-1]


class Background:
    """Runs steps in threads, as a front end does, and makes sure every thread ends."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.threads: list[threading.Thread] = []

    def start(self, step_id: str, args: StepArgs | None = None) -> threading.Thread:
        thread = threading.Thread(target=self.session.perform, args=(step(step_id), args), daemon=True)
        thread.start()
        self.threads.append(thread)
        return thread

    def join(self, timeout: float = 2.0) -> list[threading.Thread]:
        """Threads still alive after `timeout` (times PATIENCE: a thread that has just ended its call may wait
        that long for a core on a loaded machine before it returns)."""
        deadline = _deadline(timeout)
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return [t for t in self.threads if t.is_alive()]


def where(threads: list[threading.Thread]) -> str:
    """Where each of these threads is now, as a traceback: what an assertion that a thread outlived its
    session prints, so a failure seen once under load says which call the thread was still in."""
    frames = sys._current_frames()
    parts = []
    for thread in threads:
        frame = frames.get(thread.ident or -1)
        stack = "".join(traceback.format_stack(frame)) if frame is not None else "  (it has ended meanwhile)\n"
        parts.append(f"{thread.name} is still at:\n{stack}")
    return "\n".join(parts)


def alive(pid: int) -> bool:
    """Whether the process runs (a zombie nobody has reaped yet has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def killed_parent_leaves_no_child(script: str, what: str) -> None:
    """Run `script` in a Python of its own, which prints the pid of a process it started and waits; kill it
    with SIGKILL (no handler of its own runs) and wait for that process to be gone too (PR_SET_PDEATHSIG)."""
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert alive(child)
        parent.kill()
        parent.wait()
        wait_for(lambda: not alive(child), what=what)
    finally:
        parent.kill()
        parent.wait()


def time_wait_without_reuse_address(port: int) -> None:
    """Leave the server's side of a connection in TIME_WAIT on `port`, from sockets without SO_REUSEADDR (the
    echo done by hand): a later bind() there fails with EADDRINUSE even with SO_REUSEADDR, for 60 s."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", port))
        listener.listen()
        with socket.create_connection(("127.0.0.1", port)) as client:
            conn, _ = listener.accept()
            conn.close()  # the server's side closes first: its TIME_WAIT is on `port`
            client.recv(1)  # the FIN
    wait_for(lambda: time_wait_on(port), what=f"TIME_WAIT on {port}")
