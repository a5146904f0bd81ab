"""Running one episode of an environment under a controller (an expert, later a policy)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from fleetrl.core.types import Observation
from fleetrl.envs.success import episode_success


@dataclass
class EpisodeResult:
    """What one episode did: success, length in steps, undiscounted return."""

    success: bool
    steps: int
    episode_return: float


def run_episode(
    env,
    choose_action: Callable[[Observation], np.ndarray],
    seed: int,
    on_step: Callable[[int, Observation], None] | None = None,
) -> EpisodeResult:
    """Reset `env` with `seed`, act with `choose_action(raw observation)` until the episode ends.

    `on_step(step_index, raw_observation)` is called after the reset (index 0) and every step.
    """
    inner = env.unwrapped
    env.reset(seed=seed)
    if on_step is not None:
        on_step(0, inner.last_observation)
    total, steps, success, done = 0.0, 0, False, False
    while not done:
        _, reward, terminated, truncated, info = env.step(choose_action(inner.last_observation))
        steps += 1
        total += float(reward)
        success = episode_success(info)
        done = terminated or truncated
        if on_step is not None:
            on_step(steps, inner.last_observation)
    return EpisodeResult(success, steps, total)
