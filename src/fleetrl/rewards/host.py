"""Rewards served to many env workers from one place (the run's reward worker).

    host = RewardHost([{"type": "classifier", "path": "success.pt", "worker": "own"}])
    host.reset("sim_panda#0")
    value, verdict, source = host.score("sim_panda#0", obs, action, next_obs, info)

Each client (an env worker, named by its label) gets its own Reward built from the entries on its
first call, so one client's episode state (a verdict) never leaks into another's. Plain Python:
`fleetrl.runtime.reward_worker` puts it in a Ray actor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fleetrl.rewards.base import Observation, Reward
from fleetrl.rewards.build import build_reward
from fleetrl.rewards.config import parse_rewards


class RewardHost:
    """The weighted sum of `entries` (reward config dicts), once per client.

    The entries are validated here (ConfigError naming `rewards[i]...`), and the first client's
    reward is built at once, so a bad classifier file fails when the host starts, not mid-run.
    """

    def __init__(self, entries: Sequence[Any], base_dir: str | Path | None = None, where: str = "rewards") -> None:
        self.entries = parse_rewards(list(entries), where)
        self.base_dir, self.where = base_dir, where
        self._rewards: dict[str, Reward] = {"": self._build()}
        self._steps: dict[str, int] = {}

    def _build(self) -> Reward:
        return build_reward(self.entries, base_dir=self.base_dir, where=self.where)

    def _reward(self, client: str) -> Reward:
        if client not in self._rewards:
            self._rewards[client] = self._rewards.pop("") if "" in self._rewards else self._build()
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
