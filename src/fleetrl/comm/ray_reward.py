"""The Ray transport of rewards: an env worker's view of the run's reward worker.

The reward worker is a Ray actor holding a `fleetrl.rewards.host.RewardHost` (see
`fleetrl.runtime.assembly.spawn_reward_worker`). Every call waits with a deadline; a reward
worker that does not answer in time, or is gone, raises `ChannelTimeout` or `WorkerFailure`
naming it, and the env worker fails like on any other lost link.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from ray.exceptions import RayActorError

from fleetrl.comm.ray_links import _get
from fleetrl.core.errors import WorkerFailure
from fleetrl.rewards.base import Observation, Reward


class RemoteReward(Reward):
    """The rewards the reward worker hosts, as one Reward part of an env worker's reward.

    `client` names this env worker to the host (its label, "sim_panda#0"), which keeps a separate
    episode for each client. Arrays are copied to the actor (Ray serialises them), so nothing is
    kept. The verdict and its source are those the host returned for the latest step.
    """

    def __init__(self, worker: Any, client: str, timeout_s: float) -> None:
        self.worker, self.client, self.timeout_s = worker, client, float(timeout_s)
        self._source = "reward"

    @property
    def verdict_source(self) -> str:  # type: ignore[override]
        return self._source

    def reset(self) -> None:
        super().reset()
        self._call("reset", self.client)

    def __call__(self, obs: Observation, action: np.ndarray, next_obs: Observation, info: Mapping[str, Any]) -> float:
        value, self.verdict, self._source = self._call("score", self.client, obs, action, next_obs, dict(info))
        return float(value)

    def at_episode_end(self, info: Mapping[str, Any]) -> float:
        value, self.verdict, self._source = self._call("at_episode_end", self.client, dict(info))
        return float(value)

    def _call(self, method: str, *args: Any) -> Any:
        try:
            return _get(getattr(self.worker, method).remote(*args), self.timeout_s, f"reward worker ({method} for {self.client})")
        except RayActorError as err:
            raise WorkerFailure(f"reward worker is gone ({method} for {self.client}): {err}") from None
