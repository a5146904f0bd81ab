"""The seams of fleetrl: what the runtime calls, and what a new component implements.

Each docstring shows the loop that uses it. Components implement these as plain Python; nothing
here knows about Ray or the network (the Ray transport in `fleetrl.comm.ray_links` implements the
links). What a learner asks of a policy is `TrainablePolicy`; what the runtime asks of an
algorithm before it builds one is `AlgorithmNeeds` (see `fleetrl.core.components`).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol

import numpy as np

from fleetrl.core.messages import Control, WorkerStats
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

        version, weights = links.fetch_weights(newer_than=policy.version) or (None, None)
        if weights is not None:
            policy.load_weights(weights, version)        # between steps, never mid-step
        action = policy.act(obs)                         # (action_dim,) float32 in [-1, 1]

    `obs` is one environment observation: a float32 vector, or a dict of arrays (images uint8
    (H, W, 3)). `act_batch` takes the same with a leading batch dimension. `weights()` returns
    detached CPU copies of exactly the tensors `load_weights` needs (the policy's own networks;
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


class TrainablePolicy(Policy):
    """A policy as a learner trains it: the narrow protocol every learner uses, so that a new kind
    of policy (tanh-Gaussian, flow matching, ...) needs no learner edits.

        obs = policy.obs_to_tensors(batch["obs"])               # numpy -> tensors on policy.device
        features = policy.features(obs)                         # (B, F); trains the encoder
        action, log_prob = policy.sample(features, generator)   # (B, A), (B,): reparameterised
        nll = -policy.log_prob(features, expert_action)         # (B,): log pi(a|s) of given actions
        action = policy.deterministic_action(features)          # (B, A): what evaluation executes

    Actions are in [-1, 1]. `log_prob` returned by `sample` carries the gradient of the sampling
    path (an entropy term trains through it). `encoder_parameters()` and `head_parameters()`
    split the parameters between the observation encoder (features) and the rest, so that an
    algorithm may train them with different losses (SAC trains the encoder with the critic).
    `image_keys` are the camera keys of `obs` that a learner may augment (uint8 (B, H, W, 3)).
    The policy is a torch module the learner owns and trains in place.
    """

    feature_dim: int
    image_keys: tuple[str, ...] = ()

    @abc.abstractmethod
    def obs_to_tensors(self, obs) -> Any:
        """numpy observation(s) -> a tensor, or a dict of tensors, on the policy's device (dtypes kept)."""

    @abc.abstractmethod
    def features(self, obs) -> Any:
        """(B, F) float features of a batch of observations (tensors from `obs_to_tensors`)."""

    @abc.abstractmethod
    def sample(self, features, generator=None) -> tuple[Any, Any]:
        """(action (B, A), log_prob (B,)) drawn by reparameterisation from the policy at `features`."""

    @abc.abstractmethod
    def log_prob(self, features, action) -> Any:
        """(B,) log-density of the given (B, A) actions; actions on the bounds are pulled just inside."""

    @abc.abstractmethod
    def deterministic_action(self, features) -> Any:
        """(B, A) the action the policy takes when evaluated."""

    @abc.abstractmethod
    def encoder_parameters(self) -> Iterator:
        """Parameters of the observation encoder (empty for vector observations)."""

    @abc.abstractmethod
    def head_parameters(self) -> Iterator:
        """Every other parameter of the policy."""


@dataclass(frozen=True)
class AlgorithmNeeds:
    """What an algorithm asks of the runtime; the runtime reads this and never tests a name.

    `deterministic_acting`: act with the deterministic action while training (behaviour cloning).
    `expert_only`: batches hold demonstrations and intervention steps only, never the policy's own
    actions (HG-DAgger); such a replay needs a disk buffer. `pretrain_steps`: learner steps on the
    demonstrations before the first weights are published. `metric_names`: the scalars the
    algorithm reports that the live view shows (every scalar reaches metrics.jsonl regardless).
    """

    deterministic_acting: bool = False
    expert_only: bool = False
    pretrain_steps: int = 0
    metric_names: tuple[str, ...] = ()


class Algorithm(abc.ABC):
    """Learns from batches; knows nothing about where they come from.

        while training:
            metrics = algorithm.update(buffer.sample)    # pulls as many batches as its UTD needs
            if algorithm.updates % publish_every == 0:
                publisher.publish(algorithm.policy_weights())

    A batch is a dict: "obs" and "next_obs" (arrays, or dicts of arrays, with a leading batch
    dimension), "action" (B, A) float32 in [-1, 1], "reward" (B,) float32, "terminated" (B,)
    float32 (1.0 only at a true terminal state, not at a time limit). `update` returns scalar
    metrics, all of which reach metrics.jsonl. `state_dict()` holds everything needed to resume
    bit-for-bit: networks, targets, optimisers, temperature, counters.
    """

    updates: int = 0

    @abc.abstractmethod
    def update(self, sample: Callable[[int], dict]) -> dict[str, float]:
        """One learner step: `sample(batch_size) -> batch` as often as it needs; returns metrics."""

    @abc.abstractmethod
    def policy_weights(self) -> dict:
        """The weights an inference worker's `Policy.load_weights` takes."""

    @abc.abstractmethod
    def make_policy(self) -> Policy:
        """A fresh CPU policy of the same architecture holding the current weights (version 0)."""

    @abc.abstractmethod
    def state_dict(self) -> dict:
        """Everything needed to resume training."""

    @abc.abstractmethod
    def load_state_dict(self, state: dict) -> None:
        """Restore from `state_dict()`."""


class Buffer(abc.ABC):
    """Holds transitions for the learner: the in-memory ring and the persistent buffer offer the same.

        buffer.add(chunk)                       # stored; see `acknowledged` for what is durable
        buffer.add_demos(demo_chunk)            # the demonstration stream (RLPD mixing)
        if buffer.sampleable >= batch_size:
            batch = buffer.sample(256)          # the dict an Algorithm takes
        metrics.update(buffer.stats())
        buffer.flush(); buffer.close()          # at the end: acknowledge everything, release files

    A chunk is a dict of arrays with a common leading length N (see `fleetrl.core.transitions`).
    `acknowledged` counts transitions that survive a crash: a persistent buffer acknowledges a
    chunk once its bytes are fsynced and indexed (at once, in periodic groups or per episode,
    as its durability setting says), so `add` returning does not mean acknowledged; an in-memory
    buffer acknowledges on `add` and loses everything at exit. `sampleable` counts what batches
    are drawn from (expert-labelled steps only for a replay built with `expert_only`).
    """

    @abc.abstractmethod
    def add(self, chunk: Mapping[str, np.ndarray]) -> None:
        """Store N online transitions."""

    @abc.abstractmethod
    def add_demos(self, chunk: Mapping[str, np.ndarray]) -> None:
        """Store N transitions in the demonstration stream."""

    @abc.abstractmethod
    def sample(self, batch_size: int) -> dict:
        """A batch of `batch_size` transitions (nested observations, see `Algorithm`)."""

    @abc.abstractmethod
    def __len__(self) -> int:
        """Online transitions stored and sampleable."""

    @property
    @abc.abstractmethod
    def num_demos(self) -> int:
        """Transitions in the demonstration stream."""

    @property
    @abc.abstractmethod
    def sampleable(self) -> int:
        """Transitions batches are drawn from."""

    @property
    @abc.abstractmethod
    def acknowledged(self) -> int:
        """Transitions that survive a crash of this process (see the class docstring)."""

    @abc.abstractmethod
    def refresh(self) -> None:
        """Take in what other writers acknowledged since the last call (nothing, for one writer)."""

    @abc.abstractmethod
    def flush(self) -> None:
        """Acknowledge everything added so far; blocks until it is durable."""

    @abc.abstractmethod
    def stats(self) -> dict[str, float]:
        """Scalars for metrics.jsonl, each named "buffer_<what>"."""

    @abc.abstractmethod
    def state_dict(self) -> dict:
        """The sampler's state (random generator, positions); stored transitions are not in it."""

    @abc.abstractmethod
    def load_state_dict(self, state: Mapping) -> None:
        """Restore from `state_dict()`."""

    @abc.abstractmethod
    def close(self) -> None:
        """Flush, then release files and threads. Idempotent."""


class EnvLinks(Protocol):
    """What an env worker talks to; the Ray transport and in-process tests implement it.

        control = links.report(stats)
        while not control.stop:
            ... act, fill a chunk ...
            links.send_chunk(chunk)                      # backpressure: blocks, with a deadline
            control = links.report(stats)
            found = links.fetch_weights(policy.version)  # never blocks
        links.drain()
    """

    def send_chunk(self, chunk: dict) -> None:
        """Hand a chunk to the buffer; blocks while too many are in flight (backpressure)."""

    def report(self, stats: WorkerStats) -> Control:
        """Report progress to the hub; returns what to do next."""

    def fetch_weights(self, newer_than: int) -> tuple[int, dict] | None:
        """Newest policy weights (version, tensors) if newer than `newer_than`."""

    def remote_act(self, obs) -> tuple[np.ndarray, int]:
        """(action, policy version) from an inference worker (remote inference only)."""

    def drain(self) -> None:
        """Block, with a deadline, until the buffer has taken every chunk sent so far."""


class LearnerLinks(Protocol):
    """What the learner worker talks to.

        while not links.report(algorithm.updates, stats):   # True: the run should stop
            metrics = algorithm.update(buffer.sample)
            links.publish(version, payload)                   # newest wins; never blocks training
    """

    def publish(self, version: int, payload: Any) -> None:
        """Make a weights payload the newest for inference."""

    def report(self, updates: int, stats: dict[str, float]) -> bool:
        """Report progress; returns True when the run should stop."""
