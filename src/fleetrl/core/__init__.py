"""The interfaces every other fleetrl package builds on, and the types that cross them."""

from fleetrl.core.errors import (
    ChannelTimeout,
    ConfigError,
    FleetrlError,
    RobotConnectionError,
    UnsafeActionError,
    WorkerFailure,
)
from fleetrl.core.interfaces import (
    Algorithm,
    AlgorithmNeeds,
    Buffer,
    EnvLinks,
    LearnerLinks,
    Policy,
    Robot,
    TrainablePolicy,
)
from fleetrl.core.types import ACTION_DIM, CameraSpec, Health, Observation, RobotSpec

__all__ = [
    "ACTION_DIM",
    "Algorithm",
    "AlgorithmNeeds",
    "Buffer",
    "EnvLinks",
    "LearnerLinks",
    "ChannelTimeout",
    "Policy",
    "TrainablePolicy",
    "WorkerFailure",
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
