"""The run hub: the one small piece of shared state of a run.

It holds the newest published policy weights (version and a handle to the payload, latest wins),
the counters every worker reports, each worker's last heartbeat, and the stop flag. Workers talk to
it with short calls; it never calls them back, so it can never deadlock a worker. On Ray it is an
actor; its methods are plain Python and tested as such.
"""

from __future__ import annotations

import time
from typing import Any

from fleetrl.core.messages import Control, WorkerStats


class RunHub:
    """Counters, heartbeats, stop flag and the newest weights of one run."""

    def __init__(self, base_env_steps: int = 0, base_updates: int = 0, base_episodes: int = 0,
                 step_budget: int | None = None) -> None:
        # Bases carry the counters of a resumed run; workers report from zero after a (re)start.
        # `step_budget` (the run's total_env_steps): the hub raises the stop flag itself once the
        # reported steps reach it, so workers stop at their next report rather than a driver tick
        # later (unpaced sims overshot the budget several times over).
        self.step_budget = step_budget
        self.base_env_steps = base_env_steps
        self.base_episodes = base_episodes
        self.updates = base_updates
        self.latest_version = 0
        self.weights_handle: Any = None
        self.learner_generation = 0
        self.learner_handle: list | None = None
        self.learner_stats: dict[str, float] = {}
        self.stop_flag = False
        self.workers: dict[str, WorkerStats] = {}
        self.finished: dict[str, WorkerStats] = {}  # workers that restarted: their last totals
        self.heartbeats: dict[str, float] = {}

    # -- weights ---------------------------------------------------------------------------------

    def publish(self, version: int, handle: list) -> None:
        """Record a newer weights payload; `handle` is wrapped in a list so Ray passes it as is."""
        if version > self.latest_version:
            self.latest_version = version
            self.weights_handle = handle

    def weights(self, newer_than: int) -> tuple[int, list] | None:
        """(version, handle) when weights newer than `newer_than` exist, else None."""
        if self.weights_handle is None or self.latest_version <= newer_than:
            return None
        return self.latest_version, self.weights_handle

    # -- reports -----------------------------------------------------------------------------------

    def report(self, stats: WorkerStats) -> Control:
        self.workers[stats.name] = stats
        self.heartbeats[stats.name] = time.monotonic()
        env_steps = self.env_steps()
        if self.step_budget is not None and env_steps >= self.step_budget:
            self.stop_flag = True
        backlog = self.learner_stats.get("backlog", 0.0)
        return Control(self.stop_flag, self.latest_version, self.updates, self.learner_generation, env_steps, backlog)

    def report_learner(self, updates: int, stats: dict[str, float]) -> bool:
        """The learner's progress; returns the stop flag."""
        self.updates = updates
        self.learner_stats = stats
        self.heartbeats["learner"] = time.monotonic()
        return self.stop_flag

    def worker_restarted(self, name: str) -> None:
        """Fold a dead worker's totals into the bases, so counters never go backwards."""
        old = self.workers.pop(name, None)
        if old is not None:
            self.base_env_steps += old.env_steps
            self.base_episodes += old.episodes
        self.heartbeats[name] = time.monotonic()

    def set_learner(self, handle: list) -> int:
        """Record the current learner (wrapped in a list); returns its generation."""
        self.learner_handle = handle
        self.learner_generation += 1
        self.heartbeats["learner"] = time.monotonic()
        return self.learner_generation

    def learner(self) -> tuple[int, list | None]:
        """(generation, handle) of the current learner."""
        return self.learner_generation, self.learner_handle

    def request_stop(self) -> None:
        self.stop_flag = True

    # -- what the driver reads ---------------------------------------------------------------------

    def env_steps(self) -> int:
        return self.base_env_steps + sum(w.env_steps for w in self.workers.values())

    def snapshot(self) -> dict[str, Any]:
        """Everything the driver logs and shows, in one call."""
        now = time.monotonic()
        return {
            "env_steps": self.env_steps(),
            "episodes": self.base_episodes + sum(w.episodes for w in self.workers.values()),
            "updates": self.updates,
            "policy_version": self.latest_version,
            "learner": dict(self.learner_stats),
            "workers": {name: vars(stats).copy() for name, stats in self.workers.items()},
            "heartbeat_age_s": {name: now - t for name, t in self.heartbeats.items()},
            "stop": self.stop_flag,
        }
