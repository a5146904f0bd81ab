"""The driver of a training run: starts the workers, watches them, logs, evaluates, checkpoints.

`Trainer` holds what the asynchronous and synchronous modes share; `async_runner` and
`sync_runner` hold their loops. The driver never trains or acts itself: it reads one snapshot
from the hub per tick, and every call it makes has a deadline.
"""

from __future__ import annotations

import json
import random
import signal
import time
from pathlib import Path
from typing import Any

import numpy as np
import ray
import torch
from ray.exceptions import GetTimeoutError, RayError

from fleetrl.comm.ray_links import ray_weight_fetcher
from fleetrl.core.errors import WorkerFailure
from fleetrl.core.files import write_text_atomic
from fleetrl.policies import build_policy
from fleetrl.runtime import assembly
from fleetrl.runtime.checkpoint import load_latest_checkpoint, save_checkpoint
from fleetrl.runtime.config import RunConfig
from fleetrl.runtime.env_factory import make_worker_env, worker_label
from fleetrl.runtime.evaluate import evaluate_policy
from fleetrl.runtime.metrics import MetricsLogger
from fleetrl.runtime.run_dir import RunDir
from fleetrl.runtime.shard_access import shard_name


def _spaces(config: RunConfig):
    # With the run's rewards and interventions: a bad reward entry or an absent device fails
    # here, before any worker starts, naming the config key.
    env = make_worker_env(config.env, 0, config.intervention, config.seed, config.rewards)
    try:
        return env.observation_space, env.action_space
    finally:
        env.close()


class Trainer:
    """One run: `run()` returns the process exit code (0 done, 1 a worker failed for good)."""

    def __init__(self, config: RunConfig, run_dir: RunDir, resume: bool = False, console=None) -> None:
        self.config = config
        self.run_dir = run_dir
        self.console = console
        self.resume_state = load_latest_checkpoint(run_dir) if resume else None
        counters = (self.resume_state or {}).get("counters", {})
        self.base_wall_s = float(counters.get("wall_time_s", 0.0))
        self.base = (int(counters.get("env_steps", 0)), int(counters.get("updates", 0)), int(counters.get("episodes", 0)))
        self.metrics = MetricsLogger(run_dir, resume=resume)
        # Absolute: the learner process may run in another working directory.
        self.buffer_path = (Path(config.buffer.path) if config.buffer.path else run_dir.path / "buffer").resolve()
        self.worker_names = [worker_label(config.env, i) for i in range(config.env.worker_count())]
        self.restarts: dict[str, int] = {}
        self.observation_space, self.action_space = _spaces(config)
        self.last_eval: dict[str, Any] = {}
        self.failure: str | None = None
        self.where: dict[str, dict] = {}
        self.interrupted = False  # set by a signal handler: finish cleanly (final checkpoint) and stop
        self.reached_target = False  # an evaluation reached runtime.target_eval_success
        self._seed_everything(config.seed)

    # -- set-up ----------------------------------------------------------------------------------

    def _seed_everything(self, seed: int) -> None:
        state = (self.resume_state or {}).get("rng")
        if state:
            random.setstate(state["python"])
            np.random.set_state(state["numpy"])
            torch.set_rng_state(state["torch"])
        else:
            random.seed(seed)
            np.random.seed(seed)
            torch.manual_seed(seed)

    def _stop_on_signal(self, signum, frame) -> None:
        """Ctrl-C or SIGTERM: finish cleanly (final checkpoint), so the run can be resumed."""
        self.interrupted = True
        self.log(f"[yellow]{signal.Signals(signum).name}: stopping after a final checkpoint")

    def start(self) -> None:
        assembly.start_ray(self.config)
        self._previous: dict[str, Any] | None = None
        self._shown_rates: dict[str, float] = {}
        self._last_log = self._last_eval = self._last_checkpoint = time.monotonic()
        self._evaluated_first = self.resume_state is not None  # a resumed run evaluated its start before
        # Installed after Ray starts, so that Ray's own handlers do not replace them.
        self._previous_handlers = {sig: signal.signal(sig, self._stop_on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        self.started = time.monotonic()
        self.hub = assembly.spawn_hub(*self.base, step_budget=self.config.runtime.total_env_steps)
        learner_state = self.resume_state
        self.learner = assembly.spawn_learner(
            self.config, self.observation_space, self.action_space, self.hub, self.config.seed, learner_state,
            self.buffer_path,
        )
        ray.get(self.hub.set_learner.remote([self.learner]), timeout=self.config.runtime.call_timeout_s)
        self.reward_worker = assembly.spawn_reward_worker(self.config)
        remote = self.config.runtime.inference == "remote"
        self.inference = [self._spawn_inference_worker(i) for i in range(self.config.runtime.num_inference_workers if remote else 0)]
        self.env_workers = [self._spawn_env_worker(i) for i in range(len(self.worker_names))]
        self.worker_started = {name: time.monotonic() for name in self.worker_names}
        if self.resume_state is not None:  # inference resumes from the checkpoint's weights
            self.call(self.learner.publish.remote())
        actors = {"learner": self.learner, **dict(zip(self.worker_names, self.env_workers))}
        actors.update({f"inference{i}": actor for i, actor in enumerate(self.inference)})
        if self.reward_worker is not None:
            actors["reward"] = self.reward_worker
        for name, actor in actors.items():
            self.record_where(name, actor)
        self.shard_servers: dict[str, Any] = {}
        self.attach_shards()

    def attach_shards(self) -> None:
        """Writer "env": tell the learner which env-worker shards to read: from its own node's disk,
        or through a shard server on the node that wrote them."""
        buffer = self.config.buffer
        if buffer.storage != "disk" or buffer.writer != "env":
            return
        learner_node = self.where["learner"]["node_id"]
        local, remote = [], []
        for name in self.worker_names:
            node = self.where[name]["node_id"]
            if node == learner_node:
                local.append(shard_name(name))
                continue
            if node not in self.shard_servers:
                self.shard_servers[node] = assembly.spawn_shard_server(self.buffer_path, node)
            remote.append((self.shard_servers[node], shard_name(name)))
        self.call(self.learner.attach_shards.remote(local, remote))

    def record_where(self, name: str, actor) -> None:
        """Record a worker's process id and node in the run folder (`workers.json`), for operators.

        Call it before the worker's long-running loop starts: an env worker answers one call at a time.
        """
        self.where[name] = self.call(actor.where.remote())
        write_text_atomic(self.run_dir.path / "workers.json", json.dumps(self.where, indent=2))

    def _spawn_inference_worker(self, index: int):
        return assembly.spawn_inference_worker(
            self.config, self.observation_space, self.action_space, self.hub, self.config.seed + 100 + index
        )

    def check_inference_of(self, env_index: int) -> bool:
        """Ping the inference worker env worker `env_index` uses; replace it when it is gone.

        Returns False when it had to be replaced and may not be (restarts off or used up).
        """
        if not self.inference:
            return True
        index = env_index % len(self.inference)
        name = f"inference{index}"
        try:
            self.call(self.inference[index].where.remote(), timeout_s=10.0)
            return True
        except (RayError, GetTimeoutError) as err:
            if not self.allow_restart(name, describe_failure(err)):
                return False
            retire(self.inference[index])
            self.inference[index] = self._spawn_inference_worker(index)
            self.record_where(name, self.inference[index])
            return True

    def _spawn_env_worker(self, index: int):
        inference = self.inference[index % len(self.inference)] if self.inference else None
        seed = self.config.seed + 1000 * (index + 1) + self.restarts.get(self.worker_names[index], 0) + self.base[0]
        return assembly.spawn_env_worker(self.config, index, self.hub, inference, seed, self.buffer_path,
                                         self.reward_worker)

    def call(self, ref, timeout_s: float | None = None):
        return ray.get(ref, timeout=timeout_s or self.config.runtime.call_timeout_s)

    # -- time and counters ---------------------------------------------------------------------

    def wall_time_s(self) -> float:
        return self.base_wall_s + time.monotonic() - self.started

    def snapshot(self) -> dict[str, Any]:
        return self.call(self.hub.snapshot.remote())

    def done(self, snap: dict[str, Any]) -> bool:
        rt = self.config.runtime
        if self.interrupted:
            return True
        target = rt.target_eval_success
        self.reached_target = target is not None and self.last_eval.get("success_rate", 0.0) >= target
        return self.reached_target or snap["env_steps"] >= rt.total_env_steps or self.wall_time_s() >= rt.max_wall_time_s

    def record(self, snap: dict[str, Any], previous: dict[str, Any] | None, dt: float) -> dict[str, Any]:
        """One metrics line from a hub snapshot; rates are over the `dt` seconds since `previous`."""
        workers = snap["workers"].values()
        recent = [s for w in workers for s in w["recent_success"]]
        returns = [r for w in workers for r in w["recent_returns"]]
        steps = sum(w["env_steps"] for w in workers)
        now = time.monotonic()
        learner = snap["learner"]
        record: dict[str, Any] = {
            "wall_time_s": self.wall_time_s(),
            "env_steps": snap["env_steps"],
            "updates": snap["updates"],
            "episodes": snap["episodes"],
            "policy_version": snap["policy_version"],
            "success_rate": float(np.mean(recent)) if recent else None,
            "return_mean": float(np.mean(returns)) if returns else None,
            "buffer_transitions": int(learner.get("buffer_transitions", 0)),
            "robot_utilisation": {
                w["name"]: min(1.0, w["acting_s"] / max(now - self.worker_started.get(w["name"], now), 1e-9))
                for w in workers
            },
            "staleness_mean": sum(w["staleness_sum"] for w in workers) / steps if steps else 0.0,
            "staleness_max": max((w["staleness_max"] for w in workers), default=0),
        }
        interventions = [s for w in workers for s in w.get("recent_intervention", [])]
        if self.config.intervention.enabled:
            robot_hours = sum(now - self.worker_started.get(w["name"], now) for w in workers) / 3600.0
            record["intervention_rate"] = float(np.mean(interventions)) if interventions else 0.0
            record["interventions"] = sum(w.get("takeovers", 0) for w in workers)
            record["interventions_per_robot_hour"] = record["interventions"] / robot_hours if robot_hours > 0 else 0.0
        if previous is not None and dt > 0:
            record["env_steps_per_s"] = (snap["env_steps"] - previous["env_steps"]) / dt
            record["updates_per_s"] = (snap["updates"] - previous["updates"]) / dt
        # Every scalar the learner reports (its algorithm's losses, the replay's figures) is kept;
        # the run's own counters above take precedence over the learner's view of them.
        for key, value in learner.items():
            if key not in record and isinstance(value, (int, float)):
                record[key] = value
        record.update({f"eval_{k}": v for k, v in self.last_eval.items()})
        return record

    def tick(self, snap: dict[str, Any], progress) -> None:
        """Show a snapshot, then do what is due: a metrics line, an evaluation, a checkpoint."""
        rt, now = self.config.runtime, time.monotonic()
        # Rates over the whole span since the last logged line: workers report every half
        # second, so a span of one tick would show a rate of 0 or double the truth.
        record = self.record(snap, self._previous, now - self._last_log)
        if now - self._last_log >= rt.log_every_s:
            self.metrics.log(record)
            self._previous, self._last_log = snap, now
            self._shown_rates = {k: record[k] for k in ("env_steps_per_s", "updates_per_s") if k in record}
        progress.update(self.progress_view({**record, **self._shown_rates}, snap))
        first_weights = rt.eval_first_weights and not self._evaluated_first and snap["policy_version"] > 0
        if first_weights or now - self._last_eval >= rt.eval_every_s:
            self._evaluated_first = self._evaluated_first or snap["policy_version"] > 0
            if self.evaluate(snap["env_steps"]) is not None:  # every evaluation gets its own line
                self.metrics.log(self.record(snap, self._previous, now - self._last_log))
            self._last_eval = time.monotonic()
        if now - self._last_checkpoint >= rt.checkpoint_every_s:
            self.checkpoint(snap)
            self._last_checkpoint = time.monotonic()

    def settled_snapshot(self) -> dict[str, Any]:
        """A hub snapshot whose learner stats are fresh from the learner, with everything it has
        received acknowledged (the learner reports only periodically). Once the workers have
        stopped, this is what the last metrics line and checkpoint should count."""
        snap = self.snapshot()
        try:
            snap["learner"] = {**snap["learner"], **self.call(self.learner.settle.remote())}
        except (RayError, GetTimeoutError) as err:  # a dead learner: its last report stands
            self.log(f"[yellow]final learner stats unavailable: {describe_failure(err)}")
        return snap

    def final_evaluation(self, snap: dict[str, Any]) -> None:
        """Evaluate the final weights, unless the evaluation that ended the run is the final word."""
        if not self.reached_target:
            self.evaluate(snap["env_steps"])

    def log_final(self, snap: dict[str, Any], progress) -> None:
        """The last metrics line of the run (after its final evaluation and checkpoint)."""
        record = self.record(snap, self._previous, time.monotonic() - self._last_log)
        self.metrics.log(record)
        progress.update(self.progress_view(record, snap))

    def progress_view(self, record: dict[str, Any], snap: dict[str, Any]) -> dict[str, Any]:
        view = dict(record)
        view["buffer_size"] = record["buffer_transitions"]
        view["workers"] = {
            name: {
                "state": w["state"],
                "env_steps": w["env_steps"],
                "episodes": w["episodes"],
                "success_rate": float(np.mean(w["recent_success"])) if w["recent_success"] else None,
            }
            for name, w in snap["workers"].items()
        }
        return view

    # -- evaluation and checkpoints ----------------------------------------------------------------

    def evaluate(self, env_steps: int) -> dict[str, Any] | None:
        """Evaluate the newest weights deterministically on a fresh copy of worker 0's env.

        Skipped when worker 0 drives a robot server: the robot is busy acting for training.
        """
        if self.config.env.is_fleetrl_task and assembly.robot_type_of(self.config.env.robots[0]) is None:
            return None
        found = ray_weight_fetcher(self.hub, self.config.runtime.call_timeout_s)(0)
        if found is None:
            return None
        policy = build_policy(self.config.policy, self.observation_space, self.action_space, seed=self.config.seed)
        policy.load_weights(found[1], found[0])
        # Simulated robots evaluate unpaced: the wall clock adds nothing to a policy's score.
        env_config = self.config.env.model_copy(update={"paced": False})
        result = evaluate_policy(policy, env_config, self.config.runtime.eval_episodes, seed=10_000 + env_steps)
        self.last_eval = {"success_rate": result["success_rate"], "return_mean": result["mean_return"],
                          "env_steps": env_steps, "policy_version": found[0]}
        return result

    def checkpoint(self, snap: dict[str, Any]) -> None:
        state = self.call(self.learner.state.remote())
        state["counters"] = {
            "env_steps": snap["env_steps"],
            "updates": snap["updates"],
            "episodes": snap["episodes"],
            "wall_time_s": self.wall_time_s(),
            "policy_version": state["learner"]["version"],
        }
        state["rng"] = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
        save_checkpoint(self.run_dir, snap["env_steps"], state)

    # -- failures --------------------------------------------------------------------------------

    def allow_restart(self, name: str, reason: str) -> bool:
        """Count a failure of `name`; True when it may be restarted, else record why we stop."""
        count = self.restarts.get(name, 0)
        if self.config.runtime.restart_failed_workers and count < self.config.runtime.max_restarts:
            self.restarts[name] = count + 1
            self.log(f"[yellow]{name} failed ({reason}); restarting it ({count + 1}/{self.config.runtime.max_restarts})")
            return True
        why = "used up its restarts" if self.config.runtime.restart_failed_workers else "may not be restarted"
        self.failure = f"{name} failed ({reason}) and {why}"
        return False

    def restart_learner(self) -> None:
        """A new learner from the newest checkpoint, reopening the buffer folder (a disk replay keeps
        every acknowledged transition; a memory replay starts empty)."""
        state = load_latest_checkpoint(self.run_dir)
        # A learner whose loop raised still lives: let it acknowledge what it holds. Dead or hung,
        # what it had not acknowledged is lost either way.
        self.close_learner(timeout_s=min(self.config.runtime.call_timeout_s, 10.0))
        retire(self.learner)
        self.learner = assembly.spawn_learner(
            self.config, self.observation_space, self.action_space, self.hub, self.config.seed + len(self.restarts), state,
            self.buffer_path,
        )
        self.call(self.learner.continue_versions_from.remote(self.snapshot()["policy_version"]))
        self.call(self.hub.set_learner.remote([self.learner]))
        self.record_where("learner", self.learner)
        self.attach_shards()

    def log(self, message: str) -> None:
        if self.console is not None:
            self.console.print(message)

    def shutdown(self) -> None:
        for sig, handler in getattr(self, "_previous_handlers", {}).items():
            signal.signal(sig, handler)
        self.metrics.plot_learning_curve()
        self.metrics.close()
        if getattr(self, "learner", None) is not None:  # acknowledge the replay's pending writes first
            failure = self.close_learner(self.config.runtime.call_timeout_s)
            if failure is not None:
                self.log(f"[yellow]the learner did not close its buffer cleanly ({failure})")
        ray.shutdown()

    def close_learner(self, timeout_s: float) -> str | None:
        """Have the learner acknowledge its pending writes and release its buffer shard; None when
        it did, else why not (dead, failed, or no answer within `timeout_s`)."""
        try:
            self.call(self.learner.close.remote(), timeout_s=timeout_s)
        except (RayError, TimeoutError) as err:
            return describe_failure(err)
        return None


def retire(actor) -> None:
    """End a worker that is being replaced. One whose loop raised is still alive and holds what it
    opened (a buffer shard, a robot, a port): its replacement could not take them over. Ray ends
    the process asynchronously; whoever needs its resources waits for them (`open_when_free`)."""
    try:
        ray.kill(actor, no_restart=True)
    except (RayError, ValueError):  # already gone
        pass


def describe_failure(err: BaseException) -> str:
    """A one-line reason from a Ray error (its first line, without the traceback)."""
    lines = [line.strip() for line in str(err).strip().splitlines() if line.strip()]
    errors = [line for line in lines if "Error" in line.split(":", 1)[0] or "Exception" in line.split(":", 1)[0]]
    chosen = errors[-1] if errors else (lines[-1] if lines else type(err).__name__)
    return chosen[:300]


__all__ = ["Trainer", "WorkerFailure", "describe_failure", "retire"]
