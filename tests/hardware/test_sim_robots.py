"""The simulated Panda and ARX L5 behind the Robot contract: build, reset, cameras, control, safety."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import mujoco
import numpy as np
import pytest

from fleetrl.core.errors import ConfigError, RobotConnectionError, UnsafeActionError
from fleetrl.hardware.registry import make_robot, parse_robot_config
from fleetrl.hardware.robots.sim_arm import SimArm
from fleetrl.hardware.robots.sim_arx import ARX_L5, SimArx
from fleetrl.hardware.robots.sim_panda import PANDA, SimPanda
from fleetrl.sim.controller import quat_error

ROBOTS = ["sim_panda", "sim_arx"]
STATE_ONLY: dict = {"cameras": []}


@pytest.fixture
def make_sim() -> Iterator[Callable[..., SimArm]]:
    """Builds and connects simulated robots; disconnects every one of them afterwards."""
    robots: list[SimArm] = []

    def build(robot_type: str, **config) -> SimArm:
        robot = make_robot({"type": robot_type, **config})
        robots.append(robot)
        robot.connect()
        return robot

    yield build
    for robot in robots:
        robot.disconnect()


def _move(robot: SimArm, delta, steps: int, gripper: float = 0.0) -> None:
    for _ in range(steps):
        robot.send_action(np.concatenate([delta, [0.0, 0.0, 0.0, gripper]]))


def test_registry_builds_both_robots_with_their_specs() -> None:
    panda = make_robot({"type": "sim_panda", "scene": "pick_cube"})
    arx = make_robot({"type": "sim_arx"})
    assert isinstance(panda, SimPanda) and isinstance(arx, SimArx)
    assert (panda.spec.kind, panda.spec.dof, panda.spec.scene) == ("sim_panda", 7, "pick_cube")
    assert (arx.spec.kind, arx.spec.dof, arx.spec.scene) == ("sim_arx", 6, "empty")
    assert [c.name for c in panda.spec.cameras] == ["wrist", "scene"]
    assert panda.spec.control_hz == 10.0 and not panda.paced
    assert arx.limits.workspace_high[0] < panda.limits.workspace_high[0]  # the L5 reaches less far


def test_bad_scene_fails_at_load_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"robot\.scene"):
        parse_robot_config({"type": "sim_arx", "scene": "stack_blocks"})


@pytest.mark.parametrize("arm", [PANDA, ARX_L5], ids=ROBOTS)
def test_declared_joint_limits_match_the_model_file(make_sim, arm) -> None:
    robot = make_sim(arm.kind, **STATE_ONLY)
    ranges = np.array([robot.model.joint(name).range for name in arm.joint_names])
    np.testing.assert_allclose(ranges[:, 0], arm.joint_lower)
    np.testing.assert_allclose(ranges[:, 1], arm.joint_upper)


@pytest.mark.parametrize("robot_type", ROBOTS)
def test_reset_is_deterministic_per_seed(make_sim, robot_type) -> None:
    robot = make_sim(robot_type, scene="pick_cube", cameras=[{"name": "wrist", "mount": "wrist"}, {"name": "scene"}])
    first = robot.reset(seed=7)
    _move(robot, [0.01, 0.0, -0.01], 3)
    again = robot.reset(seed=7)
    other = robot.reset(seed=8)
    for field in ("joint_pos", "joint_vel", "ee_pos", "ee_quat"):
        np.testing.assert_array_equal(getattr(first, field), getattr(again, field))
    assert first.gripper == again.gripper
    for name in ("wrist", "scene"):
        np.testing.assert_array_equal(first.images[name], again.images[name])
    np.testing.assert_array_equal(first.task_state["cube_pos"], again.task_state["cube_pos"])
    assert not np.array_equal(first.ee_pos, other.ee_pos)
    assert not np.array_equal(first.task_state["cube_pos"], other.task_state["cube_pos"])
    assert not np.array_equal(first.images["scene"], other.images["scene"])


@pytest.mark.parametrize("robot_type", ROBOTS)
def test_observation_fills_every_field(make_sim, robot_type) -> None:
    robot = make_sim(robot_type, cameras=[{"name": "wrist", "mount": "wrist", "height": 48, "width": 64}, {"name": "front"}])
    obs = robot.reset(seed=0)
    dof = robot.spec.dof
    assert obs.joint_pos.shape == (dof,) and obs.joint_vel.shape == (dof,)
    assert obs.ee_pos.shape == (3,) and obs.ee_quat.shape == (4,)
    assert np.isclose(np.linalg.norm(obs.ee_quat), 1.0)
    np.testing.assert_allclose(np.abs(obs.ee_quat), [0.0, 1.0, 0.0, 0.0], atol=1e-3)  # pointing down
    assert obs.gripper == pytest.approx(0.0, abs=1e-6)
    assert obs.images["wrist"].shape == (48, 64, 3) and obs.images["front"].shape == (128, 128, 3)
    for frame in obs.images.values():
        assert frame.dtype == np.uint8 and frame.std() > 5.0  # not blank
    assert set(obs.image_timestamps) == {"wrist", "front"}
    assert obs.timestamp > 0 and obs.task_state == {}
    again = robot.get_observation()
    assert not np.shares_memory(again.images["wrist"], obs.images["wrist"])


@pytest.mark.parametrize("robot_type", ROBOTS)
@pytest.mark.parametrize("direction", [(1, 0, 0), (0, -1, 0), (0, 0, -1), (0, 0, 1), (-1, 1, 0)])
def test_hand_moves_by_the_commanded_delta(make_sim, robot_type, direction) -> None:
    robot = make_sim(robot_type, **STATE_ONLY)
    start = robot.reset(seed=1).ee_pos
    step = 0.015 * np.asarray(direction, dtype=float) / np.linalg.norm(direction)
    _move(robot, step, 3)
    moved = robot.get_observation().ee_pos - start
    assert np.linalg.norm(moved - 3 * step) < 0.004


@pytest.mark.parametrize("robot_type", ROBOTS)
@pytest.mark.parametrize("axis", [0, 2])
def test_hand_rotates_by_the_commanded_increment(make_sim, robot_type, axis) -> None:
    robot = make_sim(robot_type, **STATE_ONLY)
    start = robot.reset(seed=1)
    rotation = np.zeros(3)
    rotation[axis] = 0.1
    for _ in range(3):
        robot.send_action(np.concatenate([[0.0, 0.0, 0.0], rotation, [0.0]]))
    obs = robot.get_observation()
    np.testing.assert_allclose(quat_error(obs.ee_quat, start.ee_quat), 3 * rotation, atol=0.03)
    assert np.linalg.norm(obs.ee_pos - start.ee_pos) < 0.005


@pytest.mark.parametrize("robot_type", ROBOTS)
def test_gripper_closes_and_opens(make_sim, robot_type) -> None:
    robot = make_sim(robot_type, **STATE_ONLY)
    robot.reset(seed=0)
    _move(robot, [0.0, 0.0, 0.0], 4, gripper=1.0)
    assert robot.get_observation().gripper > 0.95
    _move(robot, [0.0, 0.0, 0.0], 4, gripper=0.0)
    assert robot.get_observation().gripper < 0.05


@pytest.mark.parametrize("robot_type", ROBOTS)
def test_nan_action_is_refused_and_nothing_moves(make_sim, robot_type) -> None:
    robot = make_sim(robot_type, **STATE_ONLY)
    robot.reset(seed=0)
    qpos, ctrl, sim_time = robot.data.qpos.copy(), robot.data.ctrl.copy(), robot.data.time
    with pytest.raises(UnsafeActionError):
        robot.send_action(np.array([0.01, np.nan, 0.0, 0.0, 0.0, 0.0, 1.0]))
    np.testing.assert_array_equal(robot.data.qpos, qpos)
    np.testing.assert_array_equal(robot.data.ctrl, ctrl)
    assert robot.data.time == sim_time


@pytest.mark.parametrize("robot_type", ROBOTS)
def test_huge_action_moves_at_most_the_step_limit(make_sim, robot_type) -> None:
    robot = make_sim(robot_type, **STATE_ONLY)
    start = robot.reset(seed=0).ee_pos
    applied = robot.send_action(np.array([5.0, -5.0, 5.0, 9.0, 9.0, 9.0, 3.0]))
    limit = robot.limits.max_translation_per_step
    assert np.linalg.norm(applied[:3]) <= limit + 1e-12 and applied[6] == 1.0
    assert np.linalg.norm(robot.get_observation().ee_pos - start) <= limit + 0.002
    assert robot.clipped_steps == 1


@pytest.mark.parametrize("robot_type", ROBOTS)
def test_hand_stays_in_the_workspace(make_sim, robot_type) -> None:
    robot = make_sim(robot_type, **STATE_ONLY)
    robot.reset(seed=0)
    _move(robot, [0.0, 0.0, -0.03], 10)
    low = robot.get_observation().ee_pos
    _move(robot, [0.03, 0.03, 0.0], 12)
    far = robot.get_observation().ee_pos
    assert low[2] >= robot.limits.workspace_low[2] - 0.002
    assert far[0] <= robot.limits.workspace_high[0] + 0.002
    assert far[1] <= robot.limits.workspace_high[1] + 0.002


def test_joint_targets_stay_inside_the_limits(make_sim) -> None:
    # A workspace far beyond the arm's reach: the IK must clip the joints, not leave the limits.
    robot = make_sim("sim_arx", cameras=[], safety={"workspace_low": [-2, -2, 0], "workspace_high": [2, 2, 2]})
    robot.reset(seed=0)
    _move(robot, [0.03, 0.0, 0.03], 30)
    controller = robot.controller
    assert np.all(controller.q_target >= controller.lower) and np.all(controller.q_target <= controller.upper)
    assert robot.health().status == "ok"


@pytest.mark.parametrize("robot_type", ROBOTS)
def test_paced_mode_keeps_ten_hertz(make_sim, robot_type) -> None:
    robot = make_sim(robot_type, cameras=[], paced=True)
    robot.reset(seed=0)
    _move(robot, [0.0, 0.0, 0.0], 21)
    report = robot.rate_report()
    assert report.steps == 21  # every action lasts one period, the first included
    assert 9.5 <= report.achieved_hz <= 10.5


@pytest.mark.parametrize("robot_type", ROBOTS)
def test_unplugged_robot_is_down_and_refuses_commands(make_sim, robot_type) -> None:
    robot = make_sim(robot_type, **STATE_ONLY)
    robot.reset(seed=0)
    assert robot.health().status == "ok"
    robot.unplug()
    assert robot.health().status == "down"
    with pytest.raises(RobotConnectionError):
        robot.send_action(np.zeros(7))
    with pytest.raises(RobotConnectionError):
        robot.get_observation()
    with pytest.raises(RobotConnectionError):
        robot.reset(seed=0)
    robot.replug()
    assert robot.health().ok
    robot.send_action(np.zeros(7))


def test_diverged_simulation_reports_down(make_sim, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # MuJoCo writes its warning to MUJOCO_LOG.TXT in the working directory
    robot = make_sim("sim_panda", **STATE_ONLY)
    robot.reset(seed=0)
    robot.data.qvel[:] = 1e12  # what an exploding simulation looks like
    robot.send_action(np.zeros(7))
    assert robot.health().status == "down"
    robot.reset(seed=0)
    assert robot.health().status == "ok"


def test_disconnect_releases_and_reconnect_works(make_sim) -> None:
    robot = make_sim("sim_arx")
    robot.disconnect()
    assert robot.health().status == "disconnected" and robot.renderer is None
    robot.connect()
    assert robot.reset(seed=0).images["wrist"].shape == (128, 128, 3)


def test_model_has_the_scene_cameras(make_sim) -> None:
    robot = make_sim("sim_panda", scene="peg_insertion", **STATE_ONLY)
    for name in ("scene", "wrist"):
        assert mujoco.mj_name2id(robot.model, mujoco.mjtObj.mjOBJ_CAMERA, name) >= 0
