"""Composing rewards: a weighted sum of parts is itself a Reward."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from fleetrl.rewards.base import Observation, Reward


class WeightedSum(Reward):
    """sum(weight * part(...)) over `parts`, every part called on every step (a part may read a
    device each step). `verdict` is the first non-None verdict of the parts, in order. The parts
    belong to this sum: `reset()` resets them all."""

    def __init__(self, parts: Sequence[tuple[float, Reward]]) -> None:
        if not parts:
            raise ValueError("WeightedSum needs at least one (weight, reward) part")
        self.parts = [(float(weight), reward) for weight, reward in parts]

    @property
    def verdict(self) -> bool | None:  # type: ignore[override]
        decider = self._decider()
        return None if decider is None else decider.verdict

    @property
    def verdict_source(self) -> str:  # type: ignore[override]
        decider = self._decider()
        return "reward" if decider is None else decider.verdict_source

    def _decider(self) -> Reward | None:
        return next((reward for _, reward in self.parts if reward.verdict is not None), None)

    def reset(self) -> None:
        for _, reward in self.parts:
            reward.reset()

    def at_episode_end(self, info: Mapping[str, Any]) -> float:
        total = 0.0
        for weight, reward in self.parts:  # in order, up to the first part that decides
            total += weight * reward.at_episode_end(info)
            if reward.verdict is not None:
                break
        return total

    def __call__(self, obs: Observation, action: np.ndarray, next_obs: Observation, info: Mapping[str, Any]) -> float:
        return float(sum(weight * reward(obs, action, next_obs, info) for weight, reward in self.parts))
