"""From a run's reward entries (see `fleetrl.rewards.config`) to one Reward."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fleetrl.core.errors import ConfigError
from fleetrl.rewards.base import Reward
from fleetrl.rewards.classifier import ClassifierFileError, ClassifierReward
from fleetrl.rewards.compose import WeightedSum
from fleetrl.rewards.config import ClassifierEntry, HumanLabelEntry, SuccessEntry, TaskEntry, parse_rewards
from fleetrl.rewards.human_label import CommandSource, HumanLabelReward
from fleetrl.rewards.rule import SuccessReward, TaskReward


def build_reward(
    config: Sequence[Any],
    teleop: CommandSource | None = None,
    base_dir: str | Path | None = None,
    where: str = "rewards",
    own_worker: Reward | None = None,
) -> WeightedSum:
    """The weighted sum of the rewards `config` lists (dicts or parsed entries).

    `own_worker` is the env worker's handle on the run's reward worker (a `RemoteReward`): the
    entries marked `worker: own` are then left to it, and it is one part of the sum. Without it,
    every entry is built here, in this process (outside a run, or in the reward worker itself).

    `teleop` is the run's teleop device, needed by a human_label entry; it stays owned (connected,
    read for interventions, disconnected) by whoever passed it. Relative classifier paths are
    resolved against `base_dir` (default: the working directory). ConfigError naming the entry
    (`rewards[1].path: no such file`) when an entry cannot be built.
    """
    parts: list[tuple[float, Reward]] = []
    for i, entry in enumerate(parse_rewards(list(config), where)):
        at = f"{where}[{i}]"
        if own_worker is not None and entry.worker == "own":
            continue
        if isinstance(entry, SuccessEntry):
            parts.append((entry.weight, SuccessReward()))
        elif isinstance(entry, TaskEntry):
            parts.append((entry.weight, TaskReward()))
        elif isinstance(entry, ClassifierEntry):
            parts.append((1.0, _classifier(entry, at, base_dir)))
        elif isinstance(entry, HumanLabelEntry):
            parts.append((entry.weight, _human_label(entry, at, teleop)))
    if own_worker is not None:
        parts.append((1.0, own_worker))
    return WeightedSum(parts)


def _classifier(entry: ClassifierEntry, at: str, base_dir: str | Path | None) -> ClassifierReward:
    path = Path(entry.path)
    if base_dir is not None and not path.is_absolute():
        path = Path(base_dir) / path
    if not path.is_file():
        raise ConfigError(f"{at}.path: no such file: {path}")
    if entry.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ConfigError(f"{at}.device: {entry.device!r}, but torch sees no CUDA GPU on this machine")
    try:
        return ClassifierReward(path, mode=entry.mode, weight=entry.weight, threshold=entry.threshold,
                                ends_episode=entry.ends_episode, device=entry.device)
    except ClassifierFileError as err:
        raise ConfigError(f"{at}.path: {err}") from None


def _human_label(entry: HumanLabelEntry, at: str, teleop: CommandSource | None) -> HumanLabelReward:
    if teleop is None:
        raise ConfigError(f"{at}: human_label needs the run's teleop device, and none was given")
    name = getattr(teleop, "name", None)
    if entry.device is not None and isinstance(name, str) and name != entry.device:
        raise ConfigError(f"{at}.device: {entry.device!r}, but the run's teleop device is {name!r}")
    return HumanLabelReward(teleop, success_reward=entry.success_reward, failure_reward=entry.failure_reward,
                            wait_at_end_s=entry.wait_at_end_s)
