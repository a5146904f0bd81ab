"""The Franka arm driver (Panda or FR3 with a Franka Hand) on franky, an optional dependency.

`FrankyArm` is the only code that calls franky; `FrankaRobot` turns fleetrl's safe actions into
its calls. franky is imported in `connect()`, never at import time. Untested on hardware: the
calls follow franky-control 2.0's documented API and are exercised against a fake of it.

Frames: fleetrl's actions are increments in the robot base frame, but franky's relative
Cartesian motions are expressed in the current end-effector frame, so each increment is rotated
into that frame before it is sent. franky's quaternions are (x, y, z, w); fleetrl's are (w, x, y, z).
"""

from __future__ import annotations

import contextlib
import importlib
import time
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import numpy as np

from fleetrl.core.errors import FleetrlError, RobotConnectionError
from fleetrl.core.types import Health, Observation, RobotSpec
from fleetrl.hardware.cameras.base import CameraSource
from fleetrl.hardware.cameras.realsense import RealSenseCamera, RealSenseConfig
from fleetrl.hardware.robot_base import SafeRobot
from fleetrl.hardware.robots.franka.config import JOINT_LIMITS, FrankaConfig

INSTALL_HINT = "franky-control is not installed: pip install 'fleetrl[franka]'"
_NOMINAL_HAND_WIDTH = 0.08  # metres between the fingers of an open Franka Hand, if it reports none
_OK_MODES = ("Idle", "Move")  # franky RobotMode names in which the arm takes commands


def import_franky() -> ModuleType:
    """The franky module; `RobotConnectionError` naming the pip extra when it is not installed."""
    try:
        return importlib.import_module("franky")
    except ImportError as err:
        raise RobotConnectionError(INSTALL_HINT) from err


def quat_wxyz_to_matrix(quat: np.ndarray) -> np.ndarray:
    """The (3, 3) rotation matrix of a (w, x, y, z) quaternion (normalised first)."""
    w, x, y, z = np.asarray(quat, dtype=np.float64) / np.linalg.norm(quat)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ])


def rotvec_to_quat_xyzw(rotvec: np.ndarray) -> np.ndarray:
    """The (x, y, z, w) quaternion of an axis-angle vector (radians), as franky's Affine takes it."""
    angle = float(np.linalg.norm(rotvec))
    if angle < 1e-12:
        return np.array([0.0, 0.0, 0.0, 1.0])
    return np.concatenate([np.sin(angle / 2) * np.asarray(rotvec) / angle, [np.cos(angle / 2)]])


def base_delta_to_ee(delta_pos: np.ndarray, delta_rotvec: np.ndarray, ee_quat_wxyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Express a base-frame increment in the end-effector frame, as franky's relative motions want.

    The increment moves the hand by `delta_pos` (metres) and turns it by `delta_rotvec`
    (axis-angle, radians) about its own position, both in the base frame. Returns the same motion
    as (translation metres, quaternion xyzw) in the frame of a hand oriented as `ee_quat_wxyz`.
    """
    rotation = quat_wxyz_to_matrix(ee_quat_wxyz)
    return rotation.T @ np.asarray(delta_pos), rotvec_to_quat_xyzw(rotation.T @ np.asarray(delta_rotvec))


class FrankyArm:
    """Every franky call fleetrl makes, in fleetrl's units; constructing it connects to the arm.

    Poses are (position (3,) metres, quaternion (4,) wxyz) in the base frame. Methods raise
    whatever franky raises; `FrankaRobot` reports those as `RobotConnectionError`.
    """

    def __init__(self, franky: ModuleType, config: FrankaConfig) -> None:
        self._fk = franky
        self._config = config
        kwargs: dict[str, Any] = {}
        if config.ignore_realtime:
            kwargs["realtime_config"] = franky.RealtimeConfig.Ignore
        self.robot = franky.Robot(config.fci_host, **kwargs)
        self.recover()
        self.robot.relative_dynamics_factor = config.relative_dynamics_factor
        self.robot.set_collision_behavior(config.collision_torque_threshold, config.collision_force_threshold)
        if config.joint_impedance is not None:
            self.robot.set_joint_impedance(list(config.joint_impedance))
        self.gripper = franky.Gripper(config.fci_host) if config.has_gripper else None
        max_width = float(self.gripper.max_width) if self.gripper is not None else 0.0
        self.max_width = max_width if max_width > 0 else _NOMINAL_HAND_WIDTH

    def recover(self) -> None:
        if self.robot.recover_from_errors() is False:  # franky < 2 returns None here
            raise RuntimeError("automatic error recovery failed; check the robot's Desk interface")

    def joints(self) -> tuple[np.ndarray, np.ndarray]:
        state = self.robot.current_joint_state
        return np.array(state.position, dtype=np.float64).ravel(), np.array(state.velocity, dtype=np.float64).ravel()

    def ee_pose(self) -> tuple[np.ndarray, np.ndarray]:
        pose = self.robot.current_cartesian_state.pose.end_effector_pose
        x, y, z, w = np.asarray(pose.quaternion, dtype=np.float64).ravel()
        return np.array(pose.translation, dtype=np.float64).ravel(), np.array([w, x, y, z])

    def gripper_closure(self) -> float:
        """0.0 with the fingers fully open .. 1.0 fully closed (0.0 without a gripper)."""
        if self.gripper is None:
            return 0.0
        return float(np.clip(1.0 - float(self.gripper.width) / self.max_width, 0.0, 1.0))

    def move_home(self, joints: tuple[float, ...], timeout_s: float) -> None:
        with contextlib.suppress(Exception):
            # The control mode may not change mid-motion: let the last step end. A step that failed
            # left an error, which the recovery below clears.
            self.robot.join_motion(timeout_s)
        self.recover()
        self.robot.move(self._fk.JointMotion(list(joints)), asynchronous=True)
        if not self.robot.join_motion(timeout_s):
            self.robot.stop()
            raise TimeoutError(f"did not reach the home joints within {timeout_s:g} s")

    def move_relative(self, translation_ee: np.ndarray, quat_xyzw_ee: np.ndarray) -> None:
        """Start (without waiting) a motion by this offset from the current pose, in the hand's frame."""
        fk = self._fk
        target = fk.Affine(np.asarray(translation_ee, dtype=np.float64), np.asarray(quat_xyzw_ee, dtype=np.float64))
        self.robot.move(fk.CartesianMotion(target, reference_type=fk.ReferenceType.Relative), asynchronous=True)

    def close_gripper(self) -> None:
        # Width 0 with a wide outer tolerance grasps an object of any size, or closes fully.
        cfg = self._config
        self.gripper.grasp_async(0.0, cfg.gripper_speed, cfg.gripper_force, epsilon_inner=0.005, epsilon_outer=1.0)

    def open_gripper(self, wait_s: float | None = None) -> None:
        future = self.gripper.open_async(self._config.gripper_speed)
        if wait_s is not None and not future.wait(wait_s):
            raise TimeoutError(f"gripper did not open within {wait_s:g} s")

    def fault(self) -> tuple[str, str]:
        """("ok" | "degraded" | "down", why) from the arm's error flags and mode."""
        if self.robot.has_errors:
            return "down", f"robot errors: {self.robot.state.current_errors!r}"
        mode = self.robot.state.robot_mode.name
        if mode == "Guiding":
            return "degraded", "being guided by hand"
        if mode not in _OK_MODES:
            return "down", f"robot mode {mode} (reflex, user stop or brakes); reset() recovers from reflexes"
        return "ok", ""

    def stop(self) -> None:
        self.robot.stop()


class FrankaRobot(SafeRobot):
    """A real Franka arm: always paced on the wall clock at `control_hz`.

    Each safe action starts an asynchronous relative Cartesian motion of the hand and returns
    without waiting for it; the next action preempts it. The gripper command closes the hand
    (a grasp) when it rises to `gripper_close_above` and opens it when it falls to
    `gripper_open_below`, so a command hovering near 0.5 does not chatter. `camera_factory` builds
    a `CameraSource` per configured camera (tests pass fakes).
    """

    config_class = FrankaConfig

    def __init__(
        self,
        config: FrankaConfig,
        camera_factory: Callable[[RealSenseConfig], CameraSource] = RealSenseCamera,
    ) -> None:
        self.config = config
        lower, upper = JOINT_LIMITS[config.model]
        spec = RobotSpec(
            name=config.robot_name(),
            kind="franka",
            dof=7,
            joint_lower=lower,
            joint_upper=upper,
            control_hz=config.control_hz,
            cameras=tuple(cam.to_spec() for cam in config.cameras),
        )
        super().__init__(spec, config.safety, paced=True)
        self._camera_factory = camera_factory
        self._arm: FrankyArm | None = None
        self._cameras: list[CameraSource] = []
        self._gripper_closed: bool | None = None  # None: unknown until reset() or the first command

    @contextlib.contextmanager
    def _franky_errors(self, doing: str) -> Iterator[None]:
        try:
            yield
        except FleetrlError:
            raise
        except Exception as err:
            raise RobotConnectionError(f"franka {self.spec.name!r}: {doing} failed: {type(err).__name__}: {err}") from err

    def _connect(self) -> None:
        franky = import_franky()
        with self._franky_errors(f"connecting to {self.config.fci_host}"):
            arm = FrankyArm(franky, self.config)
        cameras: list[CameraSource] = []
        try:
            for cam_config in self.config.cameras:
                cameras.append(self._camera_factory(cam_config))
                cameras[-1].connect()
        except BaseException:
            for camera in cameras:
                camera.disconnect()
            with contextlib.suppress(Exception):
                arm.stop()
            raise
        self._arm, self._cameras, self._gripper_closed = arm, cameras, None

    def _disconnect(self) -> None:
        arm, self._arm = self._arm, None
        if arm is not None:
            with contextlib.suppress(Exception):  # a dead link must not stop the shutdown
                arm.stop()
        for camera in self._cameras:
            camera.disconnect()

    def _reset(self, seed: int | None) -> Observation:
        del seed  # a real start pose is not randomised
        assert self._arm is not None
        with self._franky_errors("moving home"):
            self._arm.move_home(self.config.home_joints, self.config.reset_timeout_s)
            if self.config.has_gripper:
                self._arm.open_gripper(wait_s=self.config.reset_timeout_s)
        self._gripper_closed = False
        return self._observe()

    def _observe(self) -> Observation:
        assert self._arm is not None
        with self._franky_errors("reading the robot state"):
            joint_pos, joint_vel = self._arm.joints()
            ee_pos, ee_quat = self._arm.ee_pose()
            gripper = self._arm.gripper_closure()
        timestamp = time.time()
        images, image_timestamps = {}, {}
        for camera in self._cameras:
            images[camera.name], image_timestamps[camera.name] = camera.read()
        return Observation(timestamp, joint_pos, joint_vel, ee_pos, ee_quat, gripper, images, image_timestamps)

    def _current_ee_pos(self) -> np.ndarray:
        assert self._arm is not None
        with self._franky_errors("reading the hand pose"):
            return self._arm.ee_pose()[0]

    def _apply_action(self, action: np.ndarray) -> None:
        assert self._arm is not None
        with self._franky_errors("sending a motion (reset() recovers from reflexes)"):
            _, ee_quat = self._arm.ee_pose()  # read again: the pacer may have waited a period
            translation, rotation = base_delta_to_ee(action[:3], action[3:6], ee_quat)
            self._arm.move_relative(translation, rotation)
            if self.config.has_gripper:
                self._command_gripper(float(action[6]))

    def _command_gripper(self, command: float) -> None:
        cfg = self.config
        if self._gripper_closed is None:
            want_closed = command >= (cfg.gripper_open_below + cfg.gripper_close_above) / 2
        elif self._gripper_closed:
            want_closed = command > cfg.gripper_open_below
        else:
            want_closed = command >= cfg.gripper_close_above
        if want_closed == self._gripper_closed:
            return
        assert self._arm is not None
        if want_closed:
            self._arm.close_gripper()
        else:
            self._arm.open_gripper()
        self._gripper_closed = want_closed

    def _health(self) -> Health:
        assert self._arm is not None
        start = time.perf_counter()
        status, detail = self._arm.fault()
        latency_ms = (time.perf_counter() - start) * 1000.0
        stopped = [camera.name for camera in self._cameras if not camera.is_connected]
        if status == "ok" and stopped:
            status, detail = "degraded", f"cameras not streaming: {', '.join(stopped)}"
        return Health(status, f"{self.spec.name}: {detail}" if detail else "", latency_ms)
