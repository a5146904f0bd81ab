"""Labelled camera frames of a simulated task, for training and benchmarking success classifiers.

    chunk, meta = collect_sim_frames("fleetrl/PickCube-v0", episodes=120, steps=40, image_size=64)
    save_demos("frames.npz", chunk, meta)          # then: fleetrl reward train frames.npz --camera scene ...
    result = measure_sim_accuracy()                # collect, train and score on held-out episodes

Episodes run the scripted expert, a noisy expert, an expert that lets go of the object after a
while (failures that look like successes until the drop) and random actions, in turn, so both
classes appear and the failures are not all trivially far from success. The env gives the shaped
reward, so a success does not end the episode and the success state is held (more positive
frames). Every step is labelled with `info["success"]` in the chunk's "success" field and its
actor in "actor" (ACTOR_EXPERT for the expert's behaviours, ACTOR_POLICY for random actions).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

BEHAVIOURS = ("expert", "noisy", "drop", "random")


def _action(behaviour: str, expert, env, rng: np.random.Generator, step: int, drop_at: int) -> np.ndarray:
    space = env.action_space
    if behaviour == "random":
        return rng.uniform(-1.0, 1.0, size=space.shape).astype(np.float32)
    action = np.asarray(expert.act(env.unwrapped.last_observation), dtype=np.float64)
    if behaviour == "noisy":
        action = action + rng.normal(0.0, 0.25, size=action.shape)
    elif behaviour == "drop" and step >= drop_at:
        action = rng.uniform(-0.5, 0.5, size=action.shape)
        if env.unwrapped.actions.mode != "xyz":  # the last entry is the gripper
            action[-1] = -1.0  # open it: the object falls
    return np.clip(action, -1.0, 1.0).astype(np.float32)


def collect_sim_frames(
    env_id: str = "fleetrl/PickCube-v0",
    episodes: int = 120,
    steps: int = 40,
    image_size: int = 64,
    cameras: Sequence[str] = ("scene", "wrist"),
    robot: str = "sim_panda",
    seed: int = 0,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """(chunk, meta): `episodes` episodes of `steps` steps of a fleetrl task in obs_mode "pixels"
    at `image_size` pixels, keeping `cameras` (and "state"); behaviours in turn (`BEHAVIOURS`),
    episode i seeded `seed + i`. The chunk is in the buffer's format plus "success" and "actor";
    meta counts frames per behaviour and class, and the seconds it took."""
    import gymnasium as gym

    import fleetrl.envs  # noqa: F401  (registers the environment ids)
    from fleetrl.core.transitions import ACTOR_EXPERT, ACTOR_POLICY, SOURCE_DEMO, SOURCE_ONLINE, ChunkBuilder, concat_chunks
    from fleetrl.envs.experts import expert_for

    started = time.perf_counter()
    env = gym.make(env_id, robot=robot, obs_mode="pixels", reward="shaped", image_size=image_size, max_episode_steps=steps)
    keep = ["state", *cameras]
    missing = [c for c in cameras if c not in env.observation_space.spaces]
    if missing:
        env.close()
        raise ValueError(f"{env_id} has no camera {missing}; it has {sorted(env.observation_space.spaces)}")
    space = gym.spaces.Dict({k: env.observation_space.spaces[k] for k in keep})
    builder = ChunkBuilder(space, chunk_size=steps)
    rng = np.random.default_rng(seed)
    chunks, counts = [], {b: {"success": 0, "failure": 0} for b in BEHAVIOURS}
    try:
        expert = expert_for(env)
        for episode in range(episodes):
            behaviour = BEHAVIOURS[episode % len(BEHAVIOURS)]
            drop_at = int(rng.integers(steps // 3, steps - 5))
            obs, _ = env.reset(seed=seed + episode)
            obs = {k: obs[k] for k in keep}
            done, step = False, 0
            while not done:
                action = _action(behaviour, expert, env, rng, step, drop_at)
                next_obs, reward, terminated, truncated, info = env.step(action)
                next_obs = {k: next_obs[k] for k in keep}
                scripted = behaviour != "random"
                builder.append(obs, action, reward, next_obs, terminated, truncated, policy_version=-1,
                               source=SOURCE_DEMO if scripted else SOURCE_ONLINE,
                               actor=ACTOR_EXPERT if scripted else ACTOR_POLICY, success=bool(info["success"]))
                counts[behaviour]["success" if info["success"] else "failure"] += 1
                obs, done, step = next_obs, terminated or truncated, step + 1
            while (chunk := builder.pop_chunk()) is not None:
                chunks.append(chunk)
        if (last := builder.flush()) is not None:
            chunks.append(last)
    finally:
        env.close()
    chunk = concat_chunks(chunks)
    meta = {
        "env_id": env_id, "robot": robot, "image_size": image_size, "cameras": list(cameras),
        "episodes": episodes, "steps": steps, "seed": seed, "frames": counts,
        "seconds": round(time.perf_counter() - started, 2),
    }
    return chunk, meta


def measure_sim_accuracy(
    out: str | Path = "runs/reward/pick_cube_scene.pt",
    env_id: str = "fleetrl/PickCube-v0",
    camera: str | Sequence[str] = "scene",
    episodes: int = 120,
    steps: int = 40,
    image_size: int = 64,
    epochs: int = 10,
    held_out: float = 0.2,
    seed: int = 0,
    frames_file: str | Path | None = None,
    threads: int = 1,
) -> dict[str, Any]:
    """Collect frames of `env_id` (`collect_sim_frames`), train a classifier on `camera`, and return
    `train_classifier`'s result (held-out accuracy, precision, recall, ...) with the collection's
    meta under "collection". With `frames_file`, the frames are also saved there (.npz), so
    `fleetrl reward train` can reproduce the training step alone. Trains on `threads` torch
    threads (restored afterwards)."""
    import torch

    from fleetrl.buffer.demos import save_demos
    from fleetrl.rewards.train_classifier import frames_from_chunks, train_classifier

    cameras = [camera] if isinstance(camera, str) else list(camera)
    chunk, meta = collect_sim_frames(env_id, episodes=episodes, steps=steps, image_size=image_size, cameras=cameras, seed=seed)
    if frames_file is not None:
        save_demos(frames_file, chunk, meta)
    data = frames_from_chunks([(meta["env_id"], "sim", chunk)], cameras)
    del chunk
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        result = train_classifier(data, Path(out), epochs=epochs, held_out=held_out, seed=seed,
                                  sheet=Path(out).with_suffix(".png"))
    finally:
        torch.set_num_threads(previous)
    result["collection"] = meta
    return result


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(measure_sim_accuracy(*sys.argv[1:2]), indent=2))
