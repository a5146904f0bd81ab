"""A task: what a robot should do, independent of which robot does it.

A task names the simulated scene it needs (the props around a simulated robot), the features a
state-based policy sees, and when an episode has succeeded. It reads only the `Observation`, so
the same task runs on a local simulated robot, a served one, or (given a success signal that
does not need simulator state) a real one.
"""

from __future__ import annotations

import abc

import numpy as np

from fleetrl.core.types import Observation


class Task(abc.ABC):
    """One task. Subclasses set the class attributes and implement the three methods.

    `action_mode` selects the policy's action space: "xyz" (translation only, gripper held
    closed), "xyz_gripper" (translation + gripper) or "full" (translation, rotation, gripper).
    In the first two the environment holds the hand's starting orientation.
    """

    name: str
    scene: str
    max_episode_steps: int
    action_mode: str

    @abc.abstractmethod
    def state_features(self, obs: Observation) -> np.ndarray:
        """Task features appended to proprioception in "state" mode: float32 (state_dim,)."""

    @abc.abstractmethod
    def success(self, obs: Observation) -> bool:
        """True when the task is done in this observation."""

    @abc.abstractmethod
    def shaped_reward(self, obs: Observation) -> float:
        """A dense progress signal in [0, 1] for reward shaping (1.0 at success)."""

    @property
    @abc.abstractmethod
    def state_dim(self) -> int:
        """Length of `state_features`."""

    def require_task_state(self, obs: Observation, *keys: str) -> None:
        """Fail clearly when a robot does not report the simulator state this task reads."""
        missing = [key for key in keys if key not in obs.task_state]
        if missing:
            raise KeyError(
                f"task {self.name!r} needs task state {missing} that this robot does not report; "
                f"a simulated robot must be built with scene {self.scene!r}"
            )
