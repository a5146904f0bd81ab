"""Recording demonstrations from a person at a teleop device, in the buffer's chunk format.

    chunks, meta = record_teleop_demos(env, teleop, episodes=5, seed=0)

The person drives every step (the device's command, whether or not its engage button is held;
without a command the hand holds still). An episode ends at the env's time limit or success, or
when the person presses "end_episode", "success" or "failure"; their label, when given, is the
episode's success label, else the task's own test is. Steps are stored with source
"demonstration", actor "human" and policy version -1.
"""

from __future__ import annotations

from collections.abc import Callable

import gymnasium as gym
import numpy as np

from fleetrl.buffer.transitions import ACTOR_HUMAN, SOURCE_DEMO, ChunkBuilder
from fleetrl.envs.intervention import command_to_env_action

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
        success = bool(info.get("success", False)) if label is None else label
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
