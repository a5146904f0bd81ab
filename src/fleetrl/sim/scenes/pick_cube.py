"""Pick up a cube: a 4 cm cube lies at a random place and yaw in front of the robot.

Reset: the cube's centre is drawn uniformly from a `CUBE_RANGE` x `CUBE_RANGE` square centred on
the task origin, with a uniform random yaw; the hand starts open, pointing down, within
`START_JITTER` of the robot's home pose above the task origin.

`task_state` keys (base frame): "cube_pos" (3,) metres, centre of the cube; "cube_quat" (4,) wxyz.
"""

from __future__ import annotations

import mujoco
import numpy as np

from fleetrl.sim.scenes import START_JITTER, Scene

CUBE_HALF_SIZE = 0.02
"""Half the cube's edge, metres (a 4 cm cube)."""

CUBE_RANGE = 0.2
"""Edge of the square the cube's centre is drawn from, metres, centred on the task origin."""

CUBE_MASS = 0.05
"""Mass of the cube, kg."""


class PickCube(Scene):
    """A free cube on the table (body "cube", free joint "cube_joint")."""

    name = "pick_cube"

    def add_props(self, spec: mujoco.MjSpec, origin: tuple[float, float]) -> None:
        cube = spec.worldbody.add_body(name="cube", pos=[origin[0], origin[1], CUBE_HALF_SIZE])
        cube.add_freejoint(name="cube_joint")
        cube.add_geom(
            name="cube",
            type=mujoco.mjtGeom.mjGEOM_BOX,
            size=[CUBE_HALF_SIZE] * 3,
            mass=CUBE_MASS,
            friction=[1.0, 0.02, 0.002],
            condim=4,
            rgba=[0.85, 0.2, 0.2, 1.0],
        )

    def reset(
        self, model: mujoco.MjModel, data: mujoco.MjData, rng: np.random.Generator, home: np.ndarray
    ) -> np.ndarray:
        xy = home[:2] + rng.uniform(-CUBE_RANGE / 2, CUBE_RANGE / 2, size=2)
        yaw = rng.uniform(-np.pi, np.pi)
        adr = model.jnt_qposadr[model.joint("cube_joint").id]
        data.qpos[adr : adr + 3] = [xy[0], xy[1], CUBE_HALF_SIZE]
        data.qpos[adr + 3 : adr + 7] = [np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)]
        return home + rng.uniform(-START_JITTER, START_JITTER, size=3)

    def task_state(self, model: mujoco.MjModel, data: mujoco.MjData) -> dict[str, np.ndarray]:
        body = model.body("cube").id
        return {"cube_pos": data.xpos[body].copy(), "cube_quat": data.xquat[body].copy()}
