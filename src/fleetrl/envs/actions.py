"""From a policy's normalised action to the robot's shared action space, and back.

A policy acts in [-1, 1]^n. `ActionMap` scales that to the robot's 7-D action (metres, radians,
gripper 0..1) according to the task's action mode, and holds the hand's orientation steady in the
modes that do not control rotation (otherwise small controller errors would accumulate into a
twisted hand over an episode).
"""

from __future__ import annotations

import numpy as np

from fleetrl.core.types import ACTION_DIM

ACTION_MODES = {"xyz": 3, "xyz_gripper": 4, "full": 7}


def quat_conjugate(q: np.ndarray) -> np.ndarray:
    return np.array([q[0], -q[1], -q[2], -q[3]])


def quat_multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product of wxyz quaternions."""
    aw, ax, ay, az = a
    bw, bx, by, bz = b
    return np.array(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ]
    )


def quat_to_axis_angle(q: np.ndarray) -> np.ndarray:
    """Axis-angle vector (radians) of a wxyz unit quaternion, taking the shorter rotation."""
    q = q / np.linalg.norm(q)
    if q[0] < 0:
        q = -q
    sin_half = float(np.linalg.norm(q[1:]))
    if sin_half < 1e-12:
        return np.zeros(3)
    angle = 2.0 * np.arctan2(sin_half, q[0])
    return q[1:] / sin_half * angle


def orientation_error(target: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Rotation (axis-angle, base frame) that takes `current` to `target` (both wxyz)."""
    return quat_to_axis_angle(quat_multiply(target, quat_conjugate(current)))


class ActionMap:
    """Maps normalised policy actions of one action mode to robot actions and back.

    `max_translation` (metres) and `max_rotation` (radians) are what a full-scale action (1.0)
    means per control step. In "xyz" mode the gripper is held at `held_gripper`.
    """

    def __init__(self, mode: str, max_translation: float, max_rotation: float, held_gripper: float = 1.0):
        if mode not in ACTION_MODES:
            raise ValueError(f"unknown action mode {mode!r}; expected one of {sorted(ACTION_MODES)}")
        self.mode = mode
        self.dim = ACTION_MODES[mode]
        self.max_translation = max_translation
        self.max_rotation = max_rotation
        self.held_gripper = held_gripper
        self.hold_quat: np.ndarray | None = None

    def to_robot(self, action: np.ndarray, ee_quat: np.ndarray) -> np.ndarray:
        """Normalised (dim,) action -> (7,) robot action. Values outside [-1, 1] are clipped."""
        a = np.clip(np.asarray(action, dtype=np.float64).reshape(self.dim), -1.0, 1.0)
        robot = np.zeros(ACTION_DIM)
        robot[:3] = a[:3] * self.max_translation
        if self.mode == "full":
            robot[3:6] = a[3:6] * self.max_rotation
            robot[6] = (a[6] + 1.0) / 2.0
            return robot
        if self.hold_quat is not None:
            robot[3:6] = orientation_error(self.hold_quat, ee_quat)
        robot[6] = (a[3] + 1.0) / 2.0 if self.mode == "xyz_gripper" else self.held_gripper
        return robot

    def from_robot(self, robot_action: np.ndarray) -> np.ndarray:
        """(7,) robot action -> the normalised action that asks for it (clipped to [-1, 1])."""
        r = np.asarray(robot_action, dtype=np.float64)
        parts = [r[:3] / self.max_translation]
        if self.mode == "full":
            parts += [r[3:6] / self.max_rotation, [2.0 * r[6] - 1.0]]
        elif self.mode == "xyz_gripper":
            parts.append([2.0 * r[6] - 1.0])
        return np.clip(np.concatenate(parts), -1.0, 1.0).astype(np.float32)
