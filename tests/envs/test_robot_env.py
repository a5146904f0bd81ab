"""RobotEnv with the fake arm and a tiny task: the episode logic, without a simulator."""

import numpy as np
import pytest

from fleetrl.core.types import Observation
from fleetrl.envs.robot_env import RobotEnv
from fleetrl.envs.task import Task
from fleetrl.hardware.registry import make_robot


class ReachHigh(Task):
    """Succeeds when the hand is above z = 0.25; the fake arm starts near z = 0.2."""

    name = "reach_high"
    scene = ""
    max_episode_steps = 5
    action_mode = "xyz_gripper"

    @property
    def state_dim(self):
        return 1

    def state_features(self, obs: Observation):
        return np.array([obs.ee_pos[2]], dtype=np.float32)

    def success(self, obs):
        return bool(obs.ee_pos[2] > 0.25)

    def shaped_reward(self, obs):
        return float(np.clip(obs.ee_pos[2] / 0.25, 0, 1))


def make_env(obs_mode="state", reward="sparse"):
    return RobotEnv(make_robot({"type": "fake"}), ReachHigh(), obs_mode=obs_mode, reward=reward)


def test_state_episode_succeeds_and_terminates():
    env = make_env()
    obs, info = env.reset(seed=0)
    assert obs.shape == env.observation_space.shape == (9,)
    assert obs.dtype == np.float32 and not info["success"]
    rewards, terminated = [], False
    while not terminated:
        obs, reward, terminated, truncated, info = env.step(np.array([0, 0, 1.0, 1.0]))
        rewards.append(reward)
        assert not truncated
    assert rewards[-1] == 1.0 and sum(rewards) == 1.0 and info["success"]
    assert info["applied_action"][2] == pytest.approx(0.03)
    env.close()
    assert not env.robot.is_connected


def test_episode_truncates_at_the_step_limit():
    env = make_env(reward="shaped")
    env.reset(seed=0)
    for _ in range(5):
        _, reward, terminated, truncated, _ = env.step(np.array([0, 0, -1.0, 0]))
        assert 0.0 <= reward < 1.0 and not terminated
    assert truncated
    env.close()


def test_pixel_observations_hold_proprio_and_every_camera():
    env = make_env(obs_mode="pixels")
    obs, _ = env.reset(seed=1)
    assert set(obs) == {"state", "wrist", "scene"}
    assert env.observation_space.contains(obs)
    env.close()


def test_bad_obs_mode_is_refused():
    with pytest.raises(ValueError, match="obs_mode"):
        make_env(obs_mode="depth")


def test_shaped_reward_holds_success_until_the_time_limit():
    env = make_env(reward="shaped")
    env.reset(seed=0)
    outcomes = [env.step(np.array([0, 0, 1.0, 1.0]))[1:] for _ in range(5)]
    env.close()
    rewards = [reward for reward, *_ in outcomes]
    assert not any(terminated for _, terminated, _, _ in outcomes)  # success does not end it
    assert outcomes[-1][2] and outcomes[-1][3]["success"]  # truncated at the limit, still succeeding
    assert rewards[-1] == 1.0 and rewards[0] < 1.0


def test_reward_none_pays_nothing_and_leaves_the_end_to_the_time_limit():
    env = make_env(reward="none")
    env.reset(seed=0)
    outcomes = [env.step(np.array([0, 0, 1.0, 1.0]))[1:] for _ in range(5)]
    env.close()
    assert all(reward == 0.0 for reward, *_ in outcomes)
    assert not any(terminated for _, terminated, _, _ in outcomes)
    assert outcomes[-1][2] and outcomes[-1][3]["success"]  # success is still reported, to measure
    with pytest.raises(ValueError, match="reward must be one of"):
        make_env(reward="dense")
