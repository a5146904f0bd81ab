"""The learner worker: owns the algorithm and the replay, trains, publishes weights.

Transitions arrive through `add_chunk` (from env workers, on another thread) while `run` trains;
a lock keeps a checkpoint from catching the algorithm mid-update. Critics, targets, temperature
and optimisers stay here; only the policy's weights leave, through `LearnerLinks.publish`.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fleetrl.buffer.build import build_replay
from fleetrl.comm.weights import WeightPublisher
from fleetrl.core.interfaces import LearnerLinks
from fleetrl.core.transitions import chunk_len
from fleetrl.runtime.config import RunConfig

REPORT_EVERY_S = 0.5
SHARD_POLL_S = 0.25  # writer "env": how often the learner looks for newly acknowledged transitions


class LearnerWorker:
    """Trains the run's algorithm on the replay; `run()` for async mode, `train(n)` for sync mode.

    What the algorithm needs (`AlgorithmNeeds`) shapes the replay (expert-labelled steps only, for
    HG-DAgger) and the start (pretraining on demonstrations); its name is never tested."""

    def __init__(
        self, config: RunConfig, observation_space, action_space, links: LearnerLinks, seed: int,
        buffer_path: Path | None = None,
    ) -> None:
        """`buffer_path`: the buffer folder of a disk replay when `config.buffer.path` is unset."""
        torch.set_num_threads(config.runtime.learner_threads)
        device = config.runtime.device
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise RuntimeError("runtime.device is 'cuda' but no GPU is available to the learner")
        self.config = config
        self.links = links
        self.needs = config.algorithm.needs()
        self.algorithm = config.algorithm.build(config.policy, observation_space, action_space, device, seed)
        self.replay = build_replay(config.buffer, seed, buffer_path, expert_only=self.needs.expert_only)
        self.publisher = WeightPublisher(links)
        self.lock = threading.Lock()
        self.env_steps_received = 0
        # Counted from this learner's start: a restarted learner begins with an empty replay.
        self.received_here = 0
        self.steps_here = 0
        self.warmup = config.runtime.learning_starts
        self.version = 0
        self.update_time_s = 0.0
        self.last_metrics: dict[str, float] = {}
        self.reads_shards = config.buffer.storage == "disk" and config.buffer.writer == "env"
        self._shard_transitions_seen = 0
        self._next_shard_poll = 0.0
        self._restored = False

    # -- data in -------------------------------------------------------------------------------

    def add_chunk(self, chunk: dict) -> int:
        """Store a chunk of transitions; returns how many were stored."""
        self.replay.add(chunk)
        n = chunk_len(chunk)
        self.env_steps_received += n
        self.received_here += n
        return n

    def attach_sources(self, sources: list) -> None:
        """Writer "env": sample these shards (readers of env workers' shards) from now on.

        Their transitions count as received, except after a restore, when they were counted before.
        """
        for source in sources:
            self.replay.add_source(source)
        if self._restored:
            self._shard_transitions_seen = self.replay.acknowledged

    def poll_shards(self, force: bool = False) -> None:
        """Writer "env": count what the env workers' shards acknowledged since the last poll."""
        now = time.monotonic()
        if not self.reads_shards or (now < self._next_shard_poll and not force):
            return
        self._next_shard_poll = now + SHARD_POLL_S
        self.replay.refresh()
        seen = self.replay.acknowledged
        new, self._shard_transitions_seen = seen - self._shard_transitions_seen, seen
        self.env_steps_received += new
        self.received_here += new

    # -- training ------------------------------------------------------------------------------

    def backlog(self) -> int:
        """Transitions received beyond what this learner has trained on (one per learner step)."""
        return self.received_here - self.warmup - self.steps_here

    def may_update(self) -> bool:
        self.poll_shards()
        online = self.received_here - self.warmup
        if online <= 0 or self.sampleable() < self.config.algorithm.batch_size:
            return False
        ratio = self.config.runtime.max_updates_per_env_step
        return ratio is None or self.steps_here < ratio * online

    def sampleable(self) -> int:
        """Transitions batches can be drawn from (expert-labelled ones only, for HG-DAgger)."""
        return self.replay.sampleable

    def pretrain(self) -> int:
        """`pretrain_steps` of the algorithm on the demonstrations before anything acts (behaviour
        cloning's starting policy), then publish; returns the steps taken (0 without demos)."""
        steps = self.needs.pretrain_steps
        if not steps or self.algorithm.updates or self.replay.num_demos < self.config.algorithm.batch_size:
            return 0
        for _ in range(steps):
            with self.lock:
                self.last_metrics = self.algorithm.update(self.replay.sample)
        self.publish()
        return steps

    def step(self) -> None:
        """One learner step (utd_ratio gradient steps), publishing weights on schedule."""
        start = time.perf_counter()
        with self.lock:
            self.last_metrics = self.algorithm.update(self.replay.sample)
        self.steps_here += 1
        self.update_time_s += time.perf_counter() - start
        if self.algorithm.updates % self.config.runtime.publish_every == 0:
            self.publish()

    def publish(self) -> int:
        with self.lock:
            weights = self.algorithm.policy_weights()
        self.version = self.publisher.publish(weights)
        return self.version

    def continue_versions_from(self, floor: int) -> None:
        """After a restart, number new weights above everything already published."""
        self.publisher.version = max(self.publisher.version, floor)
        self.version = max(self.version, floor)

    def run(self) -> dict[str, float]:
        """Train whenever allowed until the hub says stop; returns the final stats."""
        self.pretrain()
        next_report = 0.0
        while True:
            if self.may_update():
                self.step()
            else:
                time.sleep(0.002)
            now = time.monotonic()
            if now >= next_report:
                next_report = now + REPORT_EVERY_S
                if self.links.report(self.algorithm.updates, self.stats()):
                    break
        self.publish()
        self.links.report(self.algorithm.updates, self.stats())
        return self.stats()

    def train(self, steps: int) -> dict[str, float]:
        """Sync mode: `steps` learner steps now (as the data allows), then publish."""
        self.pretrain()
        self.poll_shards(force=True)
        for _ in range(steps):
            if self.sampleable() < self.config.algorithm.batch_size:
                break
            self.step()
        self.publish()
        self.links.report(self.algorithm.updates, self.stats())
        return self.stats()

    def settle(self) -> dict[str, float]:
        """Acknowledge every transition received (one fsync), count everything the env workers'
        own shards acknowledged (writer "env"), and return fresh stats: for the run's last metrics
        line, once the env workers have stopped."""
        with self.lock:
            self.replay.flush()
            self.poll_shards(force=True)
            return self.stats()

    def stats(self) -> dict[str, float]:
        out = {k: float(v) for k, v in self.last_metrics.items() if np.isscalar(v)}
        out.update(self.replay.stats())
        out.update(
            updates=float(self.algorithm.updates),
            buffer_transitions=float(self.replay.acknowledged),
            env_steps_received=float(self.env_steps_received),
            update_time_s=self.update_time_s,
            policy_version=float(self.version),
            backlog=float(self.backlog()),
        )
        return out

    # -- checkpoints -----------------------------------------------------------------------------

    def state(self, include_buffer: bool = False) -> dict[str, Any]:
        """What a checkpoint stores of the learner (policy weights on top, for eval)."""
        with self.lock:
            state = {
                "algorithm": self.algorithm.state_dict(),
                "policy_weights": self.algorithm.policy_weights(),
                "learner": {"version": self.version, "env_steps_received": self.env_steps_received,
                            "publisher": self.publisher.state_dict()},
            }
            if include_buffer:
                state["buffer"] = self.replay.state_dict()
        return state

    def load_state(self, state: dict[str, Any]) -> None:
        with self.lock:
            self.algorithm.load_state_dict(state["algorithm"])
            learner = state.get("learner", {})
            self.version = int(learner.get("version", 0))
            self.env_steps_received = int(learner.get("env_steps_received", 0))
            if "publisher" in learner:
                self.publisher.load_state_dict(learner["publisher"])
            if "buffer" in state:
                self.replay.load_state_dict(state["buffer"])
            # Resumed: train again once a batch of new data has arrived (a disk replay holds
            # everything acknowledged before; a memory replay starts empty).
            self.warmup = self.config.algorithm.batch_size
            self._restored = True

    def close(self) -> None:
        """Acknowledge what is pending in the replay and release its folder."""
        self.replay.close()
