"""How long quitting takes in the states that once made it slow, and what it leaves: `python benchmarks/quitting.py`.

For each state (a burst of 1,000 clients under way, a scenario waiting in a `pause 30`
after its burst, 64 calls blocked in recv()) the app is driven headless, ctrl+q is
pressed, and the time until the app has ended (the session closed, its threads woken)
is printed with the process's fds and sockviz threads before the app and after it.
Run it in a network namespace of its own:
`unshare -n sh -c 'ip link set lo up && python benchmarks/quitting.py'`.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time

from sockviz.app import SockvizApp
from sockviz.core import Endpoint, Session, StepArgs, step


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def sockviz_threads() -> int:
    return sum(1 for thread in threading.enumerate() if thread.name.startswith("sockviz"))


async def wait(pilot, condition, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError
        await pilot.pause(0.02)


def listening(session: Session, port: int, backlog: int) -> Endpoint:
    endpoint = Endpoint(socket.AF_INET, "127.0.0.1", port)
    session.perform(step("server-socket"), StepArgs(endpoint=endpoint))
    session.perform(step("server-bind"), StepArgs(endpoint=endpoint))
    session.perform(step("server-listen"), StepArgs(backlog=backlog))
    return endpoint


async def burst_running(app: SockvizApp, pilot, port: int) -> None:
    endpoint = listening(app.session, port, 8)
    app.run_worker(lambda: app.session.perform(step("client-burst"), StepArgs(endpoint=endpoint, count=1000)),
                   thread=True)  # fmt: skip
    await wait(pilot, lambda: len(app.session.sockets) > 300)


async def scenario_waiting(app: SockvizApp, pilot, port: int) -> None:
    await pilot.press("space")
    await wait(pilot, lambda: len(app.session.sockets) > 1000)  # the burst's clients, most in SYN_SENT
    await pilot.pause(0.5)  # the player is in `pause 30`


async def calls_blocked(app: SockvizApp, pilot, port: int) -> None:
    session = app.session
    endpoint = listening(session, port, 100)
    session.perform(step("client-burst"), StepArgs(endpoint=endpoint, count=64))
    await wait(pilot, lambda: not session.running())
    for _ in range(64):
        session.perform(step("server-accept"))
    for conn in [t for t in session.sockets if t.role.value == "connection"]:
        app.run_worker(lambda conn=conn: session.perform(step("server-recv"), target=conn), thread=True)
    await wait(pilot, lambda: len(session.running()) == 64)


async def measure(name: str, prepare, scenario: tuple[str, str] | None = None) -> None:
    before = (fds(), sockviz_threads())
    port = free_port()
    app = SockvizApp(port=port, scenario=scenario)
    async with app.run_test(size=(130, 40)) as pilot:
        await prepare(app, pilot, port)
        started = time.perf_counter()
        await pilot.press("ctrl+q")
    took = time.perf_counter() - started
    deadline = time.monotonic() + 5
    while (fds(), sockviz_threads()) > before and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    after = (fds(), sockviz_threads())
    print(f"{name:<28} quit in {took * 1000:6.0f} ms   fds {before[0]} -> {after[0]}   "
          f"sockviz threads {before[1]} -> {after[1]}   sockets {len(app.session.sockets)}, "
          f"all closed: {all(t.closed for t in app.session.sockets)}")  # fmt: skip


async def main() -> None:
    waiting = "server socket\nserver bind\nserver listen backlog=8\nclient burst count=1000\npause 30\n"
    for _ in range(2):
        await measure("a burst of 1,000 running", burst_running)
        await measure("a scenario in `pause 30`", scenario_waiting, ("waits", waiting))
        await measure("64 calls blocked in recv()", calls_blocked)


if __name__ == "__main__":
    asyncio.run(main())
