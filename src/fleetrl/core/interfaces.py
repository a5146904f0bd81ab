"""The core interfaces of fleetrl. Each docstring shows the loop that uses it.

Components implement these as plain Python; nothing here knows about Ray or the network.
"""

from __future__ import annotations

import abc
from types import TracebackType

import numpy as np

from fleetrl.core.types import Health, Observation, RobotSpec


class Robot(abc.ABC):
    """A robot arm with a gripper and cameras: real, simulated, or served over the network.

        with robot:                                  # connect() ... disconnect()
            obs = robot.reset(seed=0)
            for _ in range(steps):
                applied = robot.send_action(policy(obs))  # clipped to the safety limits
                obs = robot.get_observation()

    `spec` is known before `connect()`. `send_action` takes a (7,) action in the shared action
    space (see `fleetrl.core.types.ACTION_DIM`), refuses a non-finite one with
    `UnsafeActionError` before anything moves, clips it to the robot's safety limits, applies it
    for one control period and returns the action actually applied. A paced robot returns from
    `send_action` on its control clock (e.g. every 100 ms at 10 Hz); an unpaced simulated robot
    returns as soon as the period has been simulated. Methods other than `spec`, `health` and
    `connect` raise `RobotConnectionError` when the robot is not connected.
    """

    @property
    @abc.abstractmethod
    def spec(self) -> RobotSpec:
        """What this robot is: name, kind, degrees of freedom, limits, rate and cameras."""

    @property
    @abc.abstractmethod
    def is_connected(self) -> bool:
        """True between a successful `connect()` and `disconnect()`."""

    @abc.abstractmethod
    def connect(self) -> None:
        """Open the link to the robot (driver, simulator or server). Idempotent."""

    @abc.abstractmethod
    def disconnect(self) -> None:
        """Stop the robot safely and release it. Idempotent; never raises for a dead link."""

    @abc.abstractmethod
    def reset(self, seed: int | None = None) -> Observation:
        """Move to the start of an episode (a seeded, randomised start in simulation)."""

    @abc.abstractmethod
    def get_observation(self) -> Observation:
        """Read the robot's current state and camera frames."""

    @abc.abstractmethod
    def send_action(self, action: np.ndarray) -> np.ndarray:
        """Apply one (7,) action after safety clipping; return the (7,) float64 action applied."""

    @abc.abstractmethod
    def health(self) -> Health:
        """Check the robot without moving it. Never raises: a failure is reported as "down"."""

    def __enter__(self) -> Robot:
        self.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.disconnect()
