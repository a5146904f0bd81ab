"""The rewards of a run, as a config list:

    rewards:
      - {type: success, weight: 1}                       # 1.0 when info["success"]
      - {type: classifier, path: success.pt, mode: replace, worker: own}   # in a reward worker
      - {type: human_label, device: keyboard}            # a person's success / failure keys
      - {type: task}                                     # the env's own reward

Entries are summed (see `build_reward`). Each runs in the env worker (`worker: env`, the default)
or in the run's reward worker (`worker: own`: one Ray actor that serves every env worker, see
`fleetrl.rewards.host` and `fleetrl.comm.ray_reward`); a human label always runs beside its
device, in the env worker. `parse_rewards` validates each entry against the model
its `type` names (the registry `REWARD_TYPES`), so an error reads `rewards[1].path: ...`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fleetrl.core.config import validate
from fleetrl.core.errors import ConfigError

WORKER_FIELD = Field(
    "env", description="Where the reward runs: 'env' (inside the env worker) or 'own' (the run's reward worker, a Ray actor)."
)


class SuccessEntry(BaseModel):
    """The task's own success test: `weight` on every step whose resulting state succeeds."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["success"] = Field(description="Reward type 'success'.")
    weight: float = Field(1.0, description="Reward of a successful step.")
    worker: Literal["env", "own"] = WORKER_FIELD


class TaskEntry(BaseModel):
    """The env's own reward (sparse or shaped, as its kwargs say), times `weight`."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["task"] = Field(description="Reward type 'task'.")
    weight: float = Field(1.0, description="Factor on the env's reward.")
    worker: Literal["env", "own"] = WORKER_FIELD


class ClassifierEntry(BaseModel):
    """A trained success classifier (`fleetrl reward train`) on the step's resulting frames."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["classifier"] = Field(description="Reward type 'classifier'.")
    path: str = Field(description="The model file written by `fleetrl reward train` (a relative path is taken from the working directory).")
    mode: Literal["replace", "add"] = Field("replace", description="'replace': weight * p(success); 'add': the env's reward plus that.")
    weight: float = Field(1.0, description="Factor on p(success) (or on the 0/1 decision with a threshold).")
    threshold: float | None = Field(
        None, gt=0, lt=1, description="None: the reward is p(success); a number: 1.0 when p(success) exceeds it, else 0.0."
    )
    ends_episode: bool = Field(
        False, description="End the episode (as a success) on the first step whose p(success) exceeds `threshold`, which must be set."
    )
    device: str = Field("cpu", pattern=r"^(cpu|cuda(:\d+)?)$", description="Where the model runs: cpu, or cuda[:N] (a GPU).")
    worker: Literal["env", "own"] = WORKER_FIELD

    @model_validator(mode="after")
    def _ends_episode_needs_threshold(self) -> ClassifierEntry:
        if self.ends_episode and self.threshold is None:
            raise ValueError("ends_episode needs a threshold (the p(success) above which the episode has succeeded)")
        return self


class HumanLabelEntry(BaseModel):
    """A person's label of the episode from the run's teleop device; a label ends the episode."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["human_label"] = Field(description="Reward type 'human_label'.")
    device: str | None = Field(None, description="The teleop device the labels come from (e.g. keyboard); checked against the device the run opens.")
    weight: float = Field(1.0, description="Factor on the label's reward.")
    success_reward: float = Field(1.0, description="Reward on the step a person labels the episode a success.")
    failure_reward: float = Field(0.0, description="Reward on the step a person labels it a failure.")
    wait_at_end_s: float = Field(
        0.0, ge=0, le=600, description="When an episode ends unlabelled, wait this long (seconds) for the person's label of it."
    )
    worker: Literal["env"] = Field("env", description="Always 'env': the labels come from the device beside the env worker.")


RewardEntry = SuccessEntry | TaskEntry | ClassifierEntry | HumanLabelEntry

REWARD_TYPES: dict[str, type[BaseModel]] = {
    "success": SuccessEntry,
    "task": TaskEntry,
    "classifier": ClassifierEntry,
    "human_label": HumanLabelEntry,
}


def parse_rewards(data: Any, where: str = "rewards") -> list[RewardEntry]:
    """Validate a list of reward entries (dicts, or entries already parsed); ConfigError naming
    the entry and key (`rewards[1].path: Field required`) when one is wrong."""
    if not isinstance(data, list) or not data:
        raise ConfigError(f"{where}: expected a non-empty list of reward entries, got {data!r}")
    entries: list[RewardEntry] = []
    for i, item in enumerate(data):
        if isinstance(item, BaseModel) and type(item) in REWARD_TYPES.values():
            entries.append(item)  # type: ignore[arg-type]
            continue
        kind = item.get("type") if isinstance(item, dict) else None
        if kind not in REWARD_TYPES:
            known = ", ".join(sorted(REWARD_TYPES))
            got = "no type" if kind is None else f"unknown type {kind!r}"
            raise ConfigError(f"{where}[{i}].type: {got}; known reward types: {known}")
        if kind == "human_label" and item.get("worker", "env") != "env":
            raise ConfigError(
                f"{where}[{i}].worker: a human_label reward reads the teleop device beside the robot, "
                f"so it runs in the env worker (worker: env), not {item.get('worker')!r}"
            )
        entries.append(validate(REWARD_TYPES[kind], item, where=f"{where}[{i}]"))  # type: ignore[arg-type]
    return entries


def in_own_worker(entries: list[RewardEntry]) -> list[RewardEntry]:
    """The entries that run in the reward worker (`worker: own`)."""
    return [entry for entry in entries if entry.worker == "own"]
