"""Rewards computed by rule from what the env reports: its success test and its own reward."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from fleetrl.rewards.base import Observation, Reward


class SuccessReward(Reward):
    """`scale` when the step's resulting state passes the task's success test (`info["success"]`),
    else 0.0. Needs an env that reports success (every fleetrl task does)."""

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = float(scale)

    def __call__(self, obs: Observation, action: np.ndarray, next_obs: Observation, info: Mapping[str, Any]) -> float:
        if "success" not in info:
            raise KeyError("SuccessReward needs info['success'], and this env's step info has none")
        return self.scale if info["success"] else 0.0


class TaskReward(Reward):
    """The env's own reward, passed through, so it can be one part of a composed reward.

    Reads `info["task_reward"]`, which `RewardWrapper` puts there before asking for the reward.
    """

    def __call__(self, obs: Observation, action: np.ndarray, next_obs: Observation, info: Mapping[str, Any]) -> float:
        if "task_reward" not in info:
            raise KeyError("TaskReward needs info['task_reward'] (RewardWrapper provides it)")
        return float(info["task_reward"])
