"""A seeded episode through a robot server sees exactly what the same robot sees locally.

The local robot and an identically configured served one are stepped in lockstep with the same
seeded actions (many large enough to be clipped); every array of every observation and every
applied action must match bit for bit. Only wall-clock timestamps may differ.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

import numpy as np
import pytest

from fleetrl.core.interfaces import Robot
from fleetrl.core.types import Observation
from fleetrl.hardware.registry import make_robot
from fleetrl.hardware.server.remote_robot import RemoteRobot
from fleetrl.hardware.server.robot_server import RobotServer

STEPS = 1000


def assert_same_observation(local: Observation, remote: Observation, step: int) -> None:
    for name in ("joint_pos", "joint_vel", "ee_pos", "ee_quat"):
        a, b = getattr(local, name), getattr(remote, name)
        assert a.dtype == b.dtype and a.shape == b.shape, f"step {step}: {name} differs in dtype or shape"
        assert a.tobytes() == b.tobytes(), f"step {step}: {name} differs"
    assert np.float64(local.gripper).tobytes() == np.float64(remote.gripper).tobytes(), f"step {step}: gripper"
    assert list(local.images) == list(remote.images), f"step {step}: cameras differ"
    for name, image in local.images.items():
        other = remote.images[name]
        assert image.shape == other.shape and image.dtype == other.dtype, f"step {step}: camera {name}"
        assert image.tobytes() == other.tobytes(), f"step {step}: camera {name} pixels differ"
    assert list(local.image_timestamps) == list(remote.image_timestamps), f"step {step}: image timestamps"
    assert list(local.task_state) == list(remote.task_state), f"step {step}: task state keys"
    for name, value in local.task_state.items():
        a, b = np.asarray(value, dtype=np.float64), remote.task_state[name]
        assert a.shape == b.shape and a.tobytes() == b.tobytes(), f"step {step}: task_state[{name}] differs"


def run_in_lockstep(make: Callable[[], Robot], token: str, seed: int = 7, steps: int = STEPS) -> Observation:
    """Step a local robot and a served twin together, comparing everything; return the last obs."""
    local, served = make(), make()
    rng = np.random.default_rng(seed)
    with RobotServer(served, token) as server, local, RemoteRobot.at(server.address, token, timeout_s=30.0) as remote:
        assert remote.spec == local.spec
        obs = local.reset(seed=seed)
        assert_same_observation(obs, remote.reset(seed=seed), step=0)
        for step in range(1, steps + 1):
            action = np.concatenate([rng.normal(0.0, 0.02, 6), rng.uniform(-0.2, 1.2, 1)])
            applied_local, applied_remote = local.send_action(action), remote.send_action(action)
            assert applied_local.tobytes() == applied_remote.tobytes(), f"step {step}: applied actions differ"
            obs = local.get_observation()
            assert_same_observation(obs, remote.get_observation(), step)
    return obs


def test_fake_arm_episode_is_identical_through_the_server(token: str) -> None:
    last = run_in_lockstep(lambda: make_robot({"type": "fake"}), token)
    assert set(last.images) == {"wrist", "scene"}


@pytest.mark.integration
@pytest.mark.timeout(600)
@pytest.mark.skipif(
    importlib.util.find_spec("fleetrl.hardware.robots.sim_panda") is None, reason="sim_panda is not available"
)
def test_sim_panda_episode_with_pixels_is_identical_through_the_server(token: str) -> None:
    last = run_in_lockstep(lambda: make_robot({"type": "sim_panda"}), token)
    assert last.images, "sim_panda should render its cameras"
