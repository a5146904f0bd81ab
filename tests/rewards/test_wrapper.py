"""RewardWrapper: replaces or adds to the env's reward, keeps it in info, ends episodes on verdicts."""

from __future__ import annotations

import time

import gymnasium as gym
import numpy as np
import pytest

import fleetrl.envs  # noqa: F401
from fleetrl.envs.experts import expert_for
from fleetrl.rewards.compose import WeightedSum
from fleetrl.rewards.human_label import HumanLabelReward
from fleetrl.rewards.rule import SuccessReward, TaskReward
from fleetrl.rewards.wrapper import RewardWrapper

ACTION = np.zeros(2, np.float32)


def test_replace_uses_the_reward_and_keeps_the_task_reward(counting_env):
    env = RewardWrapper(counting_env(succeed_at=3), SuccessReward(scale=2.0))
    env.reset(seed=0)
    rewards, infos = [], []
    for _ in range(4):
        _, reward, terminated, truncated, info = env.step(ACTION)
        rewards.append(reward)
        infos.append(info)
        assert not terminated and "human_label" not in info
    assert rewards == [0.0, 0.0, 2.0, 2.0]
    assert all(info["task_reward"] == 0.25 for info in infos)


def test_add_mode_adds_to_the_task_reward(counting_env):
    env = RewardWrapper(counting_env(succeed_at=1), SuccessReward(), mode="add")
    env.reset()
    assert env.step(ACTION)[1] == pytest.approx(1.25)
    with pytest.raises(ValueError, match="mode"):
        RewardWrapper(counting_env(), SuccessReward(), mode="multiply")


def test_the_reward_sees_the_previous_and_next_observation(counting_env):
    seen = []

    class Recorder(TaskReward):
        def __call__(self, obs, action, next_obs, info):
            seen.append((float(obs[0]), float(next_obs[0])))
            return super().__call__(obs, action, next_obs, info)

    env = RewardWrapper(counting_env(), Recorder())
    env.reset()
    for _ in range(3):
        env.step(ACTION)
    assert seen == [(0.0, 1.0), (1.0, 2.0), (2.0, 3.0)]


@pytest.mark.parametrize("label, verdict", [("success", True), ("failure", False)])
def test_a_human_label_ends_the_episode_with_the_verdict_in_info(counting_env, scripted_teleop, label, verdict):
    teleop = scripted_teleop()
    reward = WeightedSum([(1.0, SuccessReward()), (1.0, HumanLabelReward(teleop))])
    env = RewardWrapper(counting_env(horizon=50), reward)
    env.reset()
    teleop.push()  # two quiet steps, then the label
    teleop.push()
    teleop.push(label)
    steps = 0
    while True:
        _, r, terminated, truncated, info = env.step(ACTION)
        steps += 1
        if terminated or truncated:
            break
    assert steps == 3
    assert terminated and not truncated and info["human_label"] is verdict
    assert info["verdict"] is verdict and info["verdict_source"] == "human_label"
    assert r == (1.0 if verdict else 0.0) and info["task_reward"] == 0.25
    env.reset()  # a new episode forgets the verdict
    _, _, terminated, _, info = env.step(ACTION)
    assert not terminated and "human_label" not in info


def test_a_label_given_once_the_episode_is_over_pays_on_its_last_step(counting_env, scripted_teleop):
    teleop = scripted_teleop()
    env = RewardWrapper(counting_env(horizon=3), HumanLabelReward(teleop, success_reward=5.0, wait_at_end_s=2.0))
    env.reset()  # reset reads the device once (dropping old labels)
    for _ in range(4):  # the reset's read, then three quiet steps; the label comes after the last
        teleop.push()
    teleop.push()
    teleop.push("success")
    outcomes = [env.step(ACTION) for _ in range(3)]
    _, reward, terminated, truncated, info = outcomes[-1]
    assert [o[1] for o in outcomes] == [0.0, 0.0, 5.0]
    assert terminated and truncated and info["verdict"] is True and info["human_label"] is True

    env.reset()  # nobody labels this one: the wait ends at its deadline and the episode just ends
    env.reward.wait_at_end_s = 0.2
    started = time.monotonic()
    outcomes = [env.step(ACTION) for _ in range(3)]
    waited = time.monotonic() - started
    _, reward, terminated, truncated, info = outcomes[-1]
    assert reward == 0.0 and truncated and not terminated and "verdict" not in info
    assert 0.2 <= waited < 1.5


def test_on_a_real_task_the_composed_reward_pays_at_success():
    inner = gym.make("fleetrl/PickCube-v0", obs_mode="state", reward="sparse")
    env = RewardWrapper(inner, WeightedSum([(1.0, SuccessReward()), (0.5, TaskReward())]))
    expert = expert_for(env)
    env.reset(seed=3)
    try:
        for _ in range(100):
            _, reward, terminated, truncated, info = env.step(expert.act(env.unwrapped.last_observation))
            if terminated or truncated:
                break
    finally:
        env.close()
    assert terminated and info["success"]
    assert info["task_reward"] == 1.0 and reward == pytest.approx(1.5)
