"""Recording demonstrations from a person at a teleop device, in the buffer's chunk format.

    chunk, meta = record_expert_demos("fleetrl/PickCube-v0", {"robot": "sim_panda"}, episodes=20, seed=0)
    chunks, meta = record_teleop_demos(env, teleop, episodes=5, seed=0)

The person drives every step (the device's command, whether or not its engage button is held;
without a command the hand holds still). An episode ends at the env's time limit or success, or
when the person presses "end_episode", "success" or "failure"; their label, when given, is the
episode's success label, else the task's own test is. Steps are stored with source
"demonstration", actor "human" and policy version -1.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from fleetrl.core.transitions import ACTOR_EXPERT, ACTOR_HUMAN, SOURCE_DEMO, ChunkBuilder, chunk_len, concat_chunks
from fleetrl.envs.intervention import command_to_env_action
from fleetrl.envs.success import episode_success

ENDING_EVENTS = frozenset({"end_episode", "success", "failure"})


def _teleop_episode(env: gym.Env, teleop, builder: ChunkBuilder, seed: int, on_step: Callable[[int], None] | None):
    """One person-driven episode: (its chunks, success label)."""
    mode = env.unwrapped.actions.mode
    obs, _ = env.reset(seed=seed)
    chunks, label, steps = [], None, 0
    while True:
        command = teleop.read()
        action = command_to_env_action(command.action, mode)
        next_obs, reward, terminated, truncated, info = env.step(action)
        if "success" in command.events:
            label = True
        elif "failure" in command.events:
            label = False
        ended_by_person = bool(command.events & ENDING_EVENTS)
        success = episode_success(info) if label is None else label
        builder.append(obs, action, reward, next_obs, terminated, truncated or ended_by_person,
                       policy_version=-1, robot=0, source=SOURCE_DEMO, actor=ACTOR_HUMAN, success=success)
        while (chunk := builder.pop_chunk()) is not None:
            chunks.append(chunk)
        steps += 1
        if on_step is not None:
            on_step(steps)
        if terminated or truncated or ended_by_person:
            break
        obs = next_obs
    last = builder.flush()
    if last is not None:
        chunks.append(last)
    return chunks, success


def record_teleop_demos(env: gym.Env, teleop, episodes: int, seed: int = 0, only_successes: bool = True,
                        on_step: Callable[[int], None] | None = None) -> tuple[list[dict], dict]:
    """Episodes driven by a person at `teleop` (a connected `Teleoperator`): (chunks, meta).

    meta: "attempted", "episodes" (kept), "successes", "transitions". With `only_successes`,
    episodes labelled failed (by the person or the task) are dropped.
    """
    builder = ChunkBuilder(env.observation_space, chunk_size=64)
    kept, successes = [], 0
    for episode in range(episodes):
        chunks, success = _teleop_episode(env, teleop, builder, seed + episode, on_step)
        successes += int(success)
        if success or not only_successes:
            kept.extend(chunks)
    meta = {"attempted": episodes, "episodes": successes if only_successes else episodes, "successes": successes,
            "transitions": int(sum(len(c["action"]) for c in kept)), "device": getattr(teleop, "name", "teleop")}
    return kept, meta


def _expert_episode(env, expert, builder: ChunkBuilder, seed: int) -> tuple[list[dict], bool]:
    """Run one episode under `expert`; returns its chunks and whether it succeeded."""
    obs, _ = env.reset(seed=seed)
    chunks, success, done = [], False, False
    while not done:
        action = np.clip(expert.act(env.unwrapped.last_observation), -1.0, 1.0).astype(np.float32)
        next_obs, reward, terminated, truncated, info = env.step(action)
        success = episode_success(info)
        builder.append(obs, action, reward, next_obs, terminated, truncated,
                       policy_version=-1, robot=0, source=SOURCE_DEMO, actor=ACTOR_EXPERT, success=success)
        while (chunk := builder.pop_chunk()) is not None:
            chunks.append(chunk)
        done = terminated or truncated
        obs = next_obs
    last = builder.flush()
    if last is not None:
        chunks.append(last)
    return chunks, success


def record_expert_demos(
    env_id: str,
    env_kwargs: Mapping[str, Any],
    episodes: int,
    seed: int,
    only_successes: bool = True,
    env=None,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Run the task's scripted expert for `episodes` episodes (seeds seed, seed+1, ...), in `env`
    when given (it is closed afterwards), else in `gym.make(env_id, **env_kwargs)`.

    Transitions are stored with source=SOURCE_DEMO, policy_version=-1 and robot=0. With
    `only_successes`, failed episodes are dropped. meta: env_id, env_kwargs, seed, "attempted"
    (episodes run), "episodes" (episodes kept), "successes" (kept episodes that succeeded),
    "transitions". Raises ValueError when no episode was kept.
    """
    import fleetrl.envs  # noqa: F401  (registers the environment ids)
    from fleetrl.envs.experts import expert_for

    env = gym.make(env_id, **dict(env_kwargs)) if env is None else env  # `env`: one with the run's rewards
    try:
        expert = expert_for(env)
        builder = ChunkBuilder(env.observation_space, chunk_size=64)
        kept, successes = [], 0
        for episode in range(episodes):
            chunks, success = _expert_episode(env, expert, builder, seed + episode)
            if success or not only_successes:
                kept.extend(chunks)
                successes += int(success)
    finally:
        env.close()
    episodes_kept = successes if only_successes else episodes
    if not kept:
        raise ValueError(f"{env_id}: the expert succeeded in none of {episodes} episodes")
    chunk = concat_chunks(kept)
    meta = {
        "env_id": env_id,
        "env_kwargs": dict(env_kwargs),
        "seed": seed,
        "attempted": episodes,
        "episodes": episodes_kept,
        "successes": successes,
        "transitions": chunk_len(chunk),
    }
    return chunk, meta
