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


class Policy(abc.ABC):
    """Chooses actions; ships from the learner to inference workers as versioned weights.

        version, weights = weight_source.latest(newer_than=policy.version) or (None, None)
        if weights is not None:
            policy.load_weights(weights, version)        # between steps, never mid-step
        action = policy.act(obs)                         # (action_dim,) float32 in [-1, 1]

    `obs` is one environment observation: a float32 vector, or a dict of arrays (images uint8
    (H, W, 3)). `act_batch` takes the same with a leading batch dimension. `weights()` returns
    detached CPU copies of exactly the tensors `load_weights` needs (the actor and its encoder;
    never critics or optimisers). `version` is that of the weights loaded (0 = initial).
    """

    version: int = 0

    @abc.abstractmethod
    def act(self, obs, deterministic: bool = False) -> np.ndarray:
        """One action for one observation."""

    @abc.abstractmethod
    def act_batch(self, obs, deterministic: bool = False) -> np.ndarray:
        """(B, action_dim) actions for a batch of observations."""

    @abc.abstractmethod
    def weights(self) -> dict:
        """The policy's parameters, as detached CPU tensors keyed by name."""

    @abc.abstractmethod
    def load_weights(self, weights: dict, version: int) -> None:
        """Replace the parameters with `weights` (from `weights()`) and record `version`."""


class Algorithm(abc.ABC):
    """Learns from batches; knows nothing about where they come from.

        while training:
            metrics = algorithm.update(buffer.sample)    # pulls as many batches as its UTD needs
            if algorithm.updates % publish_every == 0:
                publisher.publish(algorithm.policy_weights())

    A batch is a dict: "obs" and "next_obs" (arrays, or dicts of arrays, with a leading batch
    dimension), "action" (B, A) float32 in [-1, 1], "reward" (B,) float32, "terminated" (B,)
    float32 (1.0 only at a true terminal state, not at a time limit). `state_dict()` holds
    everything needed to resume bit-for-bit: networks, targets, optimisers, temperature, counters.
    """

    updates: int = 0

    @abc.abstractmethod
    def update(self, sample) -> dict[str, float]:
        """One learner step: `sample(batch_size) -> batch` as often as it needs; returns metrics."""

    @abc.abstractmethod
    def policy_weights(self) -> dict:
        """The weights an inference worker's `Policy.load_weights` takes."""

    @abc.abstractmethod
    def state_dict(self) -> dict:
        """Everything needed to resume training."""

    @abc.abstractmethod
    def load_state_dict(self, state: dict) -> None:
        """Restore from `state_dict()`."""


class Buffer(abc.ABC):
    """Holds transitions for the learner.

        buffer.add(chunk)                       # acknowledged once add() returns
        batch = buffer.sample(256)              # the dict an Algorithm takes

    A chunk is a dict of arrays with a common leading length N: the batch keys above plus
    "policy_version" (N,) int64, "robot" (N,) int64 (index of the robot that acted) and
    "source" (N,) int8 (0 online, 1 demonstration, 2 intervention).
    """

    @abc.abstractmethod
    def add(self, chunk: dict) -> None:
        """Store N transitions."""

    @abc.abstractmethod
    def sample(self, batch_size: int) -> dict:
        """A batch of `batch_size` transitions."""

    @abc.abstractmethod
    def __len__(self) -> int:
        """Transitions stored."""


class Channel(abc.ABC):
    """A bounded pipe between two workers, with backpressure and deadlines.

        channel.put(item, timeout_s=5.0)        # blocks while full; ChannelTimeout past the deadline
        item = channel.get(timeout_s=5.0)       # blocks while empty; ChannelTimeout past the deadline

    Nothing waits forever: every call takes a deadline.
    """

    @abc.abstractmethod
    def put(self, item, timeout_s: float) -> None:
        """Append `item`, waiting at most `timeout_s` for room."""

    @abc.abstractmethod
    def get(self, timeout_s: float):
        """Remove and return the oldest item, waiting at most `timeout_s` for one."""


class WeightSource(abc.ABC):
    """Where inference workers find the newest policy weights (versioned, latest wins).

        found = source.latest(newer_than=policy.version)    # never blocks
        if found is not None:
            policy.load_weights(found[1], found[0])
    """

    @abc.abstractmethod
    def latest(self, newer_than: int) -> tuple[int, dict] | None:
        """(version, weights) if a version newer than `newer_than` is published, else None."""
