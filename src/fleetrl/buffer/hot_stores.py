"""What a persistent replay holds in memory to sample from: one strategy per cache mode.

    hot = make_hot_store(CacheConfig(mode="hot"), storage, seed=0)   # chosen once, by the mode
    hot.put(key, chunk)                             # a record just acknowledged: hot on arrival
    batch = hot.sample_held(draw)                   # a batch from memory alone, or None
    if batch is None:
        batch = hot.gather(*draw(None))             # any records' rows, misses read from storage
    metrics.update(hot.stats()); hot.close()

Cache modes (config `buffer.cache.mode`):

    "hot"    `HotSlabStore`: batches drawn among the records in a slab, which a background thread
             rotates (memory speed; see `fleetrl.buffer.hot_set`);
    "exact"  `ExactCacheStore`: uniform over every record; misses are read and cached, oldest put out;
    "none"   `NoCacheStore`: uniform over every record, every read from storage (the benchmark's
             plain disk).

`draw(pool)` is the replay's: given a sorted array of catalog indices (None: every record) it
returns (catalog indices, rows), or None when the pool cannot serve the batch's split.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Protocol

import numpy as np

from fleetrl.buffer.config import CacheConfig, CacheMode
from fleetrl.buffer.hot_set import HotSetLoader
from fleetrl.buffer.hot_slab import HotSlab
from fleetrl.buffer.record_cache import RecordCache
from fleetrl.buffer.shard_storage import ShardStorage

COLD_START_RECORDS = 8  # mode "hot": records read at once when a batch is asked of an empty memory

Chunk = Mapping[str, np.ndarray]
Batch = dict[str, np.ndarray]
Draw = Callable[[np.ndarray | None], tuple[np.ndarray, np.ndarray] | None]


class HotStore(Protocol):
    """Memory between a `ShardStorage` and the batches drawn from it (see the module docstring)."""

    def put(self, key: Hashable, chunk: Chunk, pinned: bool = False) -> None:
        """Offer a record to memory: one just acknowledged, or (`pinned`) one the storage holds
        for good (a demonstration), never to be evicted."""

    def sample_held(self, draw: Draw) -> Batch | None:
        """A batch drawn among the records in memory and gathered there; None when memory
        cannot serve it (stores that draw over every record always say None)."""

    def gather(self, records: np.ndarray, rows: np.ndarray) -> Batch | None:
        """Rows `rows[j]` of records `records[j]` (catalog indices) as one flat batch; None when
        a record turned out damaged (it has then left sampling: draw again)."""

    def stats(self) -> dict[str, float]:
        """buffer_cache_bytes, buffer_cache_records, buffer_cache_hit_rate, buffer_records_loaded."""

    def close(self) -> None:
        """Stop background threads."""


def gather_rows(
    records: np.ndarray, rows: np.ndarray, fetch: Callable[[int], Chunk | None], first: Callable[[int], bool] | None = None
) -> Batch | None:
    """The batch of `HotStore.gather`, reading each record once with `fetch(index)` (None: damaged);
    records for which `first(index)` holds are read before the others."""
    out: Batch | None = None
    unique = np.unique(records).tolist()
    if first is not None:
        unique.sort(key=lambda index: not first(index))
    for index in unique:
        chunk = fetch(index)
        if chunk is None:
            return None
        if out is None:
            out = {k: np.empty((len(records), *np.shape(v)[1:]), dtype=np.asarray(v).dtype) for k, v in chunk.items()}
        where = np.flatnonzero(records == index)
        picked = rows[where]
        for key, dest in out.items():
            dest[where] = chunk[key][picked]
    return out


def _stats(nbytes: int, records: int, hit_rate: float, loaded: int) -> dict[str, float]:
    return {
        "buffer_cache_bytes": float(nbytes),
        "buffer_cache_records": float(records),
        "buffer_cache_hit_rate": float(hit_rate),
        "buffer_records_loaded": float(loaded),
    }


class NoCacheStore:
    """Mode "none": nothing in memory; every record read from storage when a batch needs it."""

    def __init__(self, config: CacheConfig, storage: ShardStorage, seed: int = 0) -> None:
        self.storage = storage

    def put(self, key: Hashable, chunk: Chunk, pinned: bool = False) -> None:
        pass

    def sample_held(self, draw: Draw) -> Batch | None:
        return None

    def gather(self, records: np.ndarray, rows: np.ndarray) -> Batch | None:
        return gather_rows(records, rows, self.storage.read)

    def stats(self) -> dict[str, float]:
        return _stats(0, 0, 0.0, 0)

    def close(self) -> None:
        pass


class ExactCacheStore:
    """Mode "exact": up to `config.max_bytes` of decoded records, filled by misses and by records
    just acknowledged; `buffer_cache_hit_rate` is the share of record lookups found in memory."""

    def __init__(self, config: CacheConfig, storage: ShardStorage, seed: int = 0) -> None:
        self.storage, self.cache = storage, RecordCache(config.max_bytes)
        storage.on_damaged.append(self._forget)

    def _forget(self, keys: list[Hashable]) -> None:
        for key in keys:
            self.cache.discard(key)

    def put(self, key: Hashable, chunk: Chunk, pinned: bool = False) -> None:
        if not pinned:  # a pinned record is in the storage's memory already
            self.cache.put(key, chunk)

    def sample_held(self, draw: Draw) -> Batch | None:
        return None

    def _fetch(self, index: int) -> Chunk | None:
        key = self.storage.catalog.keys[index]
        if self.storage.holds(key):
            return self.storage.read(index)
        chunk = self.cache.get(key)
        if chunk is None:
            chunk = self.storage.read(index)
            if chunk is not None:
                self.cache.put(key, chunk)
        return chunk

    def gather(self, records: np.ndarray, rows: np.ndarray) -> Batch | None:
        keys = self.storage.catalog.keys
        # Cached records first: filling misses first would evict the very records this batch hits.
        return gather_rows(records, rows, self._fetch, first=lambda index: keys[index] in self.cache)

    def stats(self) -> dict[str, float]:
        lookups = self.cache.hits + self.cache.misses
        hit_rate = self.cache.hits / lookups if lookups else 0.0
        return _stats(self.cache.nbytes, len(self.cache), hit_rate, 0)

    def close(self) -> None:
        pass


class HotSlabStore:
    """Mode "hot": up to `config.max_bytes` of records in a `HotSlab`, filled and rotated by a
    `HotSetLoader` (`config.rotate_per_batch` swaps per batch). Batches come from the slab alone
    once it can serve them; until then (a cold start, or a stream with nothing in memory yet)
    they are read from storage. `buffer_cache_hit_rate` is the share of batches from memory."""

    def __init__(self, config: CacheConfig, storage: ShardStorage, seed: int = 0) -> None:
        self.storage, self.slab = storage, HotSlab(config.max_bytes)
        self.batches_from_memory = 0
        self.batches_from_storage = 0
        self._loader = HotSetLoader(
            storage.catalog, self.slab, storage.read, config.rotate_per_batch, seed, lambda: storage.pinned
        )
        storage.on_added.append(self._loader.records_added)
        storage.on_damaged.append(self._forget)

    def _forget(self, keys: list[Hashable]) -> None:
        for key in keys:
            self.slab.discard(key)

    def put(self, key: Hashable, chunk: Chunk, pinned: bool = False) -> None:
        self.slab.put(key, chunk, pinned=pinned)

    def _from_slab(self, draw: Draw) -> Batch | None:
        slab, catalog = self.slab, self.storage.catalog
        with slab.lock:  # no record leaves the slab between the draw and the gather
            positions = {catalog.position(key): key for key in slab.keys()}
            positions.pop(None, None)
            if not positions:
                return None
            drawn = draw(np.array(sorted(positions), dtype=np.int64))
            if drawn is None:
                return None
            records, rows = drawn
            unique, which = np.unique(records, return_inverse=True)
            slab_rows = slab.rows_of_many([positions[int(i)] for i in unique], which, rows)
            batch = {key: array[slab_rows] for key, array in slab.arrays.items()}
        self.batches_from_memory += 1
        self._loader.batch_sampled()
        return batch

    def sample_held(self, draw: Draw) -> Batch | None:
        batch = self._from_slab(draw)
        if batch is None and self._loader.load_now(COLD_START_RECORDS):
            batch = self._from_slab(draw)  # from the few records just loaded
        return batch

    def gather(self, records: np.ndarray, rows: np.ndarray) -> Batch | None:
        batch = gather_rows(records, rows, self.storage.read)
        if batch is not None:
            self.batches_from_storage += 1
        return batch

    def stats(self) -> dict[str, float]:
        served = self.batches_from_memory + self.batches_from_storage
        hit_rate = self.batches_from_memory / served if served else 0.0
        return _stats(self.slab.nbytes, len(self.slab), hit_rate, self._loader.records_loaded)

    def close(self) -> None:
        self._loader.close()


HOT_STORES: dict[CacheMode, Callable[[CacheConfig, ShardStorage, int], HotStore]] = {
    "hot": HotSlabStore,
    "exact": ExactCacheStore,
    "none": NoCacheStore,
}


def make_hot_store(config: CacheConfig, storage: ShardStorage, seed: int = 0) -> HotStore:
    """The store of cache mode `config.mode` over `storage` (`seed`: the hot set's record choice)."""
    return HOT_STORES[config.mode](config, storage, seed)
