"""Scene contracts the task layer relies on: keys, ranges, and that the tasks can be solved.

The scripted pick and insertion below are the simplest controllers a task could use: they read
`ee_pos` and `task_state` and send translation-only actions, the hand pointing down throughout.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from fleetrl.hardware.registry import make_robot
from fleetrl.sim.scenes import START_JITTER, make_scene
from fleetrl.sim.scenes import peg_insertion as peg
from fleetrl.sim.scenes import pick_cube as cube

ROBOTS = ["sim_panda", "sim_arx"]


@pytest.fixture
def robots() -> Iterator[dict]:
    built: dict = {}

    def build(robot_type: str, scene: str):
        robot = make_robot({"type": robot_type, "scene": scene, "cameras": []})
        robot.connect()
        built[(robot_type, scene)] = robot
        return robot

    yield build
    for robot in built.values():
        robot.disconnect()


def _step_to(robot, obs, goal, gripper: float, max_step: float = 0.03):
    delta = np.asarray(goal) - obs.ee_pos
    norm = np.linalg.norm(delta)
    if norm > max_step:
        delta *= max_step / norm
    robot.send_action(np.concatenate([delta, [0.0, 0.0, 0.0, gripper]]))
    return robot.get_observation()


def test_unknown_scene_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="pick_cube"):
        make_scene("stack")


@pytest.mark.parametrize("robot_type", ROBOTS)
def test_pick_cube_reset_ranges(robots, robot_type) -> None:
    robot = robots(robot_type, "pick_cube")
    origin = np.array(robot.config.task_origin)
    yaws = []
    for seed in range(8):
        obs = robot.reset(seed=seed)
        pos, quat = obs.task_state["cube_pos"], obs.task_state["cube_quat"]
        assert pos.shape == (3,) and quat.shape == (4,)
        assert np.all(np.abs(pos[:2] - origin) <= cube.CUBE_RANGE / 2)
        assert pos[2] == pytest.approx(cube.CUBE_HALF_SIZE, abs=1e-3)
        assert np.all(np.abs(obs.ee_pos - robot.home) <= START_JITTER + 1e-3)
        assert obs.gripper < 0.01
        yaws.append(2 * np.arctan2(quat[3], quat[0]))
    assert np.ptp(yaws) > 0.5  # the yaw is random


@pytest.mark.parametrize("robot_type", ROBOTS)
def test_peg_insertion_reset_ranges(robots, robot_type) -> None:
    robot = robots(robot_type, "peg_insertion")
    origin = np.array(robot.config.task_origin)
    for seed in range(6):
        obs = robot.reset(seed=seed)
        tip, hole = obs.task_state["peg_tip_pos"], obs.task_state["hole_pos"]
        assert np.all(np.abs(hole[:2] - origin) <= peg.HOLE_JITTER + 1e-9)
        assert hole[2] == pytest.approx(peg.HOLE_DEPTH)
        above = obs.ee_pos[2] - hole[2]
        assert peg.START_HAND_HEIGHT[0] - 2e-3 <= above <= peg.START_HAND_HEIGHT[1] + 2e-3
        assert np.all(np.abs(obs.ee_pos[:2] - hole[:2]) <= START_JITTER + 1e-3)
        np.testing.assert_allclose(tip, obs.ee_pos - [0.0, 0.0, peg.PEG_TIP_BELOW_TCP], atol=2e-3)
        assert obs.gripper > 0.3  # closed on the peg
    assert 0.002 <= 2 * (peg.HOLE_HALF_WIDTH - peg.PEG_HALF_WIDTH) <= 0.004


@pytest.mark.parametrize("robot_type", ROBOTS)
def test_scripted_pick_lifts_the_cube(robots, robot_type) -> None:
    robot = robots(robot_type, "pick_cube")
    for seed in (0, 1):
        obs = robot.reset(seed=seed)
        start = obs.task_state["cube_pos"].copy()
        for _ in range(14):
            obs = _step_to(robot, obs, obs.task_state["cube_pos"] + [0, 0, 0.08], 0.0)
        for _ in range(10):
            obs = _step_to(robot, obs, obs.task_state["cube_pos"], 0.0)
        for _ in range(5):
            obs = _step_to(robot, obs, obs.ee_pos, 1.0)
        for _ in range(4):
            obs = _step_to(robot, obs, obs.ee_pos + [0, 0, 0.03], 1.0)
        assert obs.task_state["cube_pos"][2] - start[2] >= 0.06


@pytest.mark.parametrize("robot_type", ROBOTS)
def test_scripted_insertion_puts_the_peg_into_the_hole(robots, robot_type) -> None:
    robot = robots(robot_type, "peg_insertion")
    obs = robot.reset(seed=3)
    for target, steps, max_step in (([0, 0, 0.02], 10, 0.03), ([0, 0, -0.03], 10, 0.01)):
        for _ in range(steps):
            tip, hole = obs.task_state["peg_tip_pos"], obs.task_state["hole_pos"]
            obs = _step_to(robot, obs, hole + target + (obs.ee_pos - tip), 1.0, max_step)
    tip, hole = obs.task_state["peg_tip_pos"], obs.task_state["hole_pos"]
    assert hole[2] - tip[2] >= 0.02
    assert np.linalg.norm(tip[:2] - hole[:2]) <= peg.HOLE_HALF_WIDTH - peg.PEG_HALF_WIDTH + 1e-4


def test_peg_misaligned_by_more_than_the_clearance_is_blocked(robots) -> None:
    robot = robots("sim_arx", "peg_insertion")
    obs = robot.reset(seed=3)
    offset = np.array([0.005, 0.0, 0.0])
    for target, steps, max_step in (([0, 0, 0.02], 10, 0.03), ([0, 0, -0.03], 10, 0.01)):
        for _ in range(steps):
            tip, hole = obs.task_state["peg_tip_pos"], obs.task_state["hole_pos"]
            obs = _step_to(robot, obs, hole + offset + target + (obs.ee_pos - tip), 1.0, max_step)
    tip, hole = obs.task_state["peg_tip_pos"], obs.task_state["hole_pos"]
    assert hole[2] - tip[2] < 0.005
