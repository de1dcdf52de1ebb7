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


if __name__ == "__main__":
    for scene_name in sys.argv[1:] or SCENES:
        print(make(scene_name))
