"""Rewards served to many env workers from one place (the run's reward worker).

    host = RewardHost([{"type": "classifier", "path": "success.pt", "worker": "own"}])
    host.reset("sim_panda#0")
    value, verdict, source = host.score("sim_panda#0", obs, action, next_obs, info)

The rewards are built once; each client (an env worker, named by its label) gets its own copy
of them on its first call, sharing the models but not the episode state (a verdict), so one
client's episode never leaks into another's. Plain Python: `fleetrl.runtime.assembly` puts it in
a Ray actor, and env workers reach it through `fleetrl.comm.ray_reward.RemoteReward`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fleetrl.rewards.base import Observation, Reward
from fleetrl.rewards.build import build_reward
from fleetrl.rewards.compose import WeightedSum


class RewardHost:
    """The weighted sum of `entries` (reward entries, or their config dicts), once per client.

    The entries are validated and built here (ConfigError naming `rewards[i]...`), so a bad
    classifier file fails when the host starts, not mid-run. `success_key` is the env's info key
    for success (`EnvConfig.success_key`), which a success reward reads in the infos sent here.
    """

    def __init__(self, entries: Sequence[Any], base_dir: str | Path | None = None, where: str = "rewards",
                 success_key: str | None = None) -> None:
        self.template = build_reward(list(entries), base_dir=base_dir, where=where, success_key=success_key)
        self._rewards: dict[str, Reward] = {}
        self._steps: dict[str, int] = {}

    def _reward(self, client: str) -> Reward:
        if client not in self._rewards:  # shallow copies: models shared, episode state (verdict) not
            self._rewards[client] = WeightedSum([(weight, copy.copy(part)) for weight, part in self.template.parts])
        return self._rewards[client]

    def served(self) -> dict[str, int]:
        """Steps scored so far, per client."""
        return dict(self._steps)

    def reset(self, client: str) -> None:
        """Start a new episode for `client`."""
        self._reward(client).reset()

    def at_episode_end(self, client: str, info: Mapping[str, Any]) -> tuple[float, bool | None, str]:
        """(extra reward, verdict, verdict source) when `client`'s episode ends with no verdict."""
        reward = self._reward(client)
        value = float(reward.at_episode_end(info))
        return value, reward.verdict, reward.verdict_source

    def score(
        self, client: str, obs: Observation, action: np.ndarray, next_obs: Observation, info: Mapping[str, Any]
    ) -> tuple[float, bool | None, str]:
        """(reward, verdict, verdict source) of one of `client`'s steps; see `Reward.__call__`."""
        reward = self._reward(client)
        value = float(reward(obs, action, next_obs, info))
        self._steps[client] = self._steps.get(client, 0) + 1
        return value, reward.verdict, reward.verdict_source
