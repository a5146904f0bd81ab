"""Rewards computed by rule from what the env reports: its success test and its own reward."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from fleetrl.envs.success import episode_success, reports_success, success_keys
from fleetrl.rewards.base import Observation, Reward


class SuccessReward(Reward):
    """`scale` when the step's resulting state passes the task's success test, else 0.0. The test
    is read from info under `key` (None: "success", then "is_success"; see `fleetrl.envs.success`).
    Needs an env that reports success (every fleetrl task does): a missing flag is a KeyError,
    not a reward of 0.0 forever."""

    def __init__(self, scale: float = 1.0, key: str | None = None) -> None:
        self.scale, self.key = float(scale), key

    def __call__(self, obs: Observation, action: np.ndarray, next_obs: Observation, info: Mapping[str, Any]) -> float:
        if not reports_success(info, self.key):
            wanted = " or ".join(f"info[{name!r}]" for name in success_keys(self.key))
            raise KeyError(f"SuccessReward needs {wanted}, and this env's step info has none (set env.success_key?)")
        return self.scale if episode_success(info, self.key) else 0.0


class TaskReward(Reward):
    """The env's own reward, passed through, so it can be one part of a composed reward.

    Reads `info["task_reward"]`, which `RewardWrapper` puts there before asking for the reward.
    """

    def __call__(self, obs: Observation, action: np.ndarray, next_obs: Observation, info: Mapping[str, Any]) -> float:
        if "task_reward" not in info:
            raise KeyError("TaskReward needs info['task_reward'] (RewardWrapper provides it)")
        return float(info["task_reward"])
