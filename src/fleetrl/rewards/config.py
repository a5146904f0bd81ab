"""The rewards of a run, as a config list:

    rewards:
      - {type: success, weight: 1}                       # 1.0 when info["success"]
      - {type: classifier, path: success.pt, mode: replace}
      - {type: human_label, device: keyboard}            # a person's success / failure keys
      - {type: task}                                     # the env's own reward

Entries are summed (see `build_reward`). `parse_rewards` validates each entry against the model
its `type` names (the registry `REWARD_TYPES`), so an error reads `rewards[1].path: ...`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from fleetrl.core.config import validate
from fleetrl.core.errors import ConfigError


class SuccessEntry(BaseModel):
    """The task's own success test: `weight` on every step whose resulting state succeeds."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["success"] = Field(description="Reward type 'success'.")
    weight: float = Field(1.0, description="Reward of a successful step.")


class TaskEntry(BaseModel):
    """The env's own reward (sparse or shaped, as its kwargs say), times `weight`."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["task"] = Field(description="Reward type 'task'.")
    weight: float = Field(1.0, description="Factor on the env's reward.")


class ClassifierEntry(BaseModel):
    """A trained success classifier (`fleetrl reward train`) on the step's resulting frames."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["classifier"] = Field(description="Reward type 'classifier'.")
    path: str = Field(description="The model file written by `fleetrl reward train` (relative paths: to the config's folder).")
    mode: Literal["replace", "add"] = Field("replace", description="'replace': weight * p(success); 'add': the env's reward plus that.")
    weight: float = Field(1.0, description="Factor on p(success) (or on the 0/1 decision with a threshold).")
    threshold: float | None = Field(
        None, gt=0, lt=1, description="None: the reward is p(success); a number: 1.0 when p(success) exceeds it, else 0.0."
    )


class HumanLabelEntry(BaseModel):
    """A person's label of the episode from the run's teleop device; a label ends the episode."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["human_label"] = Field(description="Reward type 'human_label'.")
    device: str | None = Field(None, description="The teleop device the labels come from (e.g. keyboard); checked against the device the run opens.")
    weight: float = Field(1.0, description="Factor on the label's reward.")
    success_reward: float = Field(1.0, description="Reward on the step a person labels the episode a success.")
    failure_reward: float = Field(0.0, description="Reward on the step a person labels it a failure.")


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
        entries.append(validate(REWARD_TYPES[kind], item, where=f"{where}[{i}]"))  # type: ignore[arg-type]
    return entries
