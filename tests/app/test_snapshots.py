"""The main screens, pixel for pixel, with fds, ports and times pinned (see tests/scenes.py)."""

from __future__ import annotations

import pytest
from scenes import SCENES, SIZE, Scene
from textual.pilot import Pilot
from textual.widgets import Input


@pytest.fixture
def scene():
    with Scene() as made:  # holds the pinned ports: another suite's scenes wait
        yield made


async def play_scene(scene: Scene, pilot: Pilot, name: str) -> None:
    """Play a scene, then check that no text field has focus: a focused Input blinks its cursor on a
    timer, so the picture would depend on the moment it is taken."""
    await SCENES[name](scene, pilot)
    assert not isinstance(pilot.app.focused, Input), f"{name} leaves a blinking cursor in {pilot.app.focused}"


class TestMainScreens:
    @pytest.mark.parametrize("name", ["fresh", "mid_lesson", "errors", "help"])
    def test_screen(self, snap_compare, scene, name):
        async def play(pilot):
            await play_scene(scene, pilot, name)

        assert snap_compare(scene.app, terminal_size=SIZE, run_before=play)

    def test_fresh_at_80_by_24(self, snap_compare, scene):
        assert snap_compare(scene.app, terminal_size=(80, 24))

    @pytest.mark.parametrize("size", [(100, 30), (80, 24)])
    def test_timeline(self, snap_compare, scene, size):
        """Below 110 columns the timeline takes the log's place, so it is readable at 80x24."""

        async def play(pilot):
            await play_scene(scene, pilot, "timeline")

        assert snap_compare(scene.app, terminal_size=size, run_before=play)
