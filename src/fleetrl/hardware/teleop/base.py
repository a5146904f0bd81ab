"""Teleoperation devices: a person's commands, read without blocking, in the robot's action terms.

    with make_teleop("spacemouse") as device:      # TeleopUnavailable, with the reason, if it cannot
        command = device.read()                    # the newest state; never waits for the person
        if command.engaged:                        # the operator holds control (takeover button)
            robot_action = command.action          # (7,) float32 in [-1, 1], see below
        if "success" in command.events: ...        # key presses since the last read

The action is normalised like a policy's full action (`envs.actions` mode "full"): translation
x, y, z and rotation roll, pitch, yaw of the hand, each in [-1, 1] (scaled to the task's per-step
limits by the intervention layer), then the gripper in [-1, 1] (-1 open, +1 closed). Events are
words: "success", "failure" (a person's label of the episode), "end_episode", "takeover" and
"release" (the engage button went down or up).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field

import numpy as np

COMMAND_DIM = 7
EVENTS = frozenset({"success", "failure", "end_episode", "takeover", "release"})


class TeleopUnavailable(RuntimeError):
    """A device that cannot be used here: its library is missing, there is no display, or no device."""


@dataclass(frozen=True)
class TeleopCommand:
    """One read of a device."""

    action: np.ndarray = field(default_factory=lambda: np.zeros(COMMAND_DIM, np.float32))  # (7,) in [-1, 1]
    engaged: bool = False  # the operator holds control
    events: frozenset[str] = frozenset()  # what happened since the previous read (subset of EVENTS)


class Teleoperator(abc.ABC):
    """A device a person drives the robot with. `read` is non-blocking and thread-safe."""

    name: str = "teleop"

    @abc.abstractmethod
    def connect(self) -> None:
        """Open the device; TeleopUnavailable (naming the device and why) when it cannot be used."""

    @abc.abstractmethod
    def read(self) -> TeleopCommand:
        """The newest command; events are reported once."""

    def disconnect(self) -> None:  # noqa: B027  (a device with nothing to release need not override it)
        """Release the device (idempotent)."""

    def __enter__(self) -> Teleoperator:
        self.connect()
        return self

    def __exit__(self, *exc) -> None:
        self.disconnect()
