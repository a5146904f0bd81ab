"""SAC learns a tiny continuous task in seconds: move a 1-D point to a goal."""

import time

import gymnasium as gym
import numpy as np
import pytest
import torch

from fleetrl.algorithms.sac import SACConfig, SACLearner
from fleetrl.policies import GaussianPolicyConfig

EPISODE_STEPS = 10
STEP_SIZE = 0.25


class PointToGoal:
    """obs = (x, goal), both in [-1, 1]; x += 0.25 * a; reward = -|x - goal|; 10 steps, no terminal."""

    observation_space = gym.spaces.Box(-np.inf, np.inf, (2,), np.float32)
    action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def reset(self) -> np.ndarray:
        self.x, self.goal, self.t = self.rng.uniform(-1, 1, 2).tolist() + [0]
        return self.obs()

    def obs(self) -> np.ndarray:
        return np.array([self.x, self.goal], np.float32)

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool]:
        self.x = float(np.clip(self.x + STEP_SIZE * float(action[0]), -1.5, 1.5))
        self.t += 1
        return self.obs(), -abs(self.x - self.goal), self.t >= EPISODE_STEPS


class Replay:
    """The simplest numpy ring buffer, enough for a test."""

    def __init__(self, capacity: int, seed: int) -> None:
        self.data = {
            "obs": np.zeros((capacity, 2), np.float32),
            "next_obs": np.zeros((capacity, 2), np.float32),
            "action": np.zeros((capacity, 1), np.float32),
            "reward": np.zeros(capacity, np.float32),
            "terminated": np.zeros(capacity, np.float32),
        }
        self.size = self.next = 0
        self.rng = np.random.default_rng(seed)

    def add(self, **transition) -> None:
        for key, value in transition.items():
            self.data[key][self.next] = value
        self.next = (self.next + 1) % len(self.data["reward"])
        self.size = min(self.size + 1, len(self.data["reward"]))

    def sample(self, batch_size: int) -> dict:
        idx = self.rng.integers(0, self.size, batch_size)
        return {key: value[idx] for key, value in self.data.items()}


def average_return(act, episodes: int = 30) -> float:
    env = PointToGoal(seed=12345)  # the same goals for every policy evaluated
    total = 0.0
    for _ in range(episodes):
        obs, done = env.reset(), False
        while not done:
            obs, reward, done = env.step(act(obs))
            total += reward
    return total / episodes


def train(seed: int) -> tuple[float, float, float]:
    """(random, initial, trained) average returns of SAC after 1000 environment steps."""
    config = SACConfig(batch_size=128, gamma=0.9, actor_lr=1e-3, critic_lr=1e-3, temperature_lr=1e-3, init_temperature=0.1)
    policy = GaussianPolicyConfig(hidden_sizes=(64, 64))
    learner = SACLearner(config, policy, PointToGoal.observation_space, PointToGoal.action_space, seed=seed)
    policy = learner.policy
    rng = np.random.default_rng(seed)
    random_return = average_return(lambda obs: rng.uniform(-1, 1, 1))
    initial_return = average_return(lambda obs: policy.act(obs, deterministic=True))

    env, replay = PointToGoal(seed=seed), Replay(10_000, seed=seed)
    obs = env.reset()
    for step in range(1000):
        action = rng.uniform(-1, 1, 1).astype(np.float32) if step < 200 else policy.act(obs)
        next_obs, reward, done = env.step(action)
        replay.add(obs=obs, next_obs=next_obs, action=action, reward=reward, terminated=0.0)  # time limit only
        obs = env.reset() if done else next_obs
        if step >= 200:
            learner.update(replay.sample)

    trained_return = average_return(lambda obs: policy.act(obs, deterministic=True))
    return random_return, initial_return, trained_return


@pytest.mark.timeout(120)
def test_sac_learns_point_to_goal():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny networks: extra threads only add contention
    try:
        start = time.perf_counter()
        random_return, initial_return, trained_return = train(seed=0)
        elapsed = time.perf_counter() - start
    finally:
        torch.set_num_threads(threads)
    # On these goals staying put scores -5.6 per episode, random actions about -6, the initial
    # policy about -9, and walking straight to the goal -0.7.
    assert trained_return > -2.5, (random_return, initial_return, trained_return)
    assert trained_return > initial_return + 2.0 and trained_return > random_return + 3.0
    print(f"point-to-goal: {elapsed:.1f} s, return {initial_return:.2f} -> {trained_return:.2f}")
