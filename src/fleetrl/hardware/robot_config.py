"""The config every robot type shares; each robot folder extends it with its own fields."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from fleetrl.core.types import CameraSpec
from fleetrl.hardware.safety import SafetyLimits


class CameraConfig(BaseModel):
    """One camera of a robot (config key `cameras[i]`)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Camera name; also the observation key of its frames.")
    height: int = Field(128, gt=0, le=2048, description="Image height in pixels.")
    width: int = Field(128, gt=0, le=2048, description="Image width in pixels.")
    mount: Literal["wrist", "scene"] = Field("scene", description="'wrist' (on the hand) or 'scene' (fixed).")

    def to_spec(self) -> CameraSpec:
        return CameraSpec(self.name, self.height, self.width, self.mount)


class RobotConfig(BaseModel):
    """Fields every robot config has (`type` selects the robot in the registry).

    `simulated` says the robot is simulated, so a task builds it with its own scene and cameras
    (see `fleetrl.hardware.registry.is_simulated`)."""

    model_config = ConfigDict(extra="forbid")

    simulated: ClassVar[bool] = False

    type: str = Field(description="Robot type from the registry, e.g. 'sim_panda', 'sim_arx', 'franka'.")
    name: str = Field("", description="Unique robot name on this node; defaults to the type.")
    safety: SafetyLimits = Field(default_factory=SafetyLimits, description="Limits every action is clipped to.")

    def robot_name(self) -> str:
        return self.name or self.type
