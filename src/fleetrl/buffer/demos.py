"""Demonstration files: one chunk of transitions and its metadata in a compressed .npz.

    chunk, meta = record_expert_demos("fleetrl/PickCube-v0", {"robot": "sim_panda"}, episodes=20, seed=0)
    save_demos("demos/pick_cube.npz", chunk, meta)
    chunk, meta = load_demos("demos/pick_cube.npz")      # what `buffer.demos` in a run config loads

The file holds the chunk's arrays under their chunk keys (see `fleetrl.buffer.transitions`) and
the metadata as JSON in the array "__meta__"; it loads without pickle. Writes are atomic: a
temporary file beside the target is written, fsynced and renamed over it, so a crash leaves
either the old file or the new one, never a partial file.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from fleetrl.buffer.transitions import ACTOR_EXPERT, SOURCE_DEMO, ChunkBuilder, chunk_len, concat_chunks, with_default_fields
from fleetrl.core.errors import FleetrlError
from fleetrl.core.files import fsync_dir

META_KEY = "__meta__"
FORMAT = "fleetrl-demos"
FORMAT_VERSION = 1


class DemoFileError(FleetrlError, ValueError):
    """A demonstration file is not a readable fleetrl demonstration file; the message says why."""


def _write_npz(file, arrays: Mapping[str, np.ndarray]) -> None:
    np.savez_compressed(file, **arrays)


def save_demos(path: str | Path, chunk: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> Path:
    """Write `chunk` and JSON-serialisable `meta` to `path` atomically; returns the path."""
    chunk_len(chunk)
    for key, value in chunk.items():
        if key == META_KEY or np.asarray(value).dtype.kind not in "biuf":
            raise ValueError(f"chunk[{key!r}]: only numeric arrays can be saved (got {np.asarray(value).dtype})")
    header = {"format": FORMAT, "version": FORMAT_VERSION, **meta}
    arrays = {key: np.asarray(value) for key, value in chunk.items()}
    arrays[META_KEY] = np.array(json.dumps(header))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            _write_npz(file, arrays)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return path


def load_demos(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """(chunk, meta) from a file written by `save_demos`.

    Raises FileNotFoundError when there is no file, DemoFileError when it is not a valid one.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    damaged = (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error)
    try:
        data = np.load(path, allow_pickle=False)
    except damaged as err:
        raise DemoFileError(f"not a readable .npz archive: {type(err).__name__}: {err}") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise DemoFileError("a single .npy array, not an .npz archive")
    try:
        with data:
            arrays = {key: data[key] for key in data.files}
    except damaged as err:
        raise DemoFileError(f"damaged .npz archive: {type(err).__name__}: {err}") from None
    if META_KEY not in arrays:
        raise DemoFileError("no metadata: not written by fleetrl's save_demos")
    try:
        meta = json.loads(str(arrays.pop(META_KEY)))
    except json.JSONDecodeError as err:
        raise DemoFileError(f"metadata is not valid JSON: {err}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise DemoFileError(f"metadata does not name the format {FORMAT!r}")
    try:
        arrays = with_default_fields(arrays)  # files from before the actor and success fields
    except ValueError as err:
        raise DemoFileError(str(err)) from None
    return arrays, meta


def _expert_episode(env, expert, builder: ChunkBuilder, seed: int) -> tuple[list[dict], bool]:
    """Run one episode under `expert`; returns its chunks and whether it succeeded."""
    obs, _ = env.reset(seed=seed)
    chunks, success, done = [], False, False
    while not done:
        action = np.clip(expert.act(env.unwrapped.last_observation), -1.0, 1.0).astype(np.float32)
        next_obs, reward, terminated, truncated, info = env.step(action)
        success = bool(info.get("success", False))
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
    import gymnasium as gym

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
