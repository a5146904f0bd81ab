"""The base class of every robot that drives hardware or a simulator directly.

It owns the part of `Robot.send_action` that must never differ between robots: refuse non-finite
actions, clip to the safety limits, then hand the safe action to the driver, on the control clock
when paced. Drivers implement the underscored hooks only.
"""

from __future__ import annotations

import abc

import numpy as np

from fleetrl.core.errors import RobotConnectionError
from fleetrl.core.interfaces import Robot
from fleetrl.core.types import Health, Observation, RobotSpec
from fleetrl.hardware.pacing import Pacer, RateReport
from fleetrl.hardware.safety import SafetyLimits, clip_action


class SafeRobot(Robot):
    """A `Robot` whose actions always pass `clip_action` before `_apply_action` sees them.

    `paced=True` makes `send_action` return on the robot's control clock (`spec.control_hz`
    against the wall clock); real robots are always paced. `clipped_steps` counts the actions
    that the limits changed.
    """

    def __init__(self, spec: RobotSpec, limits: SafetyLimits, paced: bool) -> None:
        self._spec = spec
        self.limits = limits
        self.paced = paced
        self.pacer = Pacer(spec.control_hz)
        self.clipped_steps = 0
        self._connected = False

    # -- the Robot interface -------------------------------------------------------------------

    @property
    def spec(self) -> RobotSpec:
        return self._spec

    @property
    def is_connected(self) -> bool:
        return self._connected

    def connect(self) -> None:
        if not self._connected:
            self._connect()
            self._connected = True

    def disconnect(self) -> None:
        if self._connected:
            self._connected = False
            self._disconnect()

    def reset(self, seed: int | None = None) -> Observation:
        self._require_connected()
        obs = self._reset(seed)
        self.pacer.restart()
        return obs

    def get_observation(self) -> Observation:
        self._require_connected()
        return self._observe()

    def send_action(self, action: np.ndarray) -> np.ndarray:
        self._require_connected()
        safe = clip_action(action, self._current_ee_pos(), self.limits)
        if not np.allclose(safe, np.asarray(action, dtype=np.float64), rtol=0.0, atol=1e-12):
            self.clipped_steps += 1
        self._apply_action(safe)
        if self.paced:
            # An action lasts one control period: return at its end, on the wall-clock grid, like
            # a real controller's fixed-rate loop (100 steps after a reset take 10 s at 10 Hz).
            self.pacer.wait()
        return safe

    def health(self) -> Health:
        if not self._connected:
            return Health("disconnected", f"{self._spec.name} is not connected")
        try:
            return self._health()
        except Exception as err:  # health() never raises: a failing check means the robot is down
            return Health("down", f"{self._spec.name}: health check failed: {err}")

    def rate_report(self) -> RateReport:
        """The paced rate and jitter achieved so far (empty when unpaced)."""
        return self.pacer.report()

    def _require_connected(self) -> None:
        if not self._connected:
            raise RobotConnectionError(f"robot {self._spec.name!r} is not connected; call connect() first")

    # -- what a driver implements --------------------------------------------------------------

    @abc.abstractmethod
    def _connect(self) -> None:
        """Open the driver or simulator."""

    @abc.abstractmethod
    def _disconnect(self) -> None:
        """Stop motion and release the driver; must not raise for a dead link."""

    @abc.abstractmethod
    def _reset(self, seed: int | None) -> Observation:
        """Go to the episode start and return the first observation."""

    @abc.abstractmethod
    def _observe(self) -> Observation:
        """Read state and cameras."""

    @abc.abstractmethod
    def _current_ee_pos(self) -> np.ndarray:
        """The hand's current (3,) position in metres, base frame, for workspace clipping."""

    @abc.abstractmethod
    def _apply_action(self, action: np.ndarray) -> None:
        """Apply an already safe (7,) action for one control period."""

    def _health(self) -> Health:
        """Check the connected robot; the default trusts the connection."""
        return Health("ok")
