"""PickCube: grasp a 4 cm cube placed at a random spot on the table and lift it."""

from __future__ import annotations

import numpy as np

from fleetrl.core.types import Observation
from fleetrl.envs.task import Task

LIFT_HEIGHT = 0.06
"""Success: the cube's centre is this far (metres) above its resting height."""
CUBE_REST_Z = 0.02
"""The cube's centre height (metres) when it rests on the table (its half size)."""


class PickCube(Task):
    """Episodes last 100 control steps (10 s at 10 Hz); success ends the episode."""

    name = "pick_cube"
    scene = "pick_cube"
    max_episode_steps = 100
    action_mode = "xyz_gripper"

    @property
    def state_dim(self) -> int:
        return 6

    def state_features(self, obs: Observation) -> np.ndarray:
        self.require_task_state(obs, "cube_pos")
        cube = obs.task_state["cube_pos"]
        return np.concatenate([cube, cube - obs.ee_pos]).astype(np.float32)

    def lift(self, obs: Observation) -> float:
        return float(obs.task_state["cube_pos"][2] - CUBE_REST_Z)

    def success(self, obs: Observation) -> bool:
        self.require_task_state(obs, "cube_pos")
        return self.lift(obs) >= LIFT_HEIGHT

    def shaped_reward(self, obs: Observation) -> float:
        self.require_task_state(obs, "cube_pos")
        reach = float(np.linalg.norm(obs.task_state["cube_pos"] - obs.ee_pos))
        reaching = 1.0 - np.tanh(10.0 * reach)
        lifting = np.clip(self.lift(obs) / LIFT_HEIGHT, 0.0, 1.0)
        return float(0.5 * reaching + 0.5 * lifting) if not self.success(obs) else 1.0
