"""Run-config rewards in the env worker's env: replaced rewards, frames for a classifier, errors."""

from typing import Literal

import numpy as np
import pytest

from fleetrl.core.errors import ConfigError
from fleetrl.rewards.base import Reward
from fleetrl.rewards.classifier import ClassifierConfig, SuccessClassifier
from fleetrl.rewards.config import REWARDS, RewardEntry, register_reward
from fleetrl.runtime.config import EnvConfig, InterventionConfig
from fleetrl.runtime.env_factory import make_worker_env

PICK_CUBE = EnvConfig(id="fleetrl/PickCube-v0", robots=["sim_panda"], kwargs={"obs_mode": "state", "image_size": 32})


def test_a_success_reward_replaces_the_task_reward_and_keeps_it_in_info():
    env = make_worker_env(PICK_CUBE, 0, rewards=[{"type": "success", "weight": 5.0}])
    env.reset(seed=0)
    _, reward, _, _, info = env.step(np.zeros(env.action_space.shape, np.float32))
    assert reward == (5.0 if info["success"] else 0.0) and "task_reward" in info
    env.close()


def test_a_classifier_on_a_state_policy_reads_frames_rendered_for_it(tmp_path):
    model = SuccessClassifier(ClassifierConfig(cameras=("scene",), height=32, width=32))
    model.save(tmp_path / "success.pt")
    env = make_worker_env(PICK_CUBE, 0, rewards=[{"type": "classifier", "path": str(tmp_path / "success.pt")}])
    obs, _ = env.reset(seed=0)
    assert obs.ndim == 1  # the policy still sees state only
    _, reward, _, _, info = env.step(np.zeros(env.action_space.shape, np.float32))
    assert info["frames"]["scene"].shape == (32, 32, 3)
    assert 0.0 < reward < 1.0  # an untrained model's p(success)
    env.close()


def test_reward_and_intervention_errors_name_the_config_key(tmp_path):
    with pytest.raises(ConfigError, match=r"rewards\[0\]"):
        make_worker_env(PICK_CUBE, 0, rewards=[{"type": "classifier", "path": str(tmp_path / "missing.pt")}])
    with pytest.raises(ConfigError, match="intervention.device"):
        make_worker_env(PICK_CUBE, 0, InterventionConfig(device="spacemouse"))


class CameraCount(Reward):
    def __call__(self, obs, action, next_obs, info) -> float:
        return float(len(info["frames"]))


class CameraCountEntry(RewardEntry):
    """A user's reward that reads camera frames, and says so (`needs_frames`) instead of being named."""

    needs_frames = True
    type: Literal["camera_count"] = "camera_count"

    def build(self, context) -> Reward:
        return CameraCount()


def test_frames_are_rendered_for_any_entry_that_needs_them():
    register_reward("camera_count", CameraCountEntry)
    try:
        env = make_worker_env(PICK_CUBE, 0, rewards=[{"type": "camera_count"}])
        env.reset(seed=0)
        _, reward, _, _, info = env.step(np.zeros(env.action_space.shape, np.float32))
        assert reward == 1.0 and set(info["frames"]) == {"scene"}
        env.close()
    finally:
        REWARDS.unregister("camera_count")
