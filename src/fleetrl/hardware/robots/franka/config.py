"""Config of a Franka arm (Panda or FR3) with a Franka Hand, driven through franky (`type: franka`)."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, model_validator

from fleetrl.hardware.cameras.realsense import RealSenseConfig
from fleetrl.hardware.robot_config import RobotConfig

# Joint limits in radians from Franka's published robot specifications.
JOINT_LIMITS: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "panda": (
        (-2.8973, -1.7628, -2.8973, -3.0718, -2.8973, -0.0175, -2.8973),
        (2.8973, 1.7628, 2.8973, -0.0698, 2.8973, 3.7525, 2.8973),
    ),
    "fr3": (
        (-2.7437, -1.7837, -2.9007, -3.0421, -2.8065, 0.5445, -3.0159),
        (2.7437, 1.7837, 2.9007, -0.1518, 2.8065, 4.5169, 3.0159),
    ),
}

_READY_POSE = (0.0, -math.pi / 4, 0.0, -3 * math.pi / 4, 0.0, math.pi / 2, math.pi / 4)


class FrankaConfig(RobotConfig):
    """A real Franka arm: where to reach it, how fast it may move, its gripper and cameras."""

    type: Literal["franka"] = Field("franka", description="Always 'franka'.")
    fci_host: str = Field(min_length=1, description="IP address or hostname of the robot's FCI (Franka Control Interface).")
    model: Literal["panda", "fr3"] = Field("fr3", description="Arm model, for its joint limits: 'panda' or 'fr3'.")
    control_hz: float = Field(10.0, gt=0, le=1000, description="Control rate in Hz; send_action returns on this wall clock.")
    relative_dynamics_factor: float = Field(
        0.1, gt=0, le=1, description="Fraction of the arm's velocity, acceleration and jerk limits franky may use (0..1]."
    )
    home_joints: tuple[float, float, float, float, float, float, float] = Field(
        _READY_POSE, description="Joint positions reset() moves to, radians."
    )
    reset_timeout_s: float = Field(30.0, gt=0, description="Deadline for the move home (and gripper opening) in reset(), seconds.")
    has_gripper: bool = Field(True, description="A Franka Hand is mounted; False leaves the gripper command unused.")
    gripper_speed: float = Field(0.05, gt=0, le=0.2, description="Finger speed for opening and closing, m/s.")
    gripper_force: float = Field(20.0, gt=0, le=70, description="Grasp force when closing, newtons (the hand holds 70 N continuously).")
    gripper_close_above: float = Field(
        0.6, gt=0, lt=1, description="An open gripper closes when the gripper command rises to this value or above."
    )
    gripper_open_below: float = Field(
        0.4, gt=0, lt=1, description="A closed gripper opens when the gripper command falls to this value or below."
    )
    collision_torque_threshold: float = Field(
        20.0, gt=0, description="Joint torque, Nm, above which the arm stops with a collision reflex."
    )
    collision_force_threshold: float = Field(
        30.0, gt=0, description="End-effector force, N, above which the arm stops with a collision reflex."
    )
    joint_impedance: tuple[float, float, float, float, float, float, float] | None = Field(
        None, description="Stiffness of the internal joint controller per joint, Nm/rad (0..14250); None keeps the robot's."
    )
    ignore_realtime: bool = Field(
        False, description="Run without a real-time kernel (for franky-sim or testing only, never on the real arm)."
    )
    cameras: list[RealSenseConfig] = Field(default_factory=list, description="RealSense cameras read with each observation.")

    @model_validator(mode="after")
    def _check(self) -> FrankaConfig:
        if self.gripper_open_below >= self.gripper_close_above:
            raise ValueError("gripper_open_below must be below gripper_close_above (the hysteresis band)")
        lower, upper = JOINT_LIMITS[self.model]
        outside = [i for i, q in enumerate(self.home_joints) if not lower[i] <= q <= upper[i]]
        if outside:
            raise ValueError(f"home_joints outside the {self.model} joint limits at joints {outside}")
        names = [cam.name for cam in self.cameras]
        if len(set(names)) != len(names):
            raise ValueError(f"camera names must be unique, got {names}")
        return self
