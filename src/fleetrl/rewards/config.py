"""The rewards of a run, as a config list:

    rewards:
      - {type: success, weight: 1}                       # 1.0 when the env reports success
      - {type: classifier, path: success.pt, mode: replace, worker: own}   # in a reward worker
      - {type: human_label, device: keyboard}            # a person's success / failure keys
      - {type: task}                                     # the env's own reward

Entries are summed (see `fleetrl.rewards.build.build_reward`). Each runs in the env worker
(`worker: env`, the default) or in the run's reward worker (`worker: own`: one Ray actor that
serves every env worker, see `fleetrl.rewards.host` and `fleetrl.comm.ray_reward`).

Each entry is a config class (a `RewardEntry` subclass) that builds its reward, importing the
implementation only then, so reading a config never loads torch. `type` names the class in the
registry `REWARDS`; a new reward is one module with its entry class plus one line there, or
`register_reward("name", MyEntry)` from the user's own module (listed in the run config's
`imports`). `parse_rewards` validates a list, so an error reads `rewards[1].path: ...`.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SerializeAsAny, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from fleetrl.core.errors import ConfigError
from fleetrl.core.registry import Registry

if TYPE_CHECKING:
    from fleetrl.rewards.base import Reward

REWARDS = Registry("reward", {
    "success": "fleetrl.rewards.entries:SuccessEntry",
    "task": "fleetrl.rewards.entries:TaskEntry",
    "classifier": "fleetrl.rewards.entries:ClassifierEntry",
    "human_label": "fleetrl.rewards.entries:HumanLabelEntry",
})


@dataclass(frozen=True)
class RewardContext:
    """What building one entry may use, from the process that builds it.

    `at` names the entry in errors (`rewards[1]`). `teleop` is the run's teleop device (a
    `fleetrl.rewards.human_label.CommandSource`), None when the run opens none; it stays owned
    (connected, read, disconnected) by whoever passed it. `base_dir` anchors relative paths (None:
    the working directory). `success_key` is the info key that says the task succeeded (see
    `fleetrl.envs.success`).
    """

    at: str = "rewards"
    teleop: Any = None
    base_dir: str | Path | None = None
    success_key: str | None = None

    def resolve(self, path: str | Path) -> Path:
        """`path`, taken from `base_dir` when it is relative."""
        path = Path(path)
        return Path(self.base_dir) / path if self.base_dir is not None and not path.is_absolute() else path


class RewardEntry(BaseModel, abc.ABC):
    """One entry of a run's `rewards:` list: a reward kind's config, which builds that reward.

        class MyEntry(RewardEntry):
            type: Literal["my_reward"] = Field("my_reward", description="Reward type 'my_reward'.")
            def build(self, context: RewardContext) -> Reward:
                from my_package.reward import MyReward     # heavy imports here, not at the top
                return MyReward(key=context.success_key)
        register_reward("my_reward", MyEntry)

    A kind declares what it needs instead of being recognised by name: `needs_frames` (camera
    frames of each step, rendered for it when the policy sees state only), `needs_teleop` (the
    run's teleop device, so it always runs in the env worker, beside the device).
    """

    model_config = ConfigDict(extra="forbid")

    needs_frames: ClassVar[bool] = False
    needs_teleop: ClassVar[bool] = False

    type: str = Field(description="The reward kind (a name in fleetrl.rewards.config.REWARDS).")
    weight: float = Field(1.0, description="Factor on this entry's reward in the run's sum.")
    worker: Literal["env", "own"] = Field(
        "env", description="Where the reward runs: 'env' (inside the env worker) or 'own' (the run's reward worker, a Ray actor)."
    )

    @field_validator("worker")
    @classmethod
    def _beside_the_device(cls, value: str, info: ValidationInfo) -> str:
        if cls.needs_teleop and value != "env":
            raise PydanticCustomError(
                "beside_the_device",
                "a {kind} reward reads the teleop device beside the robot, so it runs in the env worker (worker: env), not '{value}'",
                {"kind": info.data.get("type", cls.__name__), "value": value},
            )
        return value

    @property
    def factor(self) -> float:
        """This entry's factor in the run's sum: `weight`, unless the kind's reward applies it itself."""
        return self.weight

    @property
    def needs_gpu(self) -> bool:
        """Whether the reward runs on a GPU (the reward worker then asks Ray for one)."""
        return False

    @abc.abstractmethod
    def build(self, context: RewardContext) -> Reward:
        """This entry's reward, built now in this process; `ConfigError` naming `context.at` and
        the key when it cannot be (a missing file, a device that is not there)."""


# The type of a config field holding reward entries (`RunConfig.rewards`). The registry looks each
# `type` up when the config is validated, so kinds registered at run time count; SerializeAsAny
# makes a dump write each kind's own fields, not only the base class's.
RewardList = list[Annotated[SerializeAsAny[RewardEntry], BeforeValidator(REWARDS.validator())]]


def register_reward(name: str, entry_class: type[RewardEntry]) -> None:
    """Add reward kind `name`, configured and built by `entry_class`, from the user's own module.

    `ValueError` when `name` is taken by another class; `TypeError` when `entry_class` is not a
    `RewardEntry`."""
    if not (isinstance(entry_class, type) and issubclass(entry_class, RewardEntry)):
        raise TypeError(f"reward {name!r}: {entry_class!r} is not a RewardEntry subclass")
    REWARDS.register(name, entry_class)


def parse_rewards(data: Any, where: str = "rewards") -> list[RewardEntry]:
    """Validate a list of reward entries (dicts, or entries already parsed); ConfigError naming
    the entry and key (`rewards[1].path: Field required`) when one is wrong."""
    if not isinstance(data, Sequence) or isinstance(data, str) or not data:
        raise ConfigError(f"{where}: expected a non-empty list of reward entries, got {data!r}")
    return [REWARDS.parse(item, f"{where}[{i}]") for i, item in enumerate(data)]  # type: ignore[misc]


def in_own_worker(entries: list[RewardEntry]) -> list[RewardEntry]:
    """The entries that run in the reward worker (`worker: own`)."""
    return [entry for entry in entries if entry.worker == "own"]
