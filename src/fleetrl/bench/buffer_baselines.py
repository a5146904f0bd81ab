"""The stores `fleetrl bench buffer` compares, behind one tiny interface.

    store = TorchRLMemmapStore(folder, capacity=40_000)
    for chunk in chunks:
        store.write(chunk)                  # flat chunk arrays (see fleetrl.core.transitions)
    batch = store.sample(256)               # 256 transitions drawn uniformly with replacement
    store.close()

A batch is a dict of arrays with a leading axis of `batch_size` (nested for "obs"/"next_obs"
where the store's own API nests them). `durable` says whether a write has been fsynced when the
store acknowledges it (`write` returns, or at the latest `close`). TorchRL, tensordict, lmdb and
torch are imported only by the stores that use them (the `bench` extra installs them).
"""

from __future__ import annotations

import json
import logging
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import numpy as np

from fleetrl.buffer.codec import decode_chunk, encode_chunk
from fleetrl.buffer.config import CacheConfig, DurabilityConfig
from fleetrl.buffer.persistent import PersistentReplay
from fleetrl.buffer.storage import ArrayStorage
from fleetrl.core.transitions import chunk_len, concat_chunks, unflatten


class Store(Protocol):
    """A store under test (see the module docstring)."""

    name: str
    durable: bool

    def write(self, chunk: Mapping[str, np.ndarray]) -> None: ...

    def sample(self, batch_size: int) -> dict: ...

    def close(self) -> None: ...


WRITE_ONLY_CACHE = CacheConfig(mode="none", prefetch_batches=0)  # writing: nothing read back, nothing prepared


class PersistentStore:
    """Ours: `PersistentReplay` over buffer root `root`, writing shard "main" unless `read_only`
    (with group commits unless `durability` says otherwise).

    For writing, use cache mode "none" with no prefetch, so only the write path is measured; for
    sampling, open the written buffer `read_only` with the cache under test.
    """

    name = "fleetrl"
    durable = True

    def __init__(
        self,
        root: Path,
        compression: str = "lz4",
        durability: DurabilityConfig | None = None,
        cache: CacheConfig = WRITE_ONLY_CACHE,
        read_only: bool = False,
        seed: int = 0,
    ) -> None:
        if read_only:
            self.replay = PersistentReplay.open(None, read_only=[root], cache=cache, seed=seed)
        else:
            self.replay = PersistentReplay.open(root, durability=durability, compression=compression, cache=cache, seed=seed)

    def write(self, chunk: Mapping[str, np.ndarray]) -> None:
        self.replay.add(chunk)

    def sample(self, batch_size: int) -> dict:
        return self.replay.sample(batch_size)

    def close(self) -> None:
        self.replay.close()


class RamStore:
    """Everything in RAM: fleetrl's `ArrayStorage` ring, `capacity` transitions preallocated."""

    name = "ram"
    durable = False

    def __init__(self, capacity: int, seed: int = 0) -> None:
        self.storage = ArrayStorage(capacity)
        self._rng = np.random.default_rng(seed)

    def write(self, chunk: Mapping[str, np.ndarray]) -> None:
        self.storage.add(chunk)

    def sample(self, batch_size: int) -> dict:
        return self.storage.get(self._rng.integers(0, len(self.storage), size=batch_size))

    def close(self) -> None:
        self.storage = None  # frees the arrays


class TorchRLMemmapStore:
    """TorchRL's `LazyMemmapStorage` (one memory-mapped file per key under `folder`), written in
    order through `storage.set` and read with `storage.get(indices)`. Writes land in the page
    cache; nothing is fsynced."""

    name = "torchrl_memmap"
    durable = False

    def __init__(self, folder: Path, capacity: int, seed: int = 0) -> None:
        import torch
        from torchrl.data import LazyMemmapStorage

        logging.getLogger("torchrl").setLevel(logging.WARNING)  # its INFO lines go to stdout
        self._torch = torch
        self.storage = LazyMemmapStorage(capacity, scratch_dir=str(folder), existsok=True)
        self.capacity, self.size = capacity, 0
        self._rng = np.random.default_rng(seed)

    def write(self, chunk: Mapping[str, np.ndarray]) -> None:
        from tensordict import TensorDict

        n = chunk_len(chunk)
        if self.size + n > self.capacity:
            raise ValueError(f"TorchRL store is full ({self.capacity} transitions)")
        nested = unflatten({k: self._torch.from_numpy(np.asarray(v)) for k, v in chunk.items()})
        self.storage.set(self._torch.arange(self.size, self.size + n), TensorDict(nested, batch_size=[n]))
        self.size += n

    def sample(self, batch_size: int) -> dict:
        indices = self._torch.from_numpy(self._rng.integers(0, self.size, size=batch_size))
        batch = self.storage.get(indices)
        return {key: value.numpy() for key, value in batch.flatten_keys(".").items()}

    def close(self) -> None:
        self.storage = None


class TrajectoryFileStore:
    """One `torch.save` file per episode (a dict of tensors) and a JSON index of the files, rewritten
    after every episode, like the reference's trajectory store. Sampling draws transitions
    uniformly, then `torch.load`s every trajectory file the batch touches. Nothing is fsynced."""

    name = "torch_save"
    durable = False

    def __init__(self, folder: Path, seed: int = 0) -> None:
        import torch

        self._torch = torch
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.index_path = self.folder / "index.json"
        self.files: list[str] = []
        self.lengths: list[int] = []
        if self.index_path.exists():
            index = json.loads(self.index_path.read_text())
            self.files = [t["file"] for t in index["trajectories"]]
            self.lengths = [t["length"] for t in index["trajectories"]]
        self._open: list[dict[str, np.ndarray]] = []  # pieces of the episode being written
        self._rng = np.random.default_rng(seed)

    def write(self, chunk: Mapping[str, np.ndarray]) -> None:
        ends = np.flatnonzero((np.asarray(chunk["terminated"]) > 0) | (np.asarray(chunk["truncated"]) > 0))
        start = 0
        for end in ends:
            self._open.append({k: np.asarray(v)[start : end + 1] for k, v in chunk.items()})
            self._save_episode()
            start = end + 1
        if start < chunk_len(chunk):
            self._open.append({k: np.asarray(v)[start:] for k, v in chunk.items()})

    def _save_episode(self) -> None:
        episode = concat_chunks(self._open) if len(self._open) > 1 else self._open[0]
        self._open = []
        name = f"traj_{len(self.files):06d}.pt"
        self._torch.save({k: self._torch.from_numpy(np.ascontiguousarray(v)) for k, v in episode.items()},
                         self.folder / name)
        self.files.append(name)
        self.lengths.append(chunk_len(episode))
        entries = [{"file": f, "length": n} for f, n in zip(self.files, self.lengths)]
        self.index_path.write_text(json.dumps({"trajectories": entries, "transitions": sum(self.lengths)}))

    def sample(self, batch_size: int) -> dict:
        trajectories, rows = _draw(self._rng, self.lengths, batch_size)

        def load(trajectory: int) -> dict[str, np.ndarray]:
            data = self._torch.load(self.folder / self.files[trajectory])
            return {key: tensor.numpy() for key, tensor in data.items()}

        return _gather(trajectories, rows, load)

    def close(self) -> None:
        if self._open:
            self._save_episode()


class LmdbStore:
    """LMDB, one value per chunk (the bytes of `codec.encode_chunk`), one synced write transaction
    per chunk: the key-value engine we could have built on, measured on the same records."""

    name = "lmdb"
    durable = True

    def __init__(self, folder: Path, map_bytes: int, compression: str = "lz4", seed: int = 0) -> None:
        import lmdb

        Path(folder).mkdir(parents=True, exist_ok=True)
        self.env = lmdb.open(str(folder), map_size=map_bytes, sync=True, metasync=True, readahead=False)
        self.compression = compression
        self.counts: list[int] = []
        self._rng = np.random.default_rng(seed)

    def write(self, chunk: Mapping[str, np.ndarray]) -> None:
        payload = encode_chunk(chunk, self.compression)
        with self.env.begin(write=True) as txn:
            txn.put(struct.pack(">Q", len(self.counts)), payload)
        self.counts.append(chunk_len(chunk))

    def sample(self, batch_size: int) -> dict:
        records, rows = _draw(self._rng, self.counts, batch_size)
        with self.env.begin() as txn:
            return _gather(records, rows, lambda record: decode_chunk(txn.get(struct.pack(">Q", record))))

    def close(self) -> None:
        self.env.close()


def _draw(rng: np.random.Generator, counts: list[int], batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """`batch_size` transitions uniformly over containers of `counts` transitions each:
    (container index, row within it) per transition."""
    ends = np.cumsum(counts)
    if not len(ends) or ends[-1] == 0:
        raise ValueError("cannot sample from an empty store")
    picks = rng.integers(0, int(ends[-1]), size=batch_size)
    containers = np.searchsorted(ends, picks, side="right")
    return containers, picks - (ends[containers] - np.asarray(counts)[containers])


def _gather(containers: np.ndarray, rows: np.ndarray, load) -> dict[str, np.ndarray]:
    """The batch of row `rows[i]` of container `containers[i]`; `load(c)` (a dict of arrays) is
    called once per distinct container."""
    out: dict[str, np.ndarray] = {}
    for container in np.unique(containers):
        where = np.flatnonzero(containers == container)
        for key, values in load(int(container)).items():
            if key not in out:
                out[key] = np.empty((len(containers), *values.shape[1:]), dtype=values.dtype)
            out[key][where] = values[rows[where]]
    return out
