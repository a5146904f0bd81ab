"""A person's label of the episode, read from a teleoperation device, as reward and verdict.

A device reports each event once, to whoever reads it first. When the same device also drives
interventions (`envs.intervention.DeviceOperator`), give each reader its own view of it:

    shared = SharedTeleop(device)
    operator = DeviceOperator(shared.reader(), action_mode)
    reward = HumanLabelReward(shared.reader())
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np

from fleetrl.hardware.teleop.base import TeleopCommand
from fleetrl.rewards.base import Observation, Reward


class CommandSource(Protocol):
    """Anything with a non-blocking `read()` (a `Teleoperator`, or a scripted stand-in)."""

    def read(self) -> TeleopCommand: ...


class HumanLabelReward(Reward):
    """`success_reward` on the step a person presses "success", `failure_reward` on the step they
    press "failure", 0.0 otherwise; the press also sets `verdict` (True or False), which ends the
    episode under `RewardWrapper`.

    The device is read once per step and owned by the caller (connected and disconnected
    elsewhere). Events are reported once per read, so this must be the only reader of the
    device, or read it through a `SharedTeleop` reader (see the module docstring).

    A person may also label an episode once it is over: when it ends unlabelled (its time
    limit), `at_episode_end` waits up to `wait_at_end_s` seconds for the key, and its reward goes
    on the last step. Labels pressed after that, between episodes, are discarded by `reset()`.
    A read holding both labels counts as "failure": an ambiguous label must not pay out. After a
    verdict, further labels are ignored until `reset()`.
    """

    verdict_source = "human_label"

    def __init__(
        self, teleop: CommandSource, success_reward: float = 1.0, failure_reward: float = 0.0, wait_at_end_s: float = 0.0
    ) -> None:
        self.teleop = teleop
        self.success_reward = float(success_reward)
        self.failure_reward = float(failure_reward)
        self.wait_at_end_s = float(wait_at_end_s)

    def at_episode_end(self, info: Mapping[str, Any]) -> float:
        """Wait up to `wait_at_end_s` for a label of the episode that has just ended unlabelled
        (polling the device every 20 ms); the label's reward, or 0.0 when none came in time."""
        deadline = time.monotonic() + self.wait_at_end_s
        while self.verdict is None:
            reward = self._label(self.teleop.read().events)
            if self.verdict is not None or time.monotonic() >= deadline:
                return reward
            time.sleep(min(0.02, max(0.0, deadline - time.monotonic())))
        return 0.0

    def reset(self) -> None:
        super().reset()
        self.teleop.read()  # drop labels meant for the episode that just ended

    def __call__(self, obs: Observation, action: np.ndarray, next_obs: Observation, info: Mapping[str, Any]) -> float:
        events = self.teleop.read().events
        if self.verdict is not None:
            return 0.0
        return self._label(events)

    def _label(self, events: frozenset[str]) -> float:
        if "failure" in events:
            self.verdict = False
            return self.failure_reward
        if "success" in events:
            self.verdict = True
            return self.success_reward
        return 0.0


class SharedTeleop:
    """One teleop device read by several parties, each of which sees every event once.

    `reader()` gives a new reader. A reader's `read()` reads the device (the newest action and
    engaged state) and returns the events that arrived since that reader's previous read, whoever
    read the device in between. The device stays owned by the caller (connect, disconnect).
    """

    def __init__(self, device: CommandSource) -> None:
        self.device = device
        self._pending: list[set[str]] = []
        self._lock = threading.Lock()

    def reader(self) -> _SharedReader:
        with self._lock:
            self._pending.append(set())
            return _SharedReader(self, len(self._pending) - 1)

    def _read(self, index: int) -> TeleopCommand:
        with self._lock:
            command = self.device.read()
            for pending in self._pending:
                pending |= command.events
            events = frozenset(self._pending[index])
            self._pending[index].clear()
        return dataclasses.replace(command, events=events)


class _SharedReader:
    """One party's view of a `SharedTeleop` (has the device's `name`, if it has one)."""

    def __init__(self, shared: SharedTeleop, index: int) -> None:
        self._shared, self._index = shared, index
        self.name = getattr(shared.device, "name", None)

    def read(self) -> TeleopCommand:
        return self._shared._read(self._index)
