"""PegInsertion: the robot holds a peg and inserts it into a hole whose position varies."""

from __future__ import annotations

import numpy as np

from fleetrl.core.types import Observation
from fleetrl.envs.task import Task

INSERTION_DEPTH = 0.02
"""Success: the peg's tip is at least this deep (metres) below the hole's opening..."""
XY_TOLERANCE = 0.01
"""...and within this horizontal distance (metres) of the hole's axis."""


class PegInsertion(Task):
    """Episodes last 100 control steps (10 s at 10 Hz), like the reference's peg insertion."""

    name = "peg_insertion"
    scene = "peg_insertion"
    max_episode_steps = 100
    action_mode = "xyz"

    @property
    def state_dim(self) -> int:
        return 6

    def state_features(self, obs: Observation) -> np.ndarray:
        self.require_task_state(obs, "peg_tip_pos", "hole_pos")
        tip, hole = obs.task_state["peg_tip_pos"], obs.task_state["hole_pos"]
        return np.concatenate([hole, tip - hole]).astype(np.float32)

    def success(self, obs: Observation) -> bool:
        self.require_task_state(obs, "peg_tip_pos", "hole_pos")
        offset = obs.task_state["peg_tip_pos"] - obs.task_state["hole_pos"]
        return bool(np.linalg.norm(offset[:2]) <= XY_TOLERANCE and -offset[2] >= INSERTION_DEPTH)

    def shaped_reward(self, obs: Observation) -> float:
        if self.success(obs):
            return 1.0
        offset = obs.task_state["peg_tip_pos"] - obs.task_state["hole_pos"]
        approach = 1.0 - np.tanh(10.0 * np.linalg.norm(offset))
        aligned = np.linalg.norm(offset[:2]) <= XY_TOLERANCE
        depth = np.clip(-offset[2] / INSERTION_DEPTH, 0.0, 1.0) if aligned else 0.0
        return float(0.5 * approach + 0.5 * depth)
