from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from helpers import Background, ManualClock, Recorder, free_port, wait_for, where

from sockviz.core import Endpoint, Session, StepArgs, StepBlocked, step
from sockviz.core.model.transport import Transport


class Loopback:
    """A session on a free loopback port, with a recorder and a thread runner."""

    def __init__(self, family: socket.AddressFamily = socket.AF_INET, clock: ManualClock | None = None) -> None:
        host = "::1" if family == socket.AF_INET6 else "127.0.0.1"
        self.clock = clock
        self.session = Session() if clock is None else Session(clock=clock)
        self.events = Recorder(self.session)
        self.background = Background(self.session)
        self.family = family
        self.endpoint = Endpoint(family, host, free_port(host))

    def args(self, **fields: Any) -> StepArgs:
        return StepArgs(family=self.family, endpoint=self.endpoint, **fields)

    def run(self, step_id: str, **fields: object):
        """Run a step that returns at once, in this thread; its finishing event."""
        call = self.session.perform(step(step_id), self.args(**fields))
        assert call is not None, f"{step_id} was refused"
        return next(e for e in self.events.finished(step_id) if e.call.id == call.id)

    def start(self, step_id: str, **fields: object):
        """Run a step in a thread, as the app does."""
        return self.background.start(step_id, self.args(**fields))

    def at(self, seconds: float) -> Loopback:
        """Set the session's clock (a `timed` one only) to `seconds` after its start."""
        assert self.clock is not None, "only the timed fixture has a clock to set"
        self.clock.set(seconds)
        return self

    def blocked(self, step_id: str) -> None:
        wait_for(lambda: any(e.call.step.id == step_id for e in self.events.of(StepBlocked)), what=f"{step_id} blocks")

    def finished(self, step_id: str, count: int = 1) -> None:
        wait_for(lambda: len(self.events.finished(step_id)) >= count, what=f"{step_id} returns")

    def server_listening(self) -> None:
        for step_id in ("server-socket", "server-bind", "server-listen"):
            self.run(step_id)

    def connected(self) -> None:
        """Server listening, client connected, connection accepted."""
        self.server_listening()
        self.run("client-socket")
        self.run("client-connect")
        self.run("server-accept")


@pytest.fixture
def loopback() -> Iterator[Loopback]:
    made = Loopback()
    yield made
    assert made.session.close(), "a step was still running after close()"
    left = made.background.join()
    assert not left, f"a step thread outlived the session: {where(left)}"


@pytest.fixture
def timed() -> Iterator[Loopback]:
    """A session on loopback on a clock the test sets: each call happens at a time the test chose."""
    made = Loopback(clock=ManualClock())
    yield made
    assert made.session.close()
    assert not made.background.join()


@pytest.fixture
def loopback6() -> Iterator[Loopback]:
    made = Loopback(socket.AF_INET6)
    yield made
    assert made.session.close()
    assert not made.background.join()


class UdpLoopback(Loopback):
    """A session on loopback whose socket() calls make UDP sockets, as the transport switch does."""

    def args(self, **fields: Any) -> StepArgs:
        fields.setdefault("transport", Transport.UDP)
        return super().args(**fields)


@pytest.fixture
def udp() -> Iterator[UdpLoopback]:
    made = UdpLoopback()
    yield made
    assert made.session.close(), "a step was still running after close()"
    left = made.background.join()
    assert not left, f"a step thread outlived the session: {where(left)}"
