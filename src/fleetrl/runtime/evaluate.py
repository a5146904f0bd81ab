"""Evaluating a policy: episodes on env worker 0's environment, and loading a run's policy.

    policy, config = load_policy_from_run("runs/pick_cube-20250101-120000")
    report = evaluate_policy(policy, config.env, episodes=10, seed=0)
    report["success_rate"], report["mean_return"]
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from fleetrl.core.errors import ConfigError
from fleetrl.core.interfaces import Policy
from fleetrl.envs.success import episode_success
from fleetrl.runtime.checkpoint import load_latest_checkpoint
from fleetrl.runtime.config import EnvConfig, RunConfig
from fleetrl.runtime.env_factory import make_worker_env
from fleetrl.runtime.run_dir import RunDir


def evaluate_policy(
    policy: Policy,
    env_config: EnvConfig,
    episodes: int,
    seed: int,
    deterministic: bool = True,
    on_episode: Callable[[int, dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run `episodes` episodes of `policy` on `make_worker_env(env_config, 0)`; close it after.

    Episode i is reset with seed `seed + i`, so two evaluations with one seed see the same starts.
    An episode ends when the environment terminates or truncates (its time limit). Success is
    read from the last step's info under `env_config.success_key` (`fleetrl.envs.success`).
    Evaluation judges by the task's own success test: an env configured to pay nothing (`reward:
    none`, for runs whose learned reward ends the episodes) is evaluated with `reward: sparse`, so
    an episode ends at its first true success, as a training episode ends at the reward's verdict.
    `on_episode(i, {"success", "return", "length"})` is called after each episode.
    Returns {"episodes", "success_rate", "mean_return", "mean_length", "returns", "successes"}.
    """
    if episodes < 1:
        raise ValueError(f"episodes must be at least 1, got {episodes}")
    env = make_worker_env(judged_by_the_task(env_config), 0)
    returns: list[float] = []
    successes: list[bool] = []
    lengths: list[int] = []
    try:
        for index in range(episodes):
            result = _run_episode(env, policy, seed + index, deterministic, env_config.success_key)
            returns.append(result["return"])
            successes.append(result["success"])
            lengths.append(result["length"])
            if on_episode is not None:
                on_episode(index, result)
    finally:
        env.close()
    return {
        "episodes": episodes,
        "success_rate": float(np.mean(successes)),
        "mean_return": float(np.mean(returns)),
        "mean_length": float(np.mean(lengths)),
        "returns": returns,
        "successes": successes,
    }


def judged_by_the_task(env_config: EnvConfig) -> EnvConfig:
    """`env_config`, with an env reward of "none" replaced by "sparse" (see `evaluate_policy`)."""
    if env_config.kwargs.get("reward") != "none":
        return env_config
    return env_config.model_copy(update={"kwargs": {**env_config.kwargs, "reward": "sparse"}})


def _run_episode(env, policy: Policy, seed: int, deterministic: bool, success_key: str | None) -> dict[str, Any]:
    obs, info = env.reset(seed=seed)
    total, length, done = 0.0, 0, False
    while not done:
        obs, reward, terminated, truncated, info = env.step(policy.act(obs, deterministic=deterministic))
        total += float(reward)
        length += 1
        done = bool(terminated or truncated)
    return {"success": episode_success(info, success_key), "return": total, "length": length}


def load_policy_from_run(run_dir: RunDir | str | Path) -> tuple[Policy, RunConfig]:
    """The policy of a run's newest loadable checkpoint, and the run's config.

    Raises `ConfigError` naming the folder when it is not a run, has no (loadable) checkpoint,
    or its checkpoint lacks "policy_weights".
    """
    policy, config, _ = load_run_policy(run_dir)
    return policy, config


def load_run_policy(run_dir: RunDir | str | Path) -> tuple[Policy, RunConfig, dict[str, Any]]:
    """Like `load_policy_from_run`, also returning the checkpoint's counters (env_steps, ...)."""
    run = RunDir.open(run_dir.path if isinstance(run_dir, RunDir) else run_dir)
    from fleetrl.policies import build_policy  # imported late: the folder is checked first
    state = load_latest_checkpoint(run)
    if state is None:
        raise ConfigError(f"run folder {run.path}: no loadable checkpoint in {run.checkpoints}")
    if "policy_weights" not in state:
        raise ConfigError(f"run folder {run.path}: its checkpoint has no 'policy_weights'")
    counters = dict(state.get("counters") or {})
    config = run.config
    env = make_worker_env(config.env, 0)
    try:
        observation_space, action_space = env.observation_space, env.action_space
    finally:
        env.close()
    policy = build_policy(config.policy, observation_space, action_space, seed=config.seed)
    policy.load_weights(state["policy_weights"], int(counters.get("policy_version", 0)))
    return policy, config, counters
