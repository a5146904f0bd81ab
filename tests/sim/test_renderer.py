"""Headless camera rendering: sizes, fresh arrays, unknown cameras, explicit close."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from fleetrl.core.types import CameraSpec
from fleetrl.sim.renderer import CameraRenderer
from fleetrl.sim.scene import build_model
from fleetrl.sim.scenes import make_scene


@pytest.fixture(scope="module")
def model_and_data():
    model = build_model("arx_l5.xml", make_scene("pick_cube"), (0.25, 0.0))
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    return model, data


def test_renders_each_camera_at_its_size(model_and_data) -> None:
    model, data = model_and_data
    cameras = [CameraSpec("wrist", 64, 80, "wrist"), CameraSpec("scene", 96, 96, "scene"), CameraSpec("top", 96, 96)]
    renderer = CameraRenderer(model, cameras)
    try:
        frames = renderer.render(data)
        again = renderer.render(data)
    finally:
        renderer.close()
    assert {name: f.shape for name, f in frames.items()} == {
        "wrist": (64, 80, 3), "scene": (96, 96, 3), "top": (96, 96, 3)
    }
    np.testing.assert_array_equal(frames["scene"], frames["top"])  # "top" falls back to the scene camera
    assert frames["wrist"].std() > 5.0 and frames["scene"].std() > 5.0
    assert not np.shares_memory(frames["scene"], again["scene"])
    renderer.close()  # idempotent


def test_unknown_camera_is_refused(model_and_data) -> None:
    model, _ = model_and_data
    with pytest.raises(ValueError, match="ceiling"):
        CameraRenderer(model, [CameraSpec("ceiling", 64, 64, "overhead")])
