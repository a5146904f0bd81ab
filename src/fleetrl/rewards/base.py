"""The reward interface: what an episode step is worth, decided outside the environment.

    reward.reset()                                         # at every episode start
    obs, info = env.reset()
    while not done:
        next_obs, task_reward, terminated, truncated, info = env.step(action)
        r = reward(obs, action, next_obs, info | {"task_reward": task_reward})
        if (terminated or truncated) and reward.verdict is None:
            r += reward.at_episode_end(info)       # a label given once the episode is over
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

    `verdict` is None until something has decided the episode (a person's label, a classifier
    sure of success): then True (succeeded) or False (failed), and the caller should end the
    episode. Rewards that never decide leave it None. `verdict_source` names the kind of reward
    that decides ("human_label", "classifier"), for the step's info.
    """

    verdict: bool | None = None
    verdict_source: str = "reward"

    def reset(self) -> None:
        """Forget the previous episode (its verdict included)."""
        self.verdict = None

    def at_episode_end(self, info: Mapping[str, Any]) -> float:
        """Called once when an episode ends with no verdict (its time limit, or the env ended it),
        after the last step's `__call__` and before `reset()`, with that step's info. Returns a
        reward to add to the last step, and may set `verdict` (a person labelling the episode
        once it is over). Most rewards have nothing to add: 0.0."""
        return 0.0

    @abc.abstractmethod
    def __call__(self, obs: Observation, action: np.ndarray, next_obs: Observation, info: Mapping[str, Any]) -> float:
        """The reward for going from `obs` to `next_obs` with `action`. `info` is the env's step
        info; `info["task_reward"]` holds the env's own reward when the caller provides it."""
