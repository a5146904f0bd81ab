"""How fast a robot steps: unpaced `send_action` + `get_observation` cycles per second.

`fleetrl bench robots` calls `measure_robot_speed` for each robot type; the figure bounds how much
experience one simulated robot can feed a learner per second of wall clock.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from fleetrl.hardware.registry import make_robot

OBS_KINDS = ("state", "pixels")

WARMUP_STEPS = 5
"""Steps run before timing, so that first-call costs (GL context, caches) are not counted."""


def measure_robot_speed(robot_type: str, obs: str, steps: int) -> dict[str, Any]:
    """Step an unpaced `robot_type` (e.g. "sim_panda") `steps` times and time it.

    `obs` is "state" (no cameras) or "pixels" (the robot's default cameras, two 128x128 for the
    simulated arms). Actions are small seeded random moves, so the hand wanders in its workspace.
    Returns {"robot", "obs", "steps", "steps_per_s"}.
    """
    if obs not in OBS_KINDS:
        raise ValueError(f"obs must be one of {OBS_KINDS}, got {obs!r}")
    if steps <= 0:
        raise ValueError("steps must be positive")
    config: dict[str, Any] = {"type": robot_type, "paced": False}
    if obs == "state":
        config["cameras"] = []
    robot = make_robot(config)
    rng = np.random.default_rng(0)
    actions = rng.uniform(-1.0, 1.0, size=(steps + WARMUP_STEPS, 7)) * [0.01, 0.01, 0.01, 0.05, 0.05, 0.05, 0.5]
    actions[:, 6] += 0.5
    with robot:
        robot.reset(seed=0)
        for action in actions[:WARMUP_STEPS]:
            robot.send_action(action)
            robot.get_observation()
        start = time.perf_counter()
        for action in actions[WARMUP_STEPS:]:
            robot.send_action(action)
            robot.get_observation()
        elapsed = time.perf_counter() - start
    return {"robot": robot_type, "obs": obs, "steps": steps, "steps_per_s": steps / elapsed}
