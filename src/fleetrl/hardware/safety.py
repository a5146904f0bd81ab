"""Safety limits: every action is checked and clipped here before it reaches any robot.

The check is a pure function of the action and the robot's current end-effector position, so it
is the same for real, simulated and served robots and is tested on its own.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from fleetrl.core.errors import UnsafeActionError
from fleetrl.core.types import ACTION_DIM, ACTION_LABELS


class SafetyLimits(BaseModel):
    """Limits an action must respect before it is sent to a robot (config key `safety`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    workspace_low: tuple[float, float, float] = Field(
        (0.25, -0.30, 0.005), description="Lowest end-effector position allowed (x, y, z), metres, base frame."
    )
    workspace_high: tuple[float, float, float] = Field(
        (0.75, 0.30, 0.45), description="Highest end-effector position allowed (x, y, z), metres, base frame."
    )
    max_translation_per_step: float = Field(
        0.03, gt=0, description="Largest end-effector translation in one control period, metres (vector norm)."
    )
    max_rotation_per_step: float = Field(
        0.15, gt=0, description="Largest end-effector rotation in one control period, radians (axis-angle norm)."
    )
    gripper_low: float = Field(0.0, ge=0.0, le=1.0, description="Lowest gripper command (0 = open).")
    gripper_high: float = Field(1.0, ge=0.0, le=1.0, description="Highest gripper command (1 = closed).")

    @model_validator(mode="after")
    def _check_ordered(self) -> SafetyLimits:
        if any(lo >= hi for lo, hi in zip(self.workspace_low, self.workspace_high)):
            raise ValueError("workspace_low must be below workspace_high on every axis")
        if self.gripper_low > self.gripper_high:
            raise ValueError("gripper_low must not exceed gripper_high")
        return self


def check_finite(action: np.ndarray | list[float]) -> np.ndarray:
    """Return `action` as a (7,) float64 array, or raise `UnsafeActionError` naming the problem."""
    try:
        arr = np.asarray(action, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise UnsafeActionError(f"action refused: not numeric ({err})") from err
    if arr.shape != (ACTION_DIM,):
        raise UnsafeActionError(f"action refused: expected shape ({ACTION_DIM},), got {arr.shape}")
    bad = [ACTION_LABELS[i] for i in np.flatnonzero(~np.isfinite(arr))]
    if bad:
        raise UnsafeActionError(f"action refused: non-finite values in {', '.join(bad)}: {arr.tolist()}")
    return arr


def _clip_norm(vector: np.ndarray, max_norm: float) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector * (max_norm / norm) if norm > max_norm else vector


def clip_action(action: np.ndarray | list[float], ee_pos: np.ndarray, limits: SafetyLimits) -> np.ndarray:
    """Return the safe (7,) action closest to `action` for a hand currently at `ee_pos` (metres).

    Order matters: the translation is first limited in length, then its target is clipped into the
    workspace box, then limited in length again (a hand that drifted outside the box is brought
    back no faster than the per-step limit). Rotation is limited in angle, the gripper to its range.
    Raises `UnsafeActionError` for a non-finite or wrongly shaped action.
    """
    arr = check_finite(action)
    pos = np.asarray(ee_pos, dtype=np.float64)
    delta = _clip_norm(arr[:3], limits.max_translation_per_step)
    target = pos + delta
    clipped_target = np.clip(target, limits.workspace_low, limits.workspace_high)
    if not np.array_equal(clipped_target, target):
        delta = _clip_norm(clipped_target - pos, limits.max_translation_per_step)
    rotation = _clip_norm(arr[3:6], limits.max_rotation_per_step)
    gripper = np.clip(arr[6], limits.gripper_low, limits.gripper_high)
    return np.concatenate([delta, rotation, [gripper]])
