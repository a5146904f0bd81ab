"""The PickCube expert: over the cube, down, close, lift."""

from __future__ import annotations

import numpy as np

from fleetrl.core.types import Observation
from fleetrl.envs.experts.base import ScriptedExpert

HOVER = 0.06  # metres above the cube centre while moving across
ALIGNED_XY = 0.008  # metres: close enough over the cube to descend
AT_GRASP_Z = 0.005  # metres between hand and cube centre heights: close enough to grasp
CLOSED_ON_CUBE = 0.3  # measured gripper closure beyond which the fingers hold the cube
LIFT_TO = 0.15  # metres above the table to lift the cube to

OPEN, CLOSED = 0.0, 1.0


class PickCubeExpert(ScriptedExpert):
    def robot_action(self, obs: Observation) -> np.ndarray:
        cube = obs.task_state["cube_pos"]
        hand = obs.ee_pos
        offset_xy = float(np.linalg.norm(cube[:2] - hand[:2]))
        height_above = float(hand[2] - cube[2])
        holding = offset_xy < 0.02 and abs(height_above) < 0.025 and obs.gripper > CLOSED_ON_CUBE
        if holding:
            return self.move_towards(hand, [hand[0], hand[1], LIFT_TO], CLOSED)
        if offset_xy > ALIGNED_XY:
            hover_z = max(cube[2] + HOVER, hand[2]) if offset_xy > 0.03 else cube[2] + HOVER
            return self.move_towards(hand, [cube[0], cube[1], hover_z], OPEN)
        if height_above > AT_GRASP_Z:
            return self.move_towards(hand, cube, OPEN)
        return self.move_towards(hand, hand, CLOSED)
