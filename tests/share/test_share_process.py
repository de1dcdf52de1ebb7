"""The share's process: apart from the lecturer's, never outliving it, said when it ends; and a follower that
loses the lecturer joins again by itself.

Real processes and real loopback websockets; a lost connection is made with `ss -K` (the kernel destroys the
share's end of it, as a network that went away would), which needs root.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from helpers import PATIENCE, alive, killed_parent_leaves_no_child
from test_share import STEPS, Follower, rows, until

from sockviz.core import step
from sockviz.share import link
from sockviz.share.client import Following
from sockviz.share.mirror import StartedAfresh


def test_the_share_serves_from_a_process_that_imports_neither_the_core_nor_the_ui():
    root = str(Path(link.__file__).resolve().parents[2])
    start = link._START.split("from sockviz.share.process")[0]
    script = start + textwrap.dedent(
        """
        import sockviz.share.process
        print(" ".join(sorted(m for m in sys.modules if m.startswith(("sockviz", "textual", "rich")))))
        """
    )
    imported = subprocess.run([sys.executable, "-c", script, root], capture_output=True, text=True, check=True)
    modules = set(imported.stdout.split())
    assert "sockviz.share.followers" in modules and "sockviz.core.kernel.capture.channel" in modules
    assert not {m for m in modules if m.startswith(("textual", "rich", "sockviz.core.engine", "sockviz.app"))}
    assert "sockviz.core.kernel.capture.ring" not in modules  # only the channel of the capture's package


def test_a_stuck_share_process_is_ended_by_stop(shared):
    _, share, _ = shared
    pid = share.pid
    assert pid is not None and pid != os.getpid() and alive(pid)
    os.kill(pid, signal.SIGSTOP)
    began = time.monotonic()
    share.stop()
    assert not alive(pid) and time.monotonic() - began < 3 * PATIENCE
    assert share.ended is None  # it was asked to stop: nothing to warn the lecturer of


async def test_a_share_process_killed_from_outside_is_said_and_the_session_goes_on(shared):
    session, share, args = shared
    follower = Follower(share)
    await until(lambda: share.followers == 1, "the follower to join")
    os.kill(share.pid, signal.SIGKILL)
    await until(lambda: share.ended is not None, "the end to be said")
    assert f"status {-signal.SIGKILL}" in share.ended and share.followers == 0
    assert "the connection" in await follower.task  # the follower hears it lost the lecturer
    await asyncio.to_thread(session.perform, step("server-socket"), args)
    assert session.sockets  # the lecturer's session never noticed


def test_the_share_process_never_outlives_the_lecturer():
    """A lecturer killed outright (SIGKILL: no stop, no clean-up) takes its share's process with it."""
    script = textwrap.dedent(
        """
        import time
        from sockviz.share.server import ShareServer
        share = ShareServer("127.0.0.1", 0)
        share.start()
        print(share.pid, flush=True)
        time.sleep(60)
        """
    )
    killed_parent_leaves_no_child(script, "the share's process gone with its lecturer")


@pytest.mark.skipif(os.geteuid() != 0, reason="ss -K destroys a socket only for root")
async def test_a_follower_that_loses_the_lecturer_joins_again_and_gets_the_state_so_far(shared):
    session, share, args = shared
    early = Follower(share)
    following = Follower(share, rejoining=True)
    await until(lambda: share.followers == 2, "two followers")
    for name in STEPS[:3]:
        await asyncio.to_thread(session.perform, step(name), args)
    await until(lambda: rows(following.feed.mirror) == rows(session), "the follower's table")
    cut = await asyncio.to_thread(subprocess.run, ["ss", "-K", "-t", "state", "established", "sport", "=",
                                                   f":{share.port}"], capture_output=True)  # fmt: skip
    assert cut.returncode == 0, cut.stderr
    for name in STEPS[3:]:  # the lecturer goes on meanwhile
        await asyncio.to_thread(session.perform, step(name), args)
    await asyncio.wait_for(following.rejoined.wait(), 10 * PATIENCE)
    assert following.lost and "lost the lecturer" in following.lost[0] and "joining again in" in following.lost[0]
    await until(lambda: rows(following.feed.mirror) == rows(session), "the table again, whole")
    assert any(isinstance(shown, StartedAfresh) for shown in following.shown)  # a new copy, from the state so far
    assert following.feed.mirror.events_seen == 15 and isinstance(following.connection, Following)
    assert following.connection.joins == 2
    assert "the connection" in await early.task  # a plain Connection ends at the loss and does not try again
    share.stop()
    assert await following.task == "the lecturer stopped sharing"  # a stop is no loss: it does not try again


@pytest.mark.skipif(os.geteuid() != 0, reason="ss -K destroys a socket only for root")
async def test_a_follower_gives_up_a_join_the_share_does_not_answer_and_tries_again(shared):
    """A share whose process is stopped (SIGSTOP) still completes TCP handshakes in the kernel, and answers no
    join: the follower gives up within its join time, says so, and tries again until the share runs again."""
    session, share, args = shared
    following = Follower(share, rejoining=True)
    await until(lambda: share.followers == 1, "the follower to join")
    assert isinstance(following.connection, Following)
    following.connection.join_seconds = 0.2  # joined: the share's process is up, and its next joins are quick
    os.kill(share.pid, signal.SIGSTOP)
    try:
        cut = await asyncio.to_thread(subprocess.run, ["ss", "-K", "-t", "state", "established", "sport", "=",
                                                       f":{share.port}"], capture_output=True)  # fmt: skip
        assert cut.returncode == 0, cut.stderr
        await until(lambda: any("did not answer the join within 0.2 s" in why for why in following.lost),
                    "the follower to give up a join", timeout=10 * PATIENCE)  # fmt: skip
        assert "joining again in" in following.lost[-1]
    finally:
        os.kill(share.pid, signal.SIGCONT)
    await asyncio.wait_for(following.rejoined.wait(), 20 * PATIENCE)
    await asyncio.to_thread(session.perform, step("server-socket"), args)
    await until(lambda: rows(following.feed.mirror) == rows(session), "the follower's table after it joined again")
