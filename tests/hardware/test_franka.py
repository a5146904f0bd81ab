"""The Franka driver against a fake franky: calls, conversions, gripper hysteresis, safety, health."""

from __future__ import annotations

import math
import sys
import time
from types import ModuleType

import numpy as np
import pytest
from fakes import load_fake

from fleetrl.core.errors import ConfigError, RobotConnectionError, UnsafeActionError
from fleetrl.core.types import CameraSpec
from fleetrl.hardware.cameras.base import CameraError, CameraSource
from fleetrl.hardware.registry import make_robot
from fleetrl.hardware.robots.franka import FrankaConfig, FrankaRobot

FAST_HZ = 500.0  # paced like the real robot, but quick


@pytest.fixture
def franky(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    fake = load_fake("franky", "fake_franky.py")
    monkeypatch.setitem(sys.modules, "franky", fake)
    return fake


class FakeCamera(CameraSource):
    """A camera that returns a constant frame, or times out when `stall` is set."""

    def __init__(self, config) -> None:
        self._spec = config.to_spec()
        self.connected = False
        self.stall = False
        self.fail_connect = False

    @property
    def spec(self) -> CameraSpec:
        return self._spec

    @property
    def is_connected(self) -> bool:
        return self.connected

    def connect(self) -> None:
        if self.fail_connect:
            raise CameraError(f"camera {self.name!r}: cannot start")
        self.connected = True

    def disconnect(self) -> None:
        self.connected = False

    def read(self, timeout_s=None):
        if self.stall:
            raise CameraError(f"camera {self.name!r}: no frame within 500 ms")
        return np.full((self._spec.height, self._spec.width, 3), 7, np.uint8), time.time()


def make_franka(cameras: list[FakeCamera] | None = None, **overrides) -> FrankaRobot:
    fields = {
        "type": "franka",
        "name": "arm0",
        "fci_host": "172.16.0.2",
        "control_hz": FAST_HZ,
        "cameras": [
            {"name": "wrist", "serial": "111", "mount": "wrist", "height": 24, "width": 32},
            {"name": "scene", "serial": "222", "height": 24, "width": 32},
        ],
    }
    fields.update(overrides)
    made = [] if cameras is None else cameras

    def factory(config):
        camera = FakeCamera(config)
        made.append(camera)
        return camera

    return FrankaRobot(FrankaConfig(**fields), camera_factory=factory)


def names(franky) -> list[str]:
    return [name for name, _, _ in franky.calls]


def moves(franky) -> list:
    return [args[0] for args, _ in franky.calls_named("move")]


def rot_z(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


# -- connecting --------------------------------------------------------------------------------


def test_connect_creates_robot_and_gripper_sets_dynamics_and_recovers(franky):
    with make_franka(relative_dynamics_factor=0.2, collision_torque_threshold=15.0) as robot:
        assert robot.is_connected and robot.paced
        expected = {"relative_dynamics_factor": 1.0, "realtime_config": franky.RealtimeConfig.Enforce}
        assert franky.calls[0] == ("Robot", ("172.16.0.2",), expected)
        assert ("set relative_dynamics_factor", (0.2,), {}) in franky.calls
        assert ("set_collision_behavior", (15.0, 30.0), {}) in franky.calls
        assert "recover_from_errors" in names(franky)
        assert ("Gripper", ("172.16.0.2",), {}) in franky.calls
    assert "stop" in names(franky)


def test_ignore_realtime_and_joint_impedance_reach_franky(franky):
    with make_franka(ignore_realtime=True, joint_impedance=[3000.0] * 7):
        assert franky.calls[0][2]["realtime_config"] is franky.RealtimeConfig.Ignore
        assert ("set_joint_impedance", ([3000.0] * 7,), {}) in franky.calls


def test_missing_franky_names_the_pip_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "franky", None)  # makes the import fail
    robot = make_franka()
    with pytest.raises(RobotConnectionError, match=r"franky-control is not installed: pip install 'fleetrl\[franka\]'"):
        robot.connect()
    assert not robot.is_connected


def test_an_unreachable_robot_is_a_connection_error_naming_the_host(franky):
    franky.unreachable_hosts.add("172.16.0.2")
    robot = make_franka()
    with pytest.raises(RobotConnectionError, match=r"connecting to 172\.16\.0\.2 failed: NetworkException"):
        robot.connect()
    assert not robot.is_connected


def test_a_camera_failing_to_start_releases_the_arm_and_the_other_cameras(franky):
    cameras: list[FakeCamera] = []
    robot = make_franka(cameras)
    original = FakeCamera.connect

    def connect(self):
        if self.name == "scene":
            raise CameraError("camera 'scene': cannot start")
        original(self)

    FakeCamera.connect = connect
    try:
        with pytest.raises(CameraError, match="scene"):
            robot.connect()
    finally:
        FakeCamera.connect = original
    assert not robot.is_connected
    assert not cameras[0].connected
    assert "stop" in names(franky)


def test_disconnect_never_raises_for_a_dead_link(franky):
    cameras: list[FakeCamera] = []
    robot = make_franka(cameras)
    robot.connect()

    def dead():
        raise franky.NetworkException("connection lost")

    franky.robots[0].stop = dead
    robot.disconnect()
    robot.disconnect()
    assert not robot.is_connected and not any(camera.connected for camera in cameras)


# -- reset and observations --------------------------------------------------------------------


def test_reset_moves_home_with_a_deadline_and_opens_the_gripper(franky):
    with make_franka(reset_timeout_s=12.0) as robot:
        franky.grippers[0].width = 0.0
        obs = robot.reset(seed=3)
        home = [args[0] for args, _ in franky.calls_named("move")][-1]
        assert isinstance(home, franky.JointMotion)
        np.testing.assert_allclose(home.target, FrankaConfig(type="franka", fci_host="x").home_joints)
        assert franky.calls_named("move")[-1][1] == {"asynchronous": True}
        assert franky.calls_named("join_motion")[-1][0] == (12.0,)
        assert franky.calls_named("open_async") == [((0.05,), {})]
        assert obs.gripper == 0.0


def test_reset_that_does_not_arrive_in_time_stops_and_raises(franky):
    with make_franka(reset_timeout_s=2.0) as robot:
        franky.robots[0].join_finishes = False
        with pytest.raises(RobotConnectionError, match="home joints within 2 s"):
            robot.reset()
        assert names(franky)[-1] == "stop"


def test_observation_shapes_units_and_quaternion_order(franky):
    with make_franka() as robot:
        obs = robot.reset()
        assert obs.joint_pos.shape == (7,) and obs.joint_vel.shape == (7,)
        np.testing.assert_allclose(obs.ee_pos, [0.5, 0.0, 0.3])
        np.testing.assert_allclose(obs.ee_quat, [0.0, 1.0, 0.0, 0.0], atol=1e-12)  # franky xyzw (1, 0, 0, 0)
        assert set(obs.images) == {"wrist", "scene"} == set(obs.image_timestamps)
        assert obs.images["wrist"].shape == (24, 32, 3) and obs.images["wrist"].dtype == np.uint8
        assert abs(obs.timestamp - time.time()) < 1.0

        xyzw = np.array([0.1, -0.2, 0.3, 0.9]) / np.linalg.norm([0.1, -0.2, 0.3, 0.9])
        franky.robots[0].pose = franky.Affine([0.4, 0.1, 0.2], xyzw)
        franky.grippers[0].width = 0.02
        obs = robot.get_observation()
        np.testing.assert_allclose(obs.ee_quat, [xyzw[3], xyzw[0], xyzw[1], xyzw[2]], atol=1e-9)
        np.testing.assert_allclose(obs.ee_pos, [0.4, 0.1, 0.2])
        assert obs.gripper == pytest.approx(0.75)  # 2 cm of an 8 cm stroke open


# -- actions -----------------------------------------------------------------------------------


def test_a_base_frame_delta_becomes_a_relative_motion_in_the_hand_frame(franky):
    with make_franka() as robot:
        robot.reset()
        applied = robot.send_action(np.array([0.01, 0.0, 0.01, 0.0, 0.0, 0.0, 0.0]))
        np.testing.assert_allclose(applied, [0.01, 0.0, 0.01, 0, 0, 0, 0])
        motion = moves(franky)[-1]
        assert isinstance(motion, franky.CartesianMotion)
        assert motion.reference_type is franky.ReferenceType.Relative
        assert franky.calls_named("move")[-1][1] == {"asynchronous": True}
        # The hand points down (180 deg about x), so base +z is the hand's -z.
        np.testing.assert_allclose(motion.target.translation, [0.01, 0.0, -0.01], atol=1e-12)
        np.testing.assert_allclose(robot.get_observation().ee_pos, [0.51, 0.0, 0.31], atol=1e-12)


def test_a_base_frame_rotation_turns_the_hand_about_the_base_axis(franky):
    with make_franka() as robot:
        robot.reset()
        before = franky.robots[0].pose.matrix[:3, :3]
        robot.send_action(np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.1, 0.0]))
        after = franky.robots[0].pose.matrix[:3, :3]
        np.testing.assert_allclose(after, rot_z(0.1) @ before, atol=1e-12)
        np.testing.assert_allclose(franky.robots[0].pose.translation, [0.5, 0.0, 0.3], atol=1e-12)


def test_gripper_commands_have_hysteresis(franky):
    with make_franka(gripper_close_above=0.6, gripper_open_below=0.4, gripper_force=25.0) as robot:
        robot.reset()
        opens_after_reset = len(franky.calls_named("open_async"))
        sent = []
        for command in [0.0, 0.55, 0.65, 0.5, 0.41, 0.9, 0.35, 0.45, 0.59, 0.6]:
            before = len(franky.calls)
            robot.send_action(np.array([0, 0, 0, 0, 0, 0, command], dtype=float))
            new = [name for name, _, _ in franky.calls[before:] if name in ("grasp_async", "open_async")]
            sent.append(new[0] if new else "-")
        assert sent == ["-", "-", "grasp_async", "-", "-", "-", "open_async", "-", "-", "grasp_async"]
        assert franky.calls_named("grasp_async")[0] == ((0.0, 0.05, 25.0), {"epsilon_inner": 0.005, "epsilon_outer": 1.0})
        assert len(franky.calls_named("open_async")) == opens_after_reset + 1


def test_the_first_gripper_command_before_any_reset_is_always_sent(franky):
    with make_franka() as robot:
        robot.send_action(np.zeros(7))
        assert names(franky).count("open_async") == 1


def test_a_huge_action_reaches_franky_clipped_to_the_step_limit(franky):
    with make_franka() as robot:
        robot.reset()
        applied = robot.send_action(np.array([1.0, 0.0, 0.0, 0.0, 0.0, 5.0, 1.0]))
        limits = robot.limits
        assert np.linalg.norm(applied[:3]) == pytest.approx(limits.max_translation_per_step)
        assert np.linalg.norm(applied[3:6]) == pytest.approx(limits.max_rotation_per_step)
        motion = moves(franky)[-1]
        assert np.linalg.norm(motion.target.translation) == pytest.approx(limits.max_translation_per_step)
        assert robot.clipped_steps == 1


def test_a_nan_action_is_refused_before_any_motion(franky):
    with make_franka() as robot:
        robot.reset()
        before = len(moves(franky))
        with pytest.raises(UnsafeActionError, match="non-finite"):
            robot.send_action(np.array([np.nan, 0, 0, 0, 0, 0, 0]))
        assert len(moves(franky)) == before
        assert not franky.calls_named("grasp_async")


def test_an_action_leaving_the_workspace_is_clipped_into_it(franky):
    with make_franka() as robot:
        robot.reset()
        franky.robots[0].pose = franky.Affine([0.74, 0.0, 0.3], [1.0, 0.0, 0.0, 0.0])
        applied = robot.send_action(np.array([0.03, 0.0, 0.0, 0, 0, 0, 0]))
        assert applied[0] == pytest.approx(0.01)
        assert robot.get_observation().ee_pos[0] == pytest.approx(robot.limits.workspace_high[0])


def test_a_failed_motion_is_reported_and_reset_recovers(franky):
    with make_franka() as robot:
        robot.reset()
        franky.robots[0].fail_next_move = franky.ControlException("cartesian_reflex")
        with pytest.raises(RobotConnectionError, match="ControlException: cartesian_reflex"):
            robot.send_action(np.zeros(7))
        recoveries = names(franky).count("recover_from_errors")
        robot.reset()
        assert names(franky).count("recover_from_errors") == recoveries + 1


def test_send_action_keeps_the_control_clock(franky):
    with make_franka(control_hz=100.0) as robot:
        robot.reset()
        start = time.perf_counter()
        for _ in range(6):
            robot.send_action(np.zeros(7))
        # Each action lasts one control period from the reset on: six actions take six periods.
        assert time.perf_counter() - start >= 6 / 100.0 * 0.9
        assert robot.rate_report().steps == 6


# -- health, cameras and config ----------------------------------------------------------------


def test_health_reflects_franky_errors_and_mode(franky):
    robot = make_franka()
    assert robot.health().status == "disconnected"
    with robot:
        health = robot.health()
        assert health.status == "ok" and health.latency_ms is not None
        franky.robots[0].errors = franky.Errors("cartesian_reflex", "joint_velocity_violation")
        franky.robots[0].mode = franky.RobotMode.Reflex
        health = robot.health()
        assert health.status == "down" and "cartesian_reflex" in health.detail and "arm0" in health.detail
        franky.robots[0].errors = franky.Errors()
        assert robot.health().status == "down" and "Reflex" in robot.health().detail
        franky.robots[0].mode = franky.RobotMode.Guiding
        assert robot.health().status == "degraded"
        franky.robots[0].mode = franky.RobotMode.Move
        assert robot.health().status == "ok"


def test_a_camera_timeout_fails_the_observation_with_a_clear_error(franky):
    cameras: list[FakeCamera] = []
    with make_franka(cameras) as robot:
        cameras[1].stall = True
        with pytest.raises(CameraError, match="'scene': no frame within"):
            robot.get_observation()
        cameras[1].connected = False
        assert robot.health().status == "degraded"


def test_realsense_cameras_are_the_default_source(franky, monkeypatch):
    rs = load_fake("pyrealsense2", "fake_pyrealsense2.py")
    monkeypatch.setitem(sys.modules, "pyrealsense2", rs)
    rs.add_device("111")
    robot = make_robot({"type": "franka", "fci_host": "h", "control_hz": FAST_HZ,
                        "cameras": [{"name": "wrist", "serial": "111", "height": 24, "width": 32, "timeout_s": 0.1}]})
    with robot:
        assert robot.get_observation().images["wrist"].shape == (24, 32, 3)
        rs.devices["111"]["stall"] = True
        with pytest.raises(CameraError, match=r"'wrist' \(serial 111\): no frame within 100 ms"):
            robot.get_observation()


def test_registry_builds_the_robot_and_rejects_bad_configs():
    robot = make_robot({"type": "franka", "fci_host": "10.0.0.2", "model": "panda"})
    assert isinstance(robot, FrankaRobot)
    assert robot.spec.kind == "franka" and robot.spec.dof == 7 and robot.spec.control_hz == 10.0
    assert robot.spec.joint_upper[3] == pytest.approx(-0.0698)
    with pytest.raises(ConfigError, match="robot.fci_host"):
        make_robot({"type": "franka"})
    with pytest.raises(ConfigError, match="hysteresis"):
        make_robot({"type": "franka", "fci_host": "h", "gripper_open_below": 0.7, "gripper_close_above": 0.6})
    with pytest.raises(ConfigError, match="home_joints"):
        make_robot({"type": "franka", "fci_host": "h", "home_joints": [0, 0, 0, 0, 0, 0, 0]})
    with pytest.raises(ConfigError, match=r"robot.cameras\[0\].serial"):
        make_robot({"type": "franka", "fci_host": "h", "cameras": [{"name": "wrist"}]})
