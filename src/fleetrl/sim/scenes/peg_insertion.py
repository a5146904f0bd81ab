"""Insert a held peg into a square hole.

The robot starts holding a square peg. The peg is rigidly attached to the hand (a child body of
the hand, so it never slips, whatever the gripper does); the fingers close on it at the start.
A fixed block with a square hole stands on the table; the hole's centre is drawn uniformly within
`HOLE_JITTER` of the task origin. The hand starts pointing down with its tool centre
`START_HAND_HEIGHT` above the hole's opening (the tip `PEG_TIP_BELOW_TCP` lower), its xy within
`START_JITTER` of the hole's.
The peg's and hole's sides are aligned with the base x/y axes, so a hand that keeps its start
orientation only has to translate. Inserting means moving the peg tip down into the hole.

`task_state` keys (base frame, metres): "peg_tip_pos" (3,), the centre of the peg's bottom face;
"hole_pos" (3,), the centre of the hole's top opening. The tip is inserted by
`hole_pos[2] - peg_tip_pos[2]` once it is inside the opening.
"""

from __future__ import annotations

import mujoco
import numpy as np

from fleetrl.sim.scenes import START_JITTER, Scene

PEG_HALF_WIDTH = 0.012
"""Half the peg's square cross-section, metres."""

PEG_LENGTH = 0.08
"""Length of the peg, metres."""

PEG_TIP_BELOW_TCP = 0.045
"""How far the peg's tip sticks out below the hand's tool centre, metres."""

HOLE_CLEARANCE = 0.003
"""Hole width minus peg width, metres (1.5 mm each side)."""

HOLE_HALF_WIDTH = PEG_HALF_WIDTH + HOLE_CLEARANCE / 2
"""Half the hole's square opening, metres."""

HOLE_DEPTH = 0.04
"""Depth of the hole, metres; the block's top is at this height and the hole goes to the table."""

BLOCK_HALF_WIDTH = 0.05
"""Half the block's square footprint, metres."""

HOLE_JITTER = 0.02
"""Half-width of the uniform square the hole's xy is drawn from, metres."""

START_HAND_HEIGHT = (0.06, 0.09)
"""Range of the tool centre's start height above the hole's opening, metres."""


class PegInsertion(Scene):
    """A peg in the hand (body "peg") and a block with a hole (mocap body "hole_block")."""

    name = "peg_insertion"
    start_gripper = 1.0

    def add_props(self, spec: mujoco.MjSpec, origin: tuple[float, float]) -> None:
        tcp = spec.site("tcp")
        peg = spec.body("hand").add_body(name="peg", pos=tcp.pos, quat=tcp.quat, gravcomp=1.0)
        peg.add_geom(
            name="peg",
            type=mujoco.mjtGeom.mjGEOM_BOX,
            size=[PEG_HALF_WIDTH, PEG_HALF_WIDTH, PEG_LENGTH / 2],
            pos=[0.0, 0.0, PEG_TIP_BELOW_TCP - PEG_LENGTH / 2],
            mass=0.05,
            friction=[0.3, 0.005, 0.0001],
            # Set explicitly: a geom added under the hand inherits the robot's default class,
            # whose arm geoms do not collide.
            contype=1,
            conaffinity=1,
            group=0,
            rgba=[0.2, 0.45, 0.85, 1.0],
        )
        block = spec.worldbody.add_body(name="hole_block", pos=[origin[0], origin[1], 0.0], mocap=True)
        wall = (BLOCK_HALF_WIDTH - HOLE_HALF_WIDTH) / 2  # half-thickness of each wall
        offset = HOLE_HALF_WIDTH + wall
        walls = [
            ([offset, 0.0], [wall, BLOCK_HALF_WIDTH]),
            ([-offset, 0.0], [wall, BLOCK_HALF_WIDTH]),
            ([0.0, offset], [HOLE_HALF_WIDTH, wall]),
            ([0.0, -offset], [HOLE_HALF_WIDTH, wall]),
        ]
        for i, (xy, half) in enumerate(walls):
            block.add_geom(
                name=f"hole_wall{i}",
                type=mujoco.mjtGeom.mjGEOM_BOX,
                size=[half[0], half[1], HOLE_DEPTH / 2],
                pos=[xy[0], xy[1], HOLE_DEPTH / 2],
                friction=[0.3, 0.005, 0.0001],
                rgba=[0.55, 0.4, 0.25, 1.0],
            )

    def reset(
        self, model: mujoco.MjModel, data: mujoco.MjData, rng: np.random.Generator, home: np.ndarray
    ) -> np.ndarray:
        hole_xy = home[:2] + rng.uniform(-HOLE_JITTER, HOLE_JITTER, size=2)
        data.mocap_pos[model.body("hole_block").mocapid[0]] = [hole_xy[0], hole_xy[1], 0.0]
        hand_height = HOLE_DEPTH + rng.uniform(*START_HAND_HEIGHT)
        hand_xy = hole_xy + rng.uniform(-START_JITTER, START_JITTER, size=2)
        return np.array([hand_xy[0], hand_xy[1], hand_height])

    def task_state(self, model: mujoco.MjModel, data: mujoco.MjData) -> dict[str, np.ndarray]:
        peg = model.body("peg").id
        tip = data.xpos[peg] + data.xmat[peg].reshape(3, 3) @ np.array([0.0, 0.0, PEG_TIP_BELOW_TCP])
        block = model.body("hole_block").id
        hole = data.xpos[block] + np.array([0.0, 0.0, HOLE_DEPTH])
        return {"peg_tip_pos": tip, "hole_pos": hole}
