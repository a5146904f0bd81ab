"""Synchronous against asynchronous learning: episode generation and training speed, paced robots.

For each setting, the same task, model and robots run twice through the real runtime (Trainer,
SyncRun, AsyncRun on Ray), first `runtime.mode=sync` then `runtime.mode=async`, each measured for
a fixed wall time after start-up, with the simulated robots paced at 10 Hz like real arms. The
figures come from the run hub's counters over a steady window: from the first snapshot in which
every robot has acted and the learner has reported, to the end of the run. Settings: "state"
(PickCube, state observations, MLP 256x256, SAC) and "pixels" (PickCube, two 64x64 cameras, CNN,
SAC at batch 64, shaped like the reference's CNN + SAC row; on a CPU one such update takes about
0.1 s, where the reference's RTX 4090 takes a few milliseconds).
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
from rich.console import Console
from rich.table import Table

from fleetrl.bench.machine import machine_info
from fleetrl.core.arguments import positive_int
from fleetrl.core.errors import FleetrlError

TASK = "fleetrl/PickCube-v0"
ROBOT = "sim_panda"
LEARNING_STARTS = 100  # one episode of one robot: both modes train from the first round on
STARTUP_LIMIT_S = 300.0  # Ray start-up and actor construction allowed before the window starts
MODES = ("sync", "async")
WINDOW = ("from the first hub snapshot in which every robot has acted and the learner has reported, "
          "to each worker's last report; Ray start-up, actor construction and the final evaluation excluded")
FIGURES = (
    "gen_s_per_episode", "train_s_per_update", "robot_duty_cycle",
    "updates_per_env_step", "inference_ms_p50", "inference_ms_p99",
)
# The reference's CNN + SAC row (real Franka, RTX 4090): generation s/episode, training s/update.
REFERENCE = {
    "sync": {"gen_s_per_episode": 20.29, "train_s_per_update": 0.64},
    "async": {"gen_s_per_episode": 13.11, "train_s_per_update": 0.14},
    "speedup": {"generation": 1.55, "training": 4.61},
}
SETTINGS: dict[str, dict[str, Any]] = {
    "state": {
        "env_kwargs": {"obs_mode": "state", "reward": "shaped"},
        "policy": {"type": "mlp", "hidden_sizes": [256, 256]},
        # 128 rather than 256 so that the learner has a batch after the second episode.
        "batch_size": 128,
        "capacity": 50_000,
    },
    "pixels": {
        "env_kwargs": {"obs_mode": "pixels", "reward": "shaped", "image_size": 64},
        "policy": {"type": "cnn"},
        "batch_size": 64,
        "capacity": 20_000,
    },
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--setting", choices=(*SETTINGS, "both"), default="both",
                        help="state: MLP on state observations; pixels: CNN on two 64x64 cameras; both: one then the other")
    parser.add_argument("--seconds", type=_positive_float, default=90.0,
                        help="wall time measured in each run (one sync and one async run per setting), after start-up")
    parser.add_argument("--robots", type=positive_int, default=1, help="simulated Panda arms, each paced at 10 Hz")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


# -- the run config of one measurement -----------------------------------------------------------


def run_config(setting: str, mode: str, seconds: float, robots: int):
    """The RunConfig of one measured run: `setting` in SETTINGS, `mode` 'sync' or 'async'.

    Evaluation and checkpoints are pushed past the budget so nothing but acting and learning
    happens in the window (the runners still evaluate one episode and checkpoint at the end).
    """
    from fleetrl.runtime.config import RunConfig

    spec = SETTINGS[setting]
    return RunConfig.model_validate({
        "name": f"bench_pipeline_{setting}_{mode}",
        "env": {"id": TASK, "kwargs": dict(spec["env_kwargs"]), "robots": [ROBOT] * robots, "paced": True},
        "policy": spec["policy"],
        "algorithm": {"type": "sac", "batch_size": spec["batch_size"]},
        "buffer": {"capacity": spec["capacity"]},
        "runtime": {
            "mode": mode, "total_env_steps": 10**9, "max_wall_time_s": seconds + STARTUP_LIMIT_S,
            "learning_starts": LEARNING_STARTS, "sync_episodes_per_round": 1,
            "eval_every_s": 1e9, "eval_episodes": 1, "checkpoint_every_s": 1e9,
            "restart_failed_workers": False,
        },
    })


# -- what the driver saw -----------------------------------------------------------------------


@dataclass
class Observed:
    """A hub snapshot and the driver's monotonic time (s) when it arrived."""

    t: float
    snap: dict[str, Any]

    def as_of(self, name: str) -> float:
        """When `name` (a worker or "learner") last reported: its counters are exact at that time.

        Counters change only when a worker reports, so subtracting two `as_of` times gives the
        wall time that the difference of its counters covers, whenever the snapshot was taken.
        """
        return self.t - self.snap["heartbeat_age_s"][name]


@dataclass
class SnapshotLog:
    """Every snapshot the driver takes: the window's start, and per-step inference latencies.

    A worker's `inference_ms` holds the latencies of its last steps, the last one being step
    `env_steps`; keyed by step index they are deduplicated across snapshots. Steps up to the last
    report made with policy version 0 acted at random (no weights yet) and are left out.
    """

    workers: list[str]
    start: Observed | None = None
    latencies: dict[str, dict[int, float]] = field(default_factory=dict)
    random_until: dict[str, int] = field(default_factory=dict)

    def see(self, observed: Observed) -> None:
        stats = observed.snap["workers"]
        if self.start is None and self._steady(observed):
            self.start = observed
        for name, w in stats.items():
            if w["policy_version"] == 0:
                self.random_until[name] = max(self.random_until.get(name, 0), w["env_steps"])
            recent = w["inference_ms"]
            first = w["env_steps"] - len(recent) + 1
            self.latencies.setdefault(name, {}).update(zip(range(first, w["env_steps"] + 1), recent))

    def _steady(self, observed: Observed) -> bool:
        stats = observed.snap["workers"]
        acted = all(name in stats and stats[name]["env_steps"] > 0 for name in self.workers)
        return acted and bool(observed.snap["learner"]) and "learner" in observed.snap["heartbeat_age_s"]

    def window_latencies(self, end: Observed) -> list[float]:
        """Latencies (ms) of the policy's steps inside the window, all robots pooled."""
        if self.start is None:
            return []
        out: list[float] = []
        for name in self.workers:
            lo = max(self.start.snap["workers"][name]["env_steps"], self.random_until.get(name, 0))
            hi = end.snap["workers"][name]["env_steps"]
            out += [ms for step, ms in self.latencies.get(name, {}).items() if lo < step <= hi]
        return out


def _watched_trainer(config, run_dir, console, log: SnapshotLog, window_s: float):
    """A Trainer that shows every hub snapshot to `log` and stops `window_s` after the window starts.

    The budget counts from the steady state, not from Ray's start: on a loaded machine start-up
    can take a minute, and it must not eat one mode's window more than the other's. The Trainer's
    own stops still apply (a signal; `max_wall_time_s`, which bounds the start-up).
    """
    from fleetrl.runtime.trainer import Trainer

    class WatchedTrainer(Trainer):
        def snapshot(self) -> dict[str, Any]:
            before = time.monotonic()
            snap = super().snapshot()
            log.see(Observed((before + time.monotonic()) / 2, snap))
            return snap

        def done(self, snap: dict[str, Any]) -> bool:
            steady_for = time.monotonic() - log.start.t if log.start is not None else 0.0
            return super().done(snap) or steady_for >= window_s

    return WatchedTrainer(config, run_dir, console=console)


# -- the figures ---------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0-100, linear interpolation); None for no values."""
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else None


def episode_steps(d_steps: int, d_episodes: int, d_successes: int, max_episode_steps: int) -> float:
    """Mean episode length (steps) in a window that may cut episodes at both ends.

    An episode ends at the time limit or on success, so with no success every episode has
    `max_episode_steps` steps; counting steps rather than whole episodes avoids an error of up to
    one episode per robot at each end. With successes, whole episodes are counted instead.
    """
    if d_successes == 0 or d_episodes == 0:
        return float(max_episode_steps)
    return d_steps / d_episodes


def _worker_delta(start: Observed, end: Observed, name: str) -> dict[str, float]:
    a, b = start.snap["workers"][name], end.snap["workers"][name]
    if b["env_steps"] < a["env_steps"]:
        raise FleetrlError(f"bench pipeline: {name} restarted during the window; its counters started again")
    delta = {key: b[key] - a[key] for key in
             ("env_steps", "episodes", "successes", "acting_s", "waiting_s", "inference_s", "staleness_sum")}
    delta["seconds"] = end.as_of(name) - start.as_of(name)
    if delta["seconds"] <= 0 or delta["env_steps"] <= 0:
        raise FleetrlError(f"bench pipeline: {name} did not act in the window; give it more --seconds")
    return delta


def window_figures(start: Observed, end: Observed, workers: list[str], max_episode_steps: int,
                   latencies_ms: list[float]) -> dict[str, Any]:
    """The figures of one run from the snapshots at the window's two ends (see the module doc).

    Each worker's and the learner's counters are differenced over their own report times, so the
    figures are rates; `gen_s_per_episode` is the window over episodes per robot.
    """
    per = [_worker_delta(start, end, name) for name in workers]
    step_rate = [w["env_steps"] / w["seconds"] for w in per]  # env steps per second, per robot
    total = {key: sum(w[key] for w in per) for key in ("env_steps", "episodes", "successes", "staleness_sum")}
    length = episode_steps(total["env_steps"], total["episodes"], total["successes"], max_episode_steps)
    learner_s = end.as_of("learner") - start.as_of("learner")
    updates = end.snap["updates"] - start.snap["updates"]
    update_time = end.snap["learner"].get("update_time_s", 0.0) - start.snap["learner"].get("update_time_s", 0.0)
    update_rate = updates / learner_s if learner_s > 0 else 0.0
    return {
        "gen_s_per_episode": length / float(np.mean(step_rate)),
        "train_s_per_update": learner_s / updates if updates > 0 else None,
        "robot_duty_cycle": float(np.mean([w["acting_s"] / w["seconds"] for w in per])),
        "updates_per_env_step": update_rate / sum(step_rate),
        "inference_ms_p50": percentile(latencies_ms, 50),
        "inference_ms_p99": percentile(latencies_ms, 99),
        "window_s": float(np.mean([w["seconds"] for w in per])),
        "env_steps": int(total["env_steps"]),
        "episodes": int(total["episodes"]),
        "episode_steps": length,
        "updates": int(updates),
        "env_steps_per_s_per_robot": float(np.mean(step_rate)),
        "update_compute_s": update_time / updates if updates > 0 else None,
        "learner_busy": update_time / learner_s if learner_s > 0 else 0.0,
        "robot_waiting_share": float(np.mean([w["waiting_s"] / w["seconds"] for w in per])),
        "robot_inference_share": float(np.mean([w["inference_s"] / w["seconds"] for w in per])),
        "staleness_mean": total["staleness_sum"] / total["env_steps"],
        "inference_samples": len(latencies_ms),
    }


def speedup(sync: dict[str, Any], asyn: dict[str, Any]) -> dict[str, float | None]:
    """How many times faster async is than sync (generation s/episode, training s/update)."""
    def ratio(key: str) -> float | None:
        return sync[key] / asyn[key] if sync.get(key) and asyn.get(key) else None

    return {"generation": ratio("gen_s_per_episode"), "training": ratio("train_s_per_update")}


# -- running ---------------------------------------------------------------------------------------


def measure(setting: str, mode: str, seconds: float, robots: int, console: Console) -> dict[str, Any]:
    """One run of `setting` in `mode` through the real runtime; its figures over the steady window."""
    from fleetrl.runtime.async_runner import AsyncRun
    from fleetrl.runtime.progress import LiveProgress
    from fleetrl.runtime.run_dir import RunDir
    from fleetrl.runtime.sync_runner import SyncRun

    config = run_config(setting, mode, seconds, robots)
    with tempfile.TemporaryDirectory(prefix="fleetrl-bench-") as folder:
        log, trainer = SnapshotLog([]), None
        try:
            trainer = _watched_trainer(config, RunDir.create(config, path=folder), console, log, seconds)
            log.workers = list(trainer.worker_names)
            runner = AsyncRun(trainer) if mode == "async" else SyncRun(trainer)
            with LiveProgress(config.runtime.total_env_steps, seconds, trainer.worker_names,
                              log_every_s=15.0, console=console) as progress:
                code = runner.run(progress)
            end = Observed(time.monotonic(), trainer.snapshot())
        finally:
            if trainer is not None:
                trainer.shutdown()
    if code != 0:
        raise FleetrlError(f"bench pipeline: the {setting} {mode} run failed: {trainer.failure}")
    if log.start is None:
        raise FleetrlError(f"bench pipeline: the {setting} {mode} run never reached a steady state; give it more --seconds")
    max_steps = gym.spec(TASK).max_episode_steps
    figures = window_figures(log.start, end, log.workers, max_steps, log.window_latencies(end))
    figures["startup_s"] = log.start.t - trainer.started
    figures["load_average_1min"] = os.getloadavg()[0]  # other processes on the machine show here
    return figures


def setting_summary(setting: str, robots: int) -> dict[str, Any]:
    spec = SETTINGS[setting]
    return {"task": TASK, "robot": ROBOT, "robots": robots, "paced_hz": 10, **spec["env_kwargs"],
            "policy": spec["policy"], "algorithm": "sac", "batch_size": spec["batch_size"],
            "learning_starts": LEARNING_STARTS, "sync_episodes_per_round": 1}


def run(args: argparse.Namespace, console: Console) -> dict:
    # Progress goes to stderr whatever the output, so `--json` leaves stdout to the JSON.
    progress_console = Console(stderr=True)
    settings = list(SETTINGS) if args.setting == "both" else [args.setting]
    result: dict[str, Any] = {"benchmark": "pipeline", "machine": machine_info(),
                              "budget": {"window_s_per_run": args.seconds, "robots": args.robots,
                                         "window": WINDOW}, "settings": {}}
    for setting in settings:
        figures = {}
        for mode in MODES:
            progress_console.log(f"{setting}, {mode} mode: {args.seconds:g} s with {args.robots} paced robot(s)")
            figures[mode] = measure(setting, mode, args.seconds, args.robots, progress_console)
        result["settings"][setting] = {"config": setting_summary(setting, args.robots), **figures,
                                       "speedup": speedup(figures["sync"], figures["async"])}
    first = result["settings"][settings[0]]
    for mode in MODES:  # the required shape: the six figures of the first setting on top
        result[mode] = {key: first[mode][key] for key in FIGURES}
    result["reference"] = REFERENCE
    return result


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table(result: dict) -> Table:
    machine = result["machine"]
    out = Table(title=f"sync vs async, {result['budget']['window_s_per_run']:g} s measured per run, "
                      f"{result['budget']['robots']} paced robot(s), {machine['cpu']} ({machine['cores']} cores); "
                      "reference: CNN + SAC, real Franka, RTX 4090")
    for column in ("setting", "mode", "gen s/episode", "ref", "train s/update", "ref",
                   "duty cycle", "updates/env step", "infer ms p50", "p99"):
        out.add_column(column, justify="left" if column in ("setting", "mode") else "right")
    for name, setting in result["settings"].items():
        for mode in (*MODES, "speedup"):
            row, ref = setting[mode], REFERENCE[mode]
            if mode == "speedup":
                out.add_row(name, "async speed-up", _fmt(row["generation"]) + "x", f"{ref['generation']:.2f}x",
                            _fmt(row["training"]) + "x", f"{ref['training']:.2f}x", "", "", "", "")
                continue
            out.add_row(name, mode, _fmt(row["gen_s_per_episode"]), f"{ref['gen_s_per_episode']:.2f}",
                        _fmt(row["train_s_per_update"], 3), f"{ref['train_s_per_update']:.2f}",
                        _fmt(row["robot_duty_cycle"]), _fmt(row["updates_per_env_step"]),
                        _fmt(row["inference_ms_p50"]), _fmt(row["inference_ms_p99"]))
    return out
