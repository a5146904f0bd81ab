"""Plain data types that cross the core interfaces: robot specs, observations, health.

Frames and units, everywhere in fleetrl:
- Positions are metres in the robot's base frame (z up). In simulation the base frame is the world
  frame and the table top is the plane z = 0.
- Orientations are unit quaternions in (w, x, y, z) order; rotation increments are axis-angle
  vectors in radians, expressed in the base frame.
- Times are seconds from `time.time()` on the host that owns the robot.
- Images are `uint8` arrays of shape (height, width, 3), RGB.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

ACTION_DIM = 7
"""Every arm shares one action space so that one policy can drive different arms:

    action[0:3]  end-effector translation increment (dx, dy, dz), metres, base frame
    action[3:6]  end-effector rotation increment, axis-angle (rx, ry, rz), radians, base frame
    action[6]    gripper command, 0.0 = fully open, 1.0 = fully closed

An action is applied over one control period (1 / RobotSpec.control_hz seconds).
"""

ACTION_LABELS = ("dx", "dy", "dz", "rx", "ry", "rz", "gripper")


@dataclass(frozen=True)
class CameraSpec:
    """A camera a robot carries or sees its workspace through.

    `mount` is "wrist" (moves with the hand) or "scene" (fixed in the workspace).
    """

    name: str
    height: int = 128
    width: int = 128
    mount: str = "scene"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "height": self.height, "width": self.width, "mount": self.mount}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CameraSpec:
        return cls(str(data["name"]), int(data["height"]), int(data["width"]), str(data["mount"]))


@dataclass(frozen=True)
class RobotSpec:
    """What a robot is, known before it connects.

    `joint_lower`/`joint_upper` are the arm's joint limits in radians, one per degree of freedom
    (the gripper is not counted). `scene` names the simulated task props loaded around a simulated
    robot ("" for none, and for real robots).
    """

    name: str
    kind: str
    dof: int
    joint_lower: tuple[float, ...]
    joint_upper: tuple[float, ...]
    control_hz: float
    cameras: tuple[CameraSpec, ...] = ()
    scene: str = ""

    def __post_init__(self) -> None:
        if len(self.joint_lower) != self.dof or len(self.joint_upper) != self.dof:
            raise ValueError(f"robot {self.name!r}: joint limits must have {self.dof} entries")
        if self.control_hz <= 0:
            raise ValueError(f"robot {self.name!r}: control_hz must be positive")

    @property
    def action_dim(self) -> int:
        return ACTION_DIM

    @property
    def control_period_s(self) -> float:
        return 1.0 / self.control_hz

    def camera(self, name: str) -> CameraSpec:
        for cam in self.cameras:
            if cam.name == name:
                return cam
        raise KeyError(f"robot {self.name!r} has no camera {name!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "dof": self.dof,
            "joint_lower": list(self.joint_lower),
            "joint_upper": list(self.joint_upper),
            "control_hz": self.control_hz,
            "cameras": [cam.to_dict() for cam in self.cameras],
            "scene": self.scene,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RobotSpec:
        return cls(
            name=str(data["name"]),
            kind=str(data["kind"]),
            dof=int(data["dof"]),
            joint_lower=tuple(float(x) for x in data["joint_lower"]),
            joint_upper=tuple(float(x) for x in data["joint_upper"]),
            control_hz=float(data["control_hz"]),
            cameras=tuple(CameraSpec.from_dict(c) for c in data.get("cameras", ())),
            scene=str(data.get("scene", "")),
        )


@dataclass
class Observation:
    """One reading of a robot, taken at `timestamp`.

    Shapes: `joint_pos`, `joint_vel` are (dof,) float64 (rad, rad/s); `ee_pos` (3,) metres;
    `ee_quat` (4,) wxyz; `gripper` is 0.0 (open) .. 1.0 (closed). `images` maps camera name to a
    (H, W, 3) uint8 array and `image_timestamps` to the time that frame was captured.
    `task_state` holds privileged simulator state of the scene's props (for example
    "cube_pos" -> (3,) metres); it is empty for real robots. The observation owns its arrays:
    the robot never mutates them after returning it.
    """

    timestamp: float
    joint_pos: np.ndarray
    joint_vel: np.ndarray
    ee_pos: np.ndarray
    ee_quat: np.ndarray
    gripper: float
    images: dict[str, np.ndarray] = field(default_factory=dict)
    image_timestamps: dict[str, float] = field(default_factory=dict)
    task_state: dict[str, np.ndarray] = field(default_factory=dict)

    def proprio(self) -> np.ndarray:
        """Proprioception as one float32 vector: ee_pos (3), ee_quat (4), gripper (1)."""
        return np.concatenate([self.ee_pos, self.ee_quat, [self.gripper]]).astype(np.float32)


@dataclass(frozen=True)
class Health:
    """A robot's health as last checked.

    `status` is one of "ok", "degraded" (works, with a problem worth knowing), "disconnected"
    (not connected yet, or after disconnect) or "down" (unreachable or faulted); `ok` is True only
    for "ok" and "degraded". `latency_ms` is the round trip of the check, where one was made.
    """

    status: str
    detail: str = ""
    latency_ms: float | None = None

    STATUSES = ("ok", "degraded", "disconnected", "down")

    def __post_init__(self) -> None:
        if self.status not in self.STATUSES:
            raise ValueError(f"unknown health status {self.status!r}; expected one of {self.STATUSES}")

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "degraded")

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "ok": self.ok, "detail": self.detail, "latency_ms": self.latency_ms}
