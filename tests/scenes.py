"""Lessons played to a fixed picture: for the snapshot tests and for screenshots/make.py.

A picture of real sockets varies with fds, ephemeral ports and time. Each
scene pins them without faking anything: the session reads a clock the scene
sets, the fds below a floor are taken so the sockets get the same numbers,
the client's ephemeral range is narrowed to one port, and the server listens
on a fixed port. Those ports are the same in every test suite on the machine,
so a scene holds a file lock for as long as it lives: two suites run at once
(tests/under_load.py) take turns with the pinned ports instead of colliding.
"""

from __future__ import annotations

import fcntl
import os
import socket
import struct
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from helpers import ManualClock, until
from textual.pilot import Pilot

from sockviz.app import SockvizApp
from sockviz.core import Event, Session, StepBlocked, StepFinished, StepRefused, Target, step
from sockviz.widgets.event_log import EventLog

SERVER_PORT = 47001
CLIENT_PORT = 47111
FD_FLOOR = 100
IP_LOCAL_PORT_RANGE = 51  # Linux 6.3+: the ephemeral range of one socket
SIZE = (120, 36)
PORTS_LOCK = Path(tempfile.gettempdir()) / f"sockviz-scene-ports-{SERVER_PORT}-{CLIENT_PORT}.lock"
"""Held by the scene that uses the pinned ports. Not per network namespace: /tmp is shared across
namespaces, and a suite that waits here for one in another namespace only waits a few seconds."""
SIZES = {"timeline": (100, 30), "projector": (130, 40), "udp": (140, 40)}
"""Scenes drawn at another size: the timeline takes the whole bottom row below 110 columns,
which keeps the log (whose threads may tell a wake-up in either order) out of the picture."""


def pin_fds(floor: int = FD_FLOOR) -> list[int]:
    """Take every free fd below `floor`, so the next sockets get floor, floor + 1, ..."""
    taken = []
    while True:
        fd = os.open(os.devnull, os.O_RDONLY)
        if fd >= floor:
            os.close(fd)
            return taken
        taken.append(fd)


def release_fds(taken: list[int]) -> None:
    for fd in taken:
        os.close(fd)


class Scene:
    """An app on fixed ports with a manual clock, and a way to step it and wait.

    Use it as a context manager: it holds the pinned ports (PORTS_LOCK) until the scene is over and
    gives back the fds it pinned.
    """

    def __init__(self) -> None:
        self._lock: int | None = None
        self.clock = ManualClock()
        # A call counts as blocked once it has run this long. The app's 20 ms can be passed by an instant
        # connect() when the machine is busy, which would add a "blocks" line to the picture.
        self.session = Session(clock=self.clock, block_after=0.5)
        self.app = SockvizApp(port=SERVER_PORT, session=self.session)
        self.events: list[Event] = []
        self.session.subscribe(self.events.append)
        self.fds: list[int] = []

    def __enter__(self) -> Scene:
        self._lock = os.open(PORTS_LOCK, os.O_RDWR | os.O_CREAT, 0o666)
        fcntl.flock(self._lock, fcntl.LOCK_EX)  # another suite's scene may hold the ports: wait for it
        return self

    def __exit__(self, *exc_info: object) -> None:
        release_fds(self.fds)
        self.fds = []
        if self._lock is not None:
            os.close(self._lock)  # closing the file lets the lock go
            self._lock = None

    async def run(self, pilot: Pilot, step_id: str, at: float, wait_for: type[Event] = StepFinished) -> None:
        """At scene time `at` (seconds), press the step's key and wait until the UI has its outcome."""
        self.clock.set(at)
        before = len(self.events)
        await pilot.press(step(step_id).key)

        def seen() -> bool:
            return any(
                (isinstance(e, wait_for) and e.call.step.id == step_id) or isinstance(e, StepRefused)
                for e in self.events[before:]
            )

        await until(pilot, seen, f"{step_id} to reach {wait_for.__name__}")
        if step_id == "client-socket":
            self._pin_client_port()
        await self.settle(pilot)

    async def settle(self, pilot: Pilot, seconds: float = 0.3) -> None:
        """Let the kernel finish what the last call started (an ACK, say), then redraw from it at once:
        on a loaded machine the table's own timer may come late."""
        await pilot.pause(seconds)
        self.app.session_screen.refresh_sockets()
        self.app.query_one("#log", EventLog).flush()  # it writes on a timer too, when lines come fast
        for timeline in self.app.screen.query("#timeline"):  # made when first opened
            timeline.refresh()  # it redraws on its own timer too, when it is open
        await pilot.pause()

    async def run_all(self, pilot: Pilot, *timed: tuple[str, float]) -> None:
        """Run steps that return at once, each at its scene time."""
        for step_id, at in timed:
            await self.run(pilot, step_id, at)

    def finished(self, step_id: str) -> bool:
        return any(isinstance(e, StepFinished) and e.call.step.id == step_id for e in self.events)

    def _pin_client_port(self) -> None:
        client = self.session.current(Target.CLIENT)
        assert client is not None
        client.sock.setsockopt(
            socket.IPPROTO_IP, IP_LOCAL_PORT_RANGE, struct.pack("I", CLIENT_PORT << 16 | CLIENT_PORT)
        )


async def fresh(scene: Scene, pilot: Pilot) -> None:
    """The app as it opens."""


async def mid_lesson(scene: Scene, pilot: Pilot) -> None:
    """Echo done; the client has not read it yet (42 bytes wait in its queue); the server waits in recv()."""
    scene.fds = pin_fds()
    await scene.run_all(pilot, ("server-socket", 1.0), ("server-bind", 2.5), ("server-listen", 4.0))
    # connect() before accept(): the kernel completes the handshake and queues it. (A blocked accept()
    # woken by connect() would make the two threads' lines race for their order in the log.)
    await scene.run_all(pilot, ("client-socket", 5.0), ("client-connect", 6.5), ("server-accept", 9.81),
                        ("client-send", 12.0), ("server-recv", 14.0), ("server-send", 15.5))  # fmt: skip
    await scene.run(pilot, "server-recv", 17.0, StepBlocked)
    scene.clock.set(20.25)
    await scene.settle(pilot)


async def projector(scene: Scene, pilot: Pilot) -> None:
    """The echo lesson as mid_lesson leaves it, in the projector layout."""
    await mid_lesson(scene, pilot)
    await pilot.press("v")
    await scene.settle(pilot)


async def errors(scene: Scene, pilot: Pilot) -> None:
    """Wrong orders: recv before connect, connect with nobody listening, and a port refused at its field."""
    scene.fds = pin_fds()
    await scene.run(pilot, "client-socket", 1.0)
    await scene.run(pilot, "client-recv", 2.0)
    await scene.run(pilot, "client-connect", 3.5)
    await scene.run(pilot, "server-recv", 4.0)
    scene.app.query_one("#port").value = "70000"
    # the note under the field is made by the refusal itself: wait for it, not for a time
    await until(pilot, lambda: scene.app.query("#port-field .field-note"), "the port's refusal under its field")
    await scene.settle(pilot)


async def help_screen(scene: Scene, pilot: Pilot) -> None:
    """The help screen over the app."""
    await pilot.press("f1")
    await pilot.pause(0.3)


async def wire(scene: Scene, pilot: Pilot) -> None:
    """The wire view beside the log, through one whole cycle (needs root for the capture)."""
    scene.fds = pin_fds()
    await pilot.press("w")
    await scene.run_all(pilot, ("server-socket", 1.0), ("server-bind", 1.5), ("server-listen", 2.0),
                        ("client-socket", 3.0), ("client-connect", 4.0), ("server-accept", 5.0),
                        ("client-send", 6.0), ("server-recv", 7.0), ("client-close", 8.0),
                        ("server-close-conn", 9.0))  # fmt: skip
    await scene.settle(pilot, 0.5)


async def timeline(scene: Scene, pilot: Pilot) -> None:
    """The timeline: accept() waited for connect(), recv() before connect() failed, the server's recv() waits now."""
    scene.fds = pin_fds()
    await pilot.press("t")
    await scene.run_all(pilot, ("server-socket", 1.0), ("server-bind", 2.0), ("server-listen", 3.0))
    await scene.run(pilot, "server-accept", 4.0, StepBlocked)
    await scene.run_all(pilot, ("client-socket", 6.0), ("client-recv", 7.0), ("client-connect", 9.0))
    await until(pilot, lambda: scene.finished("server-accept"), "accept() to return")
    await scene.run(pilot, "server-recv", 11.0, StepBlocked)
    scene.clock.set(14.0)
    await scene.settle(pilot, 0.4)


async def predict(scene: Scene, pilot: Pilot) -> None:
    """Predict mode: bind() and listen() said right, accept() said to wait (right), connect() said to wait (wrong,
    it returned at once); now the question before the server's recv() is open."""
    from sockviz.screens.predict import PredictQuestion

    scene.fds = pin_fds()
    await pilot.press("f5")

    async def answered(step_id: str, at: float, answer: str, wait_for: type[Event] = StepFinished) -> None:
        scene.clock.set(at)
        before = len(scene.events)
        await pilot.press(step(step_id).key)
        await until(pilot, lambda: isinstance(pilot.app.screen, PredictQuestion), f"the question before {step_id}")
        await pilot.press(answer)
        await until(pilot, lambda: any(isinstance(e, wait_for) and e.call.step.id == step_id
                                       for e in scene.events[before:]), f"{step_id} to settle")  # fmt: skip
        await scene.settle(pilot)

    await scene.run(pilot, "server-socket", 1.0)
    await answered("server-bind", 2.0, "r")
    await answered("server-listen", 3.0, "r")
    await answered("server-accept", 4.0, "w", StepBlocked)
    await scene.run(pilot, "client-socket", 6.0)
    await answered("client-connect", 7.0, "w")
    await until(pilot, lambda: scene.finished("server-accept"), "accept() to return")
    scene.clock.set(9.0)
    await scene.settle(pilot)
    pilot.app.clear_notifications()  # "predict mode on", which would cover the log
    await pilot.press("r")
    await until(pilot, lambda: isinstance(pilot.app.screen, PredictQuestion), "the question before recv()")
    await pilot.pause(0.2)


async def udp(scene: Scene, pilot: Pilot) -> None:
    """UDP with the same buttons: listen() failed for real, two datagrams sent, one read; the wire shows both."""
    scene.fds = pin_fds()
    await pilot.press("d")
    await pilot.press("w")
    await scene.run_all(pilot, ("server-socket", 1.0), ("server-bind", 2.0), ("server-listen", 3.0),
                        ("client-socket", 4.0), ("client-send", 5.0), ("client-send", 6.0),
                        ("server-recv", 7.0))  # fmt: skip
    await scene.settle(pilot, 0.5)


SCENES: dict[str, Callable[[Scene, Pilot], Awaitable[None]]] = {
    "fresh": fresh,
    "mid_lesson": mid_lesson,
    "errors": errors,
    "help": help_screen,
    "wire": wire,
    "projector": projector,
    "timeline": timeline,
    "predict": predict,
    "udp": udp,
}
