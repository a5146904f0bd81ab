"""The reward interface: what an episode step is worth, decided outside the environment.

    reward.reset()                                         # at every episode start
    obs, info = env.reset()
    while not done:
        next_obs, task_reward, terminated, truncated, info = env.step(action)
        r = reward(obs, action, next_obs, info | {"task_reward": task_reward})
        done = terminated or truncated or reward.verdict is not None

`RewardWrapper` runs exactly this loop for a gymnasium env. Rewards compose (`WeightedSum`), so a
learned success classifier, a rule on `info["success"]`, a human's label and the env's own
reward are separate pieces that a run config lists side by side.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any

import numpy as np

Observation = np.ndarray | Mapping[str, np.ndarray]
"""One observation as the env gives it: a float32 vector, or a dict of "state" and uint8
(H, W, 3) camera frames keyed by camera name. Never batched."""


class Reward(abc.ABC):
    """The reward of one step, in the task's units (1.0 is one success unless a weight says
    otherwise). A Reward may keep per-episode state; the caller owns the episode and calls
    `reset()` before its first step. Arrays passed in belong to the caller: read, do not keep.

    `verdict` is None until something outside the step (a person's label) has decided the
    episode: then True (succeeded) or False (failed), and the caller should end the episode.
    Rewards that never decide leave it None.
    """

    verdict: bool | None = None

    def reset(self) -> None:
        """Forget the previous episode (its verdict included)."""
        self.verdict = None

    @abc.abstractmethod
    def __call__(self, obs: Observation, action: np.ndarray, next_obs: Observation, info: Mapping[str, Any]) -> float:
        """The reward for going from `obs` to `next_obs` with `action`. `info` is the env's step
        info; `info["task_reward"]` holds the env's own reward when the caller provides it."""
