"""Shared pieces of the reward tests: a scripted teleop stand-in and a tiny env."""

from __future__ import annotations

from collections import deque

import gymnasium as gym
import numpy as np
import pytest
import torch

from fleetrl.hardware.teleop.base import TeleopCommand


class ScriptedTeleop:
    """Stands in for a teleop device: each read returns the next scripted event set, then none."""

    def __init__(self, *events: set[str] | frozenset[str]) -> None:
        self.queue = deque(frozenset(e) for e in events)
        self.reads = 0

    def push(self, *events: str) -> None:
        self.queue.append(frozenset(events))

    def read(self) -> TeleopCommand:
        self.reads += 1
        return TeleopCommand(events=self.queue.popleft() if self.queue else frozenset())


class CountingEnv(gym.Env):
    """Observation = the step count (a (1,) vector); reward 0.25 each step; info["success"] from
    step `succeed_at` on; truncated after `horizon` steps."""

    observation_space = gym.spaces.Box(-np.inf, np.inf, shape=(1,), dtype=np.float32)
    action_space = gym.spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)

    def __init__(self, horizon: int = 10, succeed_at: int = 100) -> None:
        self.horizon, self.succeed_at, self.t = horizon, succeed_at, 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(1, np.float32), {}

    def step(self, action):
        self.t += 1
        info = {"success": self.t >= self.succeed_at}
        return np.full(1, self.t, np.float32), 0.25, False, self.t >= self.horizon, info


@pytest.fixture
def scripted_teleop():
    return ScriptedTeleop


@pytest.fixture
def counting_env():
    return CountingEnv


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Train and infer on one thread: on a busy shared machine two threads can wait on each
    other for many times the work itself (seen: 2 s of training taking 40 s)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
