"""The env worker: drives one robot (one environment) and streams its transitions out.

It acts with its own copy of the policy (`inference: local`) or asks an inference worker
(`inference: remote`), records the policy version of every action, sends transitions in chunks
through a bounded channel, and reports to the hub after each chunk. It never waits for the
learner unless the run asks it to (`max_env_steps_ahead`, `max_staleness`), and then only with a
deadline. It knows nothing about Ray: everything it talks to comes in through `EnvLinks`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from fleetrl.core.errors import WorkerFailure
from fleetrl.core.interfaces import EnvLinks, Policy
from fleetrl.core.messages import Control, WorkerStats
from fleetrl.core.transitions import ACTOR_POLICY, SOURCE_INTERVENTION, SOURCE_ONLINE, ChunkBuilder
from fleetrl.envs.success import episode_success
from fleetrl.rewards.base import Reward
from fleetrl.runtime.config import RunConfig
from fleetrl.runtime.env_factory import make_worker_env, worker_label

RECENT = 20  # episodes kept for the rolling success rate and return


class EnvWorker:
    """One robot's acting loop. `run()` acts until the hub says stop (async mode);
    `collect(episodes)` acts for whole episodes and returns (sync mode). `own_reward` is the
    worker's handle on the run's reward worker (see `make_worker_env`)."""

    def __init__(
        self,
        config: RunConfig,
        index: int,
        links: EnvLinks,
        policy_factory: Callable[[Any, Any], Policy] | None,
        seed: int,
        own_reward: Reward | None = None,
    ) -> None:
        self.config = config
        self.index = index
        self.links = links
        self.name = worker_label(config.env, index)
        self.env = make_worker_env(config.env, index, config.intervention, seed, config.rewards, own_reward)
        self.deterministic = config.algorithm.needs().deterministic_acting
        self.env.action_space.seed(seed)
        local = config.runtime.inference == "local" and policy_factory is not None
        self.policy = policy_factory(self.env.observation_space, self.env.action_space) if local else None
        self.builder = ChunkBuilder(self.env.observation_space, config.runtime.chunk_size)
        self.stats = WorkerStats(name=self.name)
        self.seed = seed
        self.obs, _ = self.env.reset(seed=seed)
        self.episode_return = 0.0
        self.episode_steps = 0
        self.episode_interventions = 0
        self.control = Control(False, 0, 0, 0, 0, 0.0)
        self.last_report = time.monotonic()
        self.acting_version = 0

    # -- the loops -------------------------------------------------------------------------------

    def run(self) -> WorkerStats:
        """Act until told to stop; returns the final stats."""
        self.stats.state = "acting"
        self.control = self.links.report(self.stats)
        while not self.control.stop:
            self._wait_for_turn()
            self._step()
            if self.builder.ready or self._report_due():
                self._ship_chunk()
        self._ship_chunk()
        self.links.drain()  # the run's last metrics count every transition this worker sent
        self.stats.state = "stopped"
        self.links.report(self.stats)
        self.env.close()
        return self.stats

    def collect(self, episodes: int) -> WorkerStats:
        """Act for `episodes` whole episodes with the current weights, ship them, return stats."""
        self.stats.state = "acting"
        self._refresh_weights(force=True)
        target = self.stats.episodes + episodes
        while self.stats.episodes < target:
            self._step()
            if self.builder.ready or self._report_due():
                self._ship_chunk(refresh=False)
        self._ship_chunk(refresh=False)
        self.links.drain()
        self.stats.state = "waiting"
        self.links.report(self.stats)
        return self.stats

    def close(self) -> None:
        self.env.close()

    # -- one step --------------------------------------------------------------------------------

    def _choose_action(self) -> tuple[np.ndarray, int]:
        start = time.perf_counter()
        action, version = None, 0
        if self.config.runtime.inference == "remote":
            action, version = self.links.remote_act(self.obs)
            if np.size(action) == 0:  # the inference worker has no weights yet
                action, version = self.env.action_space.sample(), 0
        elif self.policy is None or self.policy.version == 0:
            action, version = self.env.action_space.sample(), 0  # no weights yet: explore uniformly
        else:
            action, version = self.policy.act(self.obs, deterministic=self.deterministic), self.policy.version
        elapsed = time.perf_counter() - start
        self.stats.inference_s += elapsed
        self.stats.inference_ms.append(elapsed * 1000.0)
        return np.asarray(action, dtype=np.float32), version

    def _step(self) -> None:
        action, version = self._choose_action()
        start = time.perf_counter()
        next_obs, reward, terminated, truncated, info = self.env.step(action)
        self.stats.acting_s += time.perf_counter() - start
        intervened = bool(info.get("intervened", False))
        self.builder.append(
            self.obs, info.get("executed_action", action), float(reward), next_obs, bool(terminated), bool(truncated),
            policy_version=version, robot=self.index, source=SOURCE_INTERVENTION if intervened else SOURCE_ONLINE,
            actor=int(info.get("actor", ACTOR_POLICY)), success=episode_success(info, self.config.env.success_key),
        )
        self.stats.env_steps += 1
        self.stats.intervention_steps += int(intervened)
        self.stats.takeovers += int(bool(info.get("takeover", False)))
        self.episode_steps += 1
        self.episode_interventions += int(intervened)
        self.stats.policy_version = version
        self.episode_return += float(reward)
        if terminated or truncated:
            self._end_episode(episode_success(info, self.config.env.success_key))
            next_obs, _ = self.env.reset()
        self.obs = next_obs

    def _end_episode(self, success: bool) -> None:
        self.stats.episodes += 1
        self.stats.successes += int(success)
        self.stats.returns_sum += self.episode_return
        self.stats.recent_success = (self.stats.recent_success + [success])[-RECENT:]
        self.stats.recent_returns = (self.stats.recent_returns + [self.episode_return])[-RECENT:]
        share = self.episode_interventions / max(self.episode_steps, 1)
        self.stats.recent_intervention = (self.stats.recent_intervention + [share])[-RECENT:]
        self.episode_return = 0.0
        self.episode_steps = self.episode_interventions = 0

    # -- talking to the rest ---------------------------------------------------------------------

    def _report_due(self) -> bool:
        return time.monotonic() - self.last_report >= self.config.runtime.report_every_s

    def _ship_chunk(self, refresh: bool = True) -> None:
        chunk = self.builder.flush()
        if chunk is not None:
            start = time.perf_counter()
            self.links.send_chunk(chunk)
            self.stats.waiting_s += time.perf_counter() - start
        self.control = self.links.report(self.stats)
        self.last_report = time.monotonic()
        if chunk is not None:
            self._record_staleness(chunk["policy_version"])
        self.stats.inference_ms = self.stats.inference_ms[-256:]
        if refresh:
            self._refresh_weights()

    def _record_staleness(self, versions: np.ndarray) -> None:
        """How many versions behind the newest its actions' weights were when the data arrived."""
        acted = versions[versions > 0]  # version 0: uniform exploration before any weights
        if acted.size:
            behind = np.maximum(self.control.latest_version - acted, 0)
            self.stats.staleness_sum += float(behind.sum())
            self.stats.staleness_max = max(self.stats.staleness_max, int(behind.max()))

    def _refresh_weights(self, force: bool = False) -> None:
        """Load newer weights between steps; wait for them only when acting is too stale."""
        if self.policy is None:
            return
        behind = self.control.latest_version - self.policy.version
        if behind <= 0 and not force:
            return
        start = time.perf_counter()
        deadline = start + self.config.runtime.call_timeout_s
        while True:
            found = self.links.fetch_weights(self.policy.version)
            if found is not None:
                version, weights = found
                self.policy.load_weights(weights, version)
                break
            if force or behind < self.config.runtime.max_staleness or time.perf_counter() > deadline:
                break
            time.sleep(0.01)
        self.stats.waiting_s += time.perf_counter() - start

    def _wait_for_turn(self) -> None:
        """With `max_env_steps_ahead`, hold acting until the learner has caught up (deadline)."""
        ahead_limit = self.config.runtime.max_env_steps_ahead
        if ahead_limit is None:
            return
        runtime = self.config.runtime
        start = time.perf_counter()
        while not self.control.stop:
            # The learner's backlog: transitions it holds beyond one per learner step taken.
            if self.control.learner_backlog <= ahead_limit:
                break
            if time.perf_counter() - start > runtime.call_timeout_s:
                raise WorkerFailure(
                    f"env worker {self.name}: the learner made no progress for {runtime.call_timeout_s:.0f} s"
                )
            time.sleep(0.005)
            self.control = self.links.report(self.stats)
        self.stats.waiting_s += time.perf_counter() - start
