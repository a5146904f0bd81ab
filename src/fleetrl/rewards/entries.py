"""fleetrl's own reward kinds, as run-config entries (registered in `fleetrl.rewards.config.REWARDS`).

Each `build` imports its reward's implementation, so this module loads without torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from fleetrl.core.errors import ConfigError
from fleetrl.rewards.config import RewardContext, RewardEntry

if TYPE_CHECKING:
    from fleetrl.rewards.base import Reward


class SuccessEntry(RewardEntry):
    """The task's own success test: `weight` on every step whose resulting state succeeds (read
    from info under the env's `success_key`)."""

    type: Literal["success"] = Field(description="Reward type 'success'.")
    weight: float = Field(1.0, description="Reward of a successful step.")

    def build(self, context: RewardContext) -> Reward:
        from fleetrl.rewards.rule import SuccessReward

        return SuccessReward(key=context.success_key)


class TaskEntry(RewardEntry):
    """The env's own reward (sparse or shaped, as its kwargs say), times `weight`."""

    type: Literal["task"] = Field(description="Reward type 'task'.")
    weight: float = Field(1.0, description="Factor on the env's reward.")

    def build(self, context: RewardContext) -> Reward:
        from fleetrl.rewards.rule import TaskReward

        return TaskReward()


class ClassifierEntry(RewardEntry):
    """A trained success classifier (`fleetrl reward train`) on the step's resulting frames."""

    needs_frames = True

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

    @model_validator(mode="after")
    def _ends_episode_needs_threshold(self) -> ClassifierEntry:
        if self.ends_episode and self.threshold is None:
            raise ValueError("ends_episode needs a threshold (the p(success) above which the episode has succeeded)")
        return self

    @property
    def factor(self) -> float:
        return 1.0  # ClassifierReward applies `weight` itself: in mode 'add' it must not scale the env's reward

    @property
    def needs_gpu(self) -> bool:
        return self.device.startswith("cuda")

    def build(self, context: RewardContext) -> Reward:
        from fleetrl.rewards.classifier import ClassifierFileError, ClassifierReward

        path = context.resolve(self.path)
        if not path.is_file():
            raise ConfigError(f"{context.at}.path: no such file: {path}")
        if self.needs_gpu:
            import torch

            if not torch.cuda.is_available():
                raise ConfigError(f"{context.at}.device: {self.device!r}, but torch sees no CUDA GPU on this machine")
        try:
            return ClassifierReward(path, mode=self.mode, weight=self.weight, threshold=self.threshold,
                                    ends_episode=self.ends_episode, device=self.device)
        except ClassifierFileError as err:
            raise ConfigError(f"{context.at}.path: {err}") from None


class HumanLabelEntry(RewardEntry):
    """A person's label of the episode from the run's teleop device; a label ends the episode."""

    needs_teleop = True

    type: Literal["human_label"] = Field(description="Reward type 'human_label'.")
    device: str | None = Field(
        None, description="The teleop device the labels come from (e.g. keyboard); checked against the device the run opens."
    )
    weight: float = Field(1.0, description="Factor on the label's reward.")
    success_reward: float = Field(1.0, description="Reward on the step a person labels the episode a success.")
    failure_reward: float = Field(0.0, description="Reward on the step a person labels it a failure.")
    wait_at_end_s: float = Field(
        0.0, ge=0, le=600, description="When an episode ends unlabelled, wait this long (seconds) for the person's label of it."
    )

    def build(self, context: RewardContext) -> Reward:
        from fleetrl.rewards.human_label import HumanLabelReward

        name = getattr(context.teleop, "name", None)
        if self.device is not None and isinstance(name, str) and name != self.device:
            raise ConfigError(f"{context.at}.device: {self.device!r}, but the run's teleop device is {name!r}")
        return HumanLabelReward(context.teleop, success_reward=self.success_reward, failure_reward=self.failure_reward,
                                wait_at_end_s=self.wait_at_end_s)
