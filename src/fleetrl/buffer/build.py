"""The replay a run config's `buffer` section describes, with its demonstrations loaded.

    replay = build_replay(config.buffer, seed=config.seed, default_path=run_dir / "buffer")

Storage "disk" gives a `PersistentReplay` writing shard "learner" of the buffer folder (reopened,
with everything acknowledged, by `--resume` and by a restarted learner), or with `writer: env`
one that only reads the env workers' shards; storage "memory" gives
the in-RAM `ReplayBuffer`. Every problem is a `ConfigError` naming the config key and the path.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from fleetrl.buffer.config import BufferConfig
from fleetrl.buffer.demos import DemoFileError, load_demos
from fleetrl.buffer.replay import ReplayBuffer
from fleetrl.buffer.samplers import MixedSampler, UniformSampler
from fleetrl.buffer.shard_layout import ShardBusy, find_shards, open_when_free
from fleetrl.buffer.storage import ArrayStorage
from fleetrl.core.errors import ConfigError
from fleetrl.core.interfaces import Buffer
from fleetrl.core.transitions import SOURCE_DEMO, SOURCE_INTERVENTION, chunk_len, concat_chunks

if TYPE_CHECKING:
    from fleetrl.buffer.persistent import PersistentReplay

LEARNER_SHARD = "learner"


def _is_npz(path: str) -> bool:
    return Path(path).suffix == ".npz"


def _load_npz_demos(config: BufferConfig) -> list[dict]:
    chunks = []
    for i, path in enumerate(config.demos):
        if not _is_npz(path):
            continue
        try:
            chunk, _ = load_demos(path)
        except FileNotFoundError:
            raise ConfigError(f"buffer.demos[{i}]: {path}: no such file") from None
        except (OSError, DemoFileError) as err:
            raise ConfigError(f"buffer.demos[{i}]: {path}: {err}") from None
        chunks.append(chunk)
    return chunks


def _check_buffer_folders(key: str, paths: list[str], skip_npz: bool = False) -> list[Path]:
    folders = []
    for i, path in enumerate(paths):
        if skip_npz and _is_npz(path):
            continue
        try:
            find_shards(Path(path))
        except FileNotFoundError as err:
            raise ConfigError(f"{key}[{i}]: {err}") from None
        folders.append(Path(path))
    return folders


def _memory_replay(config: BufferConfig, seed: int) -> ReplayBuffer:
    folders = [p for p in config.demos if not _is_npz(p)]
    if folders or config.load:
        raise ConfigError("buffer.demos/buffer.load: buffer folders need buffer.storage 'disk'")
    chunks = _load_npz_demos(config)
    if not chunks:
        return ReplayBuffer(ArrayStorage(config.capacity), UniformSampler(seed))
    try:
        demos = concat_chunks(chunks)
    except ValueError as err:
        raise ConfigError(f"buffer.demos: the files do not share one layout: {err}") from None
    demo_storage = ArrayStorage(chunk_len(demos))
    demo_storage.add(demos)
    return ReplayBuffer(ArrayStorage(config.capacity), MixedSampler(config.demo_ratio, seed), demo_storage)


def _disk_replay(config: BufferConfig, seed: int, default_path: Path | None, expert_only: bool) -> PersistentReplay:
    from fleetrl.buffer.persistent import PersistentReplay

    path = Path(config.path) if config.path else default_path
    if path is None:
        raise ConfigError("buffer.path: storage 'disk' needs a buffer folder (or use buffer.storage: memory)")
    read_only = _check_buffer_folders("buffer.load", config.load) + _check_buffer_folders(
        "buffer.demos", config.demos, skip_npz=True
    )
    routed = config.interventions_as_demos or expert_only
    demo_sources = (SOURCE_DEMO, SOURCE_INTERVENTION) if routed else (SOURCE_DEMO,)
    demo_ratio = 1.0 if expert_only else config.demo_ratio  # HG-DAgger: every batch from the expert stream
    writes = config.writer == "learner"  # writer "env": env workers write the shards, and the
    # trainer tells the learner which to read (one root may hold several nodes' workers' shards)
    try:
        replay = open_when_free(lambda: PersistentReplay.open(
            path, shard=LEARNER_SHARD if writes else None, scan_root=writes, read_only=read_only,
            durability=config.durability, compression=config.compression, cache=config.cache,
            demo_ratio=demo_ratio, demo_sources=demo_sources, recent_window=config.recent_window, seed=seed,
        ))
    except ShardBusy as err:
        raise ConfigError(f"buffer.path: {err}") from None
    except (OSError, ValueError) as err:
        raise ConfigError(f"buffer.path: {path}: {err}") from None
    for chunk in _load_npz_demos(config):
        replay.add_demos(chunk)
    return replay


def build_replay(
    config: BufferConfig, seed: int = 0, default_path: Path | None = None, expert_only: bool = False
) -> Buffer:
    """A `PersistentReplay` (storage "disk", at `config.path` or `default_path`) or a `ReplayBuffer`.

    `expert_only` (HG-DAgger): batches hold demonstrations and intervention steps only, never the
    policy's own actions, and `sampleable` counts those; it needs storage "disk".
    """
    if config.storage == "memory":
        if expert_only:
            raise ConfigError("buffer.storage: training on expert steps only needs storage 'disk'")
        return _memory_replay(config, seed)
    return _disk_replay(config, seed, default_path, expert_only)
