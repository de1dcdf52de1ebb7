"""Make the README's pictures from the real app: `python screenshots/make.py`.

Each picture is one of the scenes the snapshot tests play (tests/scenes.py),
so the pictures show real sockets, with fds, ports and times pinned.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "tests"))

from scenes import SCENES, SIZE, SIZES, Scene  # noqa: E402
from textual._doc import take_svg_screenshot  # noqa: E402


def make(name: str) -> Path:
    with Scene() as scene:

        async def play(pilot) -> None:
            await SCENES[name](scene, pilot)

        svg = take_svg_screenshot(app=scene.app, terminal_size=SIZES.get(name, SIZE), run_before=play)
    path = HERE / f"{name}.svg"
    path.write_text(svg, encoding="utf-8")
    return path


def make_follower() -> Path:
    """A student's screen: the lecturer's session (played here on a session of this process, shared on
    loopback) as `sockviz follow` shows it, with the lecturer's question to the class open."""
    import asyncio
    import socket
    import threading

    from sockviz.core import Session, StepArgs, endpoint, step
    from sockviz.follow import FollowApp
    from sockviz.share.server import ShareServer

    session = Session()
    share = ShareServer("127.0.0.1", 0)
    share.start()
    where = endpoint("127.0.0.1", "47001", socket.AF_INET)
    share.share(session, where)
    args = StepArgs(endpoint=where)
    app = FollowApp("127.0.0.1", share.port, share.code)

    async def play(pilot) -> None:
        while share.followers < 1:
            await pilot.pause(0.05)
        for name in ("server-socket", "server-bind", "server-listen"):
            await asyncio.to_thread(session.perform, step(name), args)
        threading.Thread(target=session.perform, args=(step("server-accept"), args), daemon=True).start()
        while not session.running():
            await pilot.pause(0.05)
        await pilot.pause(0.5)
        await pilot.press("a")  # a student's step key: it says why it runs nothing
        share.ask("client-connect", "Will client connect() wait, return at once, or fail?",
                  ("waits", "returns at once", "fails"))  # fmt: skip
        await pilot.pause(1.0)

    try:
        svg = take_svg_screenshot(app=app, terminal_size=(130, 40), run_before=play)
    finally:
        share.stop()
        session.close()
    path = HERE / "follower.svg"
    path.write_text(svg, encoding="utf-8")
    return path


if __name__ == "__main__":
    for scene_name in sys.argv[1:] or [*SCENES, "follower"]:
        print(make_follower() if scene_name == "follower" else make(scene_name))
