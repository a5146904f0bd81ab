"""The interfaces every other fleetrl package builds on, and the types that cross them."""

from fleetrl.core.errors import ConfigError, FleetrlError, RobotConnectionError, UnsafeActionError
from fleetrl.core.interfaces import Robot
from fleetrl.core.types import ACTION_DIM, CameraSpec, Health, Observation, RobotSpec

__all__ = [
    "ACTION_DIM",
    "CameraSpec",
    "ConfigError",
    "FleetrlError",
    "Health",
    "Observation",
    "Robot",
    "RobotConnectionError",
    "RobotSpec",
    "UnsafeActionError",
]
