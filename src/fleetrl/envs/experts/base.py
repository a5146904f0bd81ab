"""The scripted expert interface."""

from __future__ import annotations

import abc

import numpy as np

from fleetrl.core.types import ACTION_DIM, Observation


class ScriptedExpert(abc.ABC):
    """Chooses the next action from the true task state, like a person watching the scene.

        expert = expert_for(env)
        obs, _ = env.reset(seed=0)
        while not done:
            obs, reward, terminated, truncated, info = env.step(expert.act(env.last_observation))

    Experts are stateless: each action depends only on the current observation, so an expert can
    take over in the middle of an episode (as a human intervention does).
    """

    def __init__(self, env) -> None:
        self.env = env

    def act(self, obs: Observation) -> np.ndarray:
        """The normalised action (in `env.action_space`) the expert would take now."""
        return self.env.actions.from_robot(self.robot_action(obs))

    @abc.abstractmethod
    def robot_action(self, obs: Observation) -> np.ndarray:
        """The expert's (7,) action in the robot's units (see `fleetrl.core.types.ACTION_DIM`)."""

    def move_towards(self, current: np.ndarray, target: np.ndarray, gripper: float) -> np.ndarray:
        """A robot action moving the hand from `current` to `target` at up to the env's step size."""
        action = np.zeros(ACTION_DIM)
        delta = np.asarray(target, dtype=np.float64) - current
        limit = self.env.actions.max_translation
        norm = float(np.linalg.norm(delta))
        action[:3] = delta * (limit / norm) if norm > limit else delta
        action[6] = gripper
        return action
