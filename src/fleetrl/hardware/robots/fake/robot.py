"""A kinematic fake arm: the hand goes exactly where the safe action says, cameras show noise.

It implements the full `Robot` contract (spec, safety clipping, pacing, seeded resets, cameras)
without MuJoCo, so servers, discovery and runtimes can be tested in milliseconds. Deterministic
for a given seed.
"""

from __future__ import annotations

import time
from typing import Literal

import numpy as np
from pydantic import Field

from fleetrl.core.types import Health, Observation, RobotSpec
from fleetrl.hardware.robot_base import SafeRobot
from fleetrl.hardware.robot_config import CameraConfig, RobotConfig

_HOME = np.array([0.5, 0.0, 0.2])


class FakeArmConfig(RobotConfig):
    """Config of a fake arm (`type: fake`)."""

    type: Literal["fake"] = Field("fake", description="Always 'fake'.")
    dof: int = Field(7, ge=1, le=12, description="Degrees of freedom it reports.")
    control_hz: float = Field(10.0, gt=0, description="Control rate in Hz.")
    paced: bool = Field(False, description="Keep send_action on the wall-clock control rate.")
    cameras: list[CameraConfig] = Field(
        default_factory=lambda: [CameraConfig(name="wrist", mount="wrist"), CameraConfig(name="scene")],
        description="Cameras it reports; frames are seeded noise.",
    )
    fail_health: bool = Field(False, description="Report 'down' from health(), to test fault handling.")


class FakeArm(SafeRobot):
    """A `Robot` whose hand position integrates the safe actions exactly."""

    config_class = FakeArmConfig

    def __init__(self, config: FakeArmConfig) -> None:
        self.config = config
        spec = RobotSpec(
            name=config.robot_name(),
            kind="fake",
            dof=config.dof,
            joint_lower=(-2.9,) * config.dof,
            joint_upper=(2.9,) * config.dof,
            control_hz=config.control_hz,
            cameras=tuple(cam.to_spec() for cam in config.cameras),
        )
        super().__init__(spec, config.safety, config.paced)
        self._rng = np.random.default_rng(0)
        self._ee_pos = _HOME.copy()
        self._gripper = 0.0
        self._joints = np.zeros(config.dof)
        self.applied: list[np.ndarray] = []

    def _connect(self) -> None:
        pass

    def _disconnect(self) -> None:
        pass

    def _reset(self, seed: int | None) -> Observation:
        self._rng = np.random.default_rng(seed)
        self._ee_pos = _HOME + self._rng.uniform(-0.02, 0.02, size=3)
        self._gripper = 0.0
        self._joints = np.zeros(self.spec.dof)
        return self._observe()

    def _observe(self) -> Observation:
        now = time.time()
        images = {
            cam.name: self._rng.integers(0, 256, size=(cam.height, cam.width, 3), dtype=np.uint8)
            for cam in self.spec.cameras
        }
        return Observation(
            timestamp=now,
            joint_pos=self._joints.copy(),
            joint_vel=np.zeros(self.spec.dof),
            ee_pos=self._ee_pos.copy(),
            ee_quat=np.array([0.0, 1.0, 0.0, 0.0]),
            gripper=self._gripper,
            images=images,
            image_timestamps={name: now for name in images},
        )

    def _current_ee_pos(self) -> np.ndarray:
        return self._ee_pos

    def _apply_action(self, action: np.ndarray) -> None:
        self.applied.append(action.copy())
        self._ee_pos = self._ee_pos + action[:3]
        self._gripper = float(action[6])
        self._joints = self._joints + 0.01 * action[: min(6, self.spec.dof)].sum()

    def _health(self) -> Health:
        if self.config.fail_health:
            return Health("down", f"{self.spec.name}: simulated fault")
        return Health("ok")
