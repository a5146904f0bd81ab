"""The PegInsertion expert: line the peg up over the hole, then push it straight down."""

from __future__ import annotations

import numpy as np

from fleetrl.core.types import Observation
from fleetrl.envs.experts.base import ScriptedExpert

ALIGNED_XY = 0.001  # metres between peg and hole axes before descending (clearance is 1.5 mm a side)
CLEARANCE = 0.01  # metres the tip stays above the opening while lining up
ENTRY_STEP = 0.008  # metres per step while the tip enters the hole: slow, so it does not jam
PUSH_TO = 0.035  # metres below the opening the tip aims for


class PegInsertionExpert(ScriptedExpert):
    def robot_action(self, obs: Observation) -> np.ndarray:
        tip, hole = obs.task_state["peg_tip_pos"], obs.task_state["hole_pos"]
        hand = obs.ee_pos
        offset = tip - hole
        inside = offset[2] < 0.0 and np.linalg.norm(offset[:2]) < 0.005
        if inside or np.linalg.norm(offset[:2]) <= ALIGNED_XY:
            # Lined up (or already in): go down, slowly near the opening, correcting sideways drift.
            depth_step = ENTRY_STEP if offset[2] < CLEARANCE + ENTRY_STEP else np.inf
            target_z = max(hole[2] - PUSH_TO, tip[2] - depth_step)
            target_tip = np.array([hole[0], hole[1], target_z])
        else:
            # Line up above the opening; never drag the peg across the block.
            target_tip = np.array([hole[0], hole[1], max(tip[2], hole[2] + CLEARANCE)])
        return self.move_towards(hand, hand + (target_tip - tip), 1.0)
