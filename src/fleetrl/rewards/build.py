"""From a run's reward entries (see `fleetrl.rewards.config`) to one Reward."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fleetrl.core.errors import ConfigError
from fleetrl.rewards.base import Reward
from fleetrl.rewards.compose import WeightedSum
from fleetrl.rewards.config import RewardContext, parse_rewards
from fleetrl.rewards.human_label import CommandSource


def build_reward(
    config: Sequence[Any],
    teleop: CommandSource | None = None,
    base_dir: str | Path | None = None,
    where: str = "rewards",
    own_worker: Reward | None = None,
    success_key: str | None = None,
) -> WeightedSum:
    """The weighted sum of the rewards `config` lists (dicts or parsed entries), each built by
    its entry (`RewardEntry.build`) and weighted by its `factor`.

    `own_worker` is the env worker's handle on the run's reward worker (a `RemoteReward`): the
    entries marked `worker: own` are then left to it, and it is one part of the sum. Without it,
    every entry is built here, in this process (outside a run, or in the reward worker itself).

    `teleop` is the run's teleop device, needed by an entry that `needs_teleop` (human_label); it
    stays owned by whoever passed it. Relative paths are resolved against `base_dir` (default: the
    working directory); `success_key` is the env's info key for success (`EnvConfig.success_key`).
    ConfigError naming the entry (`rewards[1].path: no such file`) when an entry cannot be built.
    """
    parts: list[tuple[float, Reward]] = []
    for i, entry in enumerate(parse_rewards(list(config), where)):
        if own_worker is not None and entry.worker == "own":
            continue
        at = f"{where}[{i}]"
        if entry.needs_teleop and teleop is None:
            raise ConfigError(f"{at}: {entry.type} needs the run's teleop device, and none was given")
        context = RewardContext(at=at, teleop=teleop, base_dir=base_dir, success_key=success_key)
        parts.append((entry.factor, entry.build(context)))
    if own_worker is not None:
        parts.append((1.0, own_worker))
    return WeightedSum(parts)
