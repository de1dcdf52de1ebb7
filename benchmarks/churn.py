"""The event loop's lag while connections come and go: `python benchmarks/churn.py [seconds]`.

500 connections are opened through the session (socket, connect, accept), then,
about 40 times a second, the oldest pair is closed and a new one is opened, as
a class of students' clients would. Meanwhile a task measures how late a 10 ms
sleep wakes up. The target is a p99 under 16 ms (one frame at 60 Hz). The share of
time the event loop's thread spends on a CPU is printed too: on a machine
busy with other work the lag grows with the wait for a CPU, the share does not.
Run it in
a network namespace of its own: `unshare -n sh -c 'ip link set lo up && python benchmarks/churn.py'`.
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import sys
import threading
import time

from sockviz.app import SockvizApp
from sockviz.core import Endpoint, Session, StepArgs, step

CONNECTIONS = 500
PER_SECOND = 40


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def churn(session: Session, endpoint: Endpoint, stop: threading.Event, ready: threading.Event, counts: list) -> None:
    args = StepArgs(endpoint=endpoint)
    session.perform(step("server-socket"), args)
    session.sockets[0].sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    session.perform(step("server-bind"), args)
    session.perform(step("server-listen"), StepArgs(backlog=CONNECTIONS + 10))
    pairs = []

    def open_one() -> None:
        session.perform(step("client-socket"), args)
        client = session.current(step("client-connect").target, step("client-connect").side)
        session.perform(step("client-connect"), args, target=client)
        session.perform(step("server-accept"))
        conn = session.current(step("server-recv").target)
        pairs.append((client, conn))

    for _ in range(CONNECTIONS):
        open_one()
    ready.set()
    started = time.monotonic()
    done = 0
    while not stop.is_set():
        client, conn = pairs.pop(0)
        session.perform(step("client-close"), target=client)
        session.perform(step("server-close-conn"), target=conn)
        open_one()
        done += 1
        counts[0] = done
        pause = started + done / PER_SECOND - time.monotonic()
        if pause > 0:
            stop.wait(pause)


async def measure(seconds: float) -> None:
    session = Session()
    port = free_port()
    app = SockvizApp(port=port, session=session)
    stop, ready, counts = threading.Event(), threading.Event(), [0]
    async with app.run_test(size=(160, 50)) as pilot:
        worker = threading.Thread(
            target=churn, args=(session, Endpoint(socket.AF_INET, "127.0.0.1", port), stop, ready, counts)
        )
        worker.start()
        while not ready.is_set():
            await pilot.pause(0.05)
        await pilot.pause(1.0)
        lags = []
        first = counts[0]
        cpu_before = time.thread_time()
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append(time.perf_counter() - before - 0.01)
        churned = counts[0] - first
        busy = (time.thread_time() - cpu_before) / seconds
        stop.set()
        await asyncio.to_thread(worker.join)
    p99 = statistics.quantiles(lags, n=100)[98]
    print(
        f"{CONNECTIONS} connections, {churned / seconds:.0f} replaced a second for {seconds:.0f} s "
        f"({len(session.sockets)} sockets in the table): loop lag p50 {statistics.median(lags) * 1000:.1f} ms, "
        f"p99 {p99 * 1000:.1f} ms, max {max(lags) * 1000:.1f} ms (target p99 < 16 ms); the event loop's thread "
        f"was on a CPU {busy:.0%} of the time (a busy machine stretches every lag; this share it does not)"
    )


if __name__ == "__main__":
    asyncio.run(measure(float(sys.argv[1]) if len(sys.argv) > 1 else 10.0))
