"""The persistent replay buffer: every transition on disk as it arrives, sampled from memory.

    replay = PersistentReplay(run_dir / "buffer", shard="learner", cache=CacheConfig(max_bytes=2 << 30))
    replay.add(chunk)                      # written now, acknowledged at the next group commit
    batch = replay.sample(256)             # the dict an Algorithm takes (see `core.Algorithm`)
    replay.acknowledged                    # transitions of this shard that survive kill -9
    replay.close()

Composition: a `ShardWriter` (this process's shard of the buffer root), `ShardReader`s over every
shard under the root and over earlier runs' buffers opened read-only, a `Catalog` of what can be
sampled, a byte-bounded `RecordCache`, a `HotSetLoader` and a `BatchPrefetcher`. Cache modes:

    "hot"    batches come from the cached records, rotated in the background (memory speed);
    "exact"  uniform over every record; misses are read from disk and cached (least recently put out);
    "none"   uniform over every record, every read from disk (the baseline the benchmark calls plain disk).

Sources: transitions whose `source` is in `demo_sources` form the demonstration stream, mixed
into each batch at `demo_ratio` once both streams have data (RLPD); `.npz` demonstrations given
to `add_demos` are held in memory. Batches hold online transitions first, then demonstrations.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from fleetrl.buffer.catalog import DEMO, ONLINE, Catalog
from fleetrl.buffer.hot_set import HotSetLoader
from fleetrl.buffer.hot_slab import HotSlab
from fleetrl.buffer.index import IndexedRecord
from fleetrl.buffer.prefetch import BatchPrefetcher
from fleetrl.buffer.record_cache import RecordCache
from fleetrl.buffer.samplers import checked_demo_ratio, mixed_split
from fleetrl.buffer.segment import CorruptRecord
from fleetrl.buffer.shard_layout import SHARDS_DIR, find_shards
from fleetrl.buffer.shard_reader import ShardReader
from fleetrl.buffer.shard_writer import Durability, ShardWriter
from fleetrl.buffer.transitions import SOURCE_DEMO, chunk_len, unflatten
from fleetrl.core.interfaces import Buffer

log = logging.getLogger(__name__)

COLD_START_RECORDS = 8  # mode "hot": records read at once when a batch is asked of an empty memory
CACHE_MODES = ("hot", "exact", "none")  # "none", not "off": YAML reads off as false


@dataclass(frozen=True)
class CacheConfig:
    """How much of the buffer is kept in memory, and how batches use it."""

    max_bytes: int = 1 << 30  # decoded bytes of records held in memory
    mode: str = "hot"  # "hot", "exact" or "none" (see the module docstring)
    # Mode "hot": records swapped into memory per batch sampled. Each swap reads and decodes a
    # record beside the sampler; at 0.25 a cache of N records turns over every 4N batches.
    rotate_per_batch: float = 0.25
    prefetch_batches: int = 2  # batches prepared ahead in a background thread (0: none)

    def __post_init__(self) -> None:
        if self.mode not in CACHE_MODES:
            raise ValueError(f"cache mode must be one of {CACHE_MODES}, got {self.mode!r}")


def _name(source: RecordSource) -> str:
    return str(getattr(source, "path", None) or getattr(source, "shard", None) or source)


class RecordSource(Protocol):
    """Where records come from: a `ShardReader`, or a reader of a shard on another machine."""

    def refresh(self) -> list[IndexedRecord]: ...

    def read(self, record: IndexedRecord) -> Mapping[str, np.ndarray]: ...

    def close(self) -> None: ...


class PersistentReplay(Buffer):
    """A replay over buffer root `path` and the buffers in `read_only`.

    It writes shard `shard` of the root (ShardBusy when another process writes it); with `shard`
    None it only reads. With `scan_root`, shards other processes write under the root (one per
    env worker on this node) are read too, picked up every `refresh_s` seconds; `add_source`
    adds any other `RecordSource` (a shard on another node). `add` and `sample` may be called
    from different threads.
    """

    def __init__(
        self,
        path: Path | None,
        *,
        shard: str | None = "main",
        scan_root: bool = True,
        durability: Durability = Durability(),
        compression: str = "lz4",
        cache: CacheConfig = CacheConfig(),
        demo_ratio: float = 0.5,
        demo_sources: Sequence[int] = (SOURCE_DEMO,),
        recent_window: int | None = None,
        read_only: Sequence[Path] = (),
        seed: int = 0,
        refresh_s: float = 1.0,
    ) -> None:
        self.cache_config, self.demo_ratio, self.recent_window = cache, checked_demo_ratio(demo_ratio), recent_window
        self.refresh_s = refresh_s
        self.catalog = Catalog(demo_sources)
        # Mode "hot" holds records in a slab (batches gathered like an in-RAM replay's); "exact"
        # in a cache of decoded records; "none" holds nothing.
        self.slab = HotSlab(cache.max_bytes) if cache.mode == "hot" else None
        self.cache = RecordCache(cache.max_bytes if cache.mode == "exact" else 0)
        self.batches_from_memory = 0  # mode "hot": batches gathered from the slab alone
        self.batches_from_disk = 0  # batches that needed a read (the slab was still filling, or other modes)
        self._rng = np.random.default_rng(seed)
        self._readers: list[RecordSource | None] = []  # by source index; None: held in memory
        self._records: dict[tuple[int, int], IndexedRecord] = {}
        self._memory: dict[tuple[int, int], Mapping[str, np.ndarray]] = {}
        self._pinned: list[int] = []
        self._memory_source: int | None = None
        self._bad_segments: set[tuple[int, int]] = set()
        self._root = None if path is None or not scan_root else Path(path)
        self._disk_transitions = 0  # acknowledged transitions seen in every shard read
        self._lock = threading.Lock()
        self._loader: HotSetLoader | None = None
        self.writer: ShardWriter | None = None
        self._own = -1
        if path is not None and shard is not None:
            self.writer = ShardWriter(Path(path) / SHARDS_DIR / shard, durability, compression)
            self._own = self._open_reader(self.writer.path)
            self.writer.on_commit = self._on_commit
        for buffer in read_only:
            for shard_path in find_shards(Path(buffer)):
                self._open_reader(shard_path)
        self._last_refresh = time.monotonic()
        self._scan_root()
        if cache.mode == "hot":
            self._loader = HotSetLoader(
                self.catalog, self.slab, self._read_uncached, cache.rotate_per_batch, seed, lambda: self._pinned
            )
        self._prefetcher = (
            BatchPrefetcher(self._make_batch, cache.prefetch_batches) if cache.prefetch_batches else None
        )

    # ---- sources -----------------------------------------------------------------------------

    def _open_reader(self, shard_path: Path) -> int:
        return self.add_source(ShardReader(shard_path))

    def add_source(self, source: RecordSource) -> int:
        """Sample the records of `source` too (now and, on refresh, as more are acknowledged)."""
        self._readers.append(source)
        index = len(self._readers) - 1
        self._add_records(index, source.refresh())
        return index

    def _scan_root(self) -> None:
        """Open readers for shards under the root that other processes write (new ones included)."""
        if self._root is None or not (self._root / SHARDS_DIR).is_dir():
            return
        known = {getattr(r, "path", None) for r in self._readers if r is not None}
        for shard_path in find_shards(self._root):
            if shard_path not in known:
                self._open_reader(shard_path)

    def _add_records(self, source: int, records: Sequence[IndexedRecord]) -> None:
        for record in records:
            key = (source, record.record_id)
            self._records[key] = record
            self.catalog.add(key, record.sources)
            self._disk_transitions += record.n
        if records and self._loader is not None:
            self._loader.records_added()

    def _on_commit(self, committed: list[tuple[IndexedRecord, Mapping[str, np.ndarray]]]) -> None:
        """Records this process just acknowledged: sampleable now, and hot while we hold them."""
        self._add_records(self._own, [record for record, _ in committed])
        hot = self.slab if self.slab is not None else self.cache
        for record, chunk in committed:
            hot.put((self._own, record.record_id), chunk)

    def refresh(self) -> None:
        """Pick up records acknowledged by other writers (other shards of the root)."""
        with self._lock:
            self._last_refresh = time.monotonic()
            self._scan_root()
            for source, reader in enumerate(self._readers):
                if reader is not None and source != self._own:
                    try:
                        records = reader.refresh()
                    except Exception as err:  # noqa: BLE001 - a shard out of reach: sample the rest
                        log.warning("buffer: could not refresh %s (%s); trying again later", _name(reader), err)
                        continue
                    self._add_records(source, records)

    # ---- writing -----------------------------------------------------------------------------

    def add(self, chunk: Mapping[str, np.ndarray]) -> None:
        """Write N transitions; they become sampleable (and count as acknowledged) once durable."""
        if self.writer is None:
            raise RuntimeError("this replay is read-only (it was opened without a shard to write)")
        self.writer.add(chunk)

    def add_demos(self, chunk: Mapping[str, np.ndarray]) -> None:
        """Hold demonstrations in memory (never written to disk: they have a file of their own)."""
        n = chunk_len(chunk)
        with self._lock:
            if self._memory_source is None:
                self._readers.append(None)
                self._memory_source = len(self._readers) - 1
            key = (self._memory_source, len(self._memory))
            self._memory[key] = {k: np.asarray(v) for k, v in chunk.items()}
            sources = np.asarray(chunk.get("source", np.full(n, SOURCE_DEMO)), dtype=np.int8)
            self._pinned.append(self.catalog.add(key, sources.tobytes()))
            if self.slab is not None:
                self.slab.put(key, self._memory[key], pinned=True)

    def flush(self) -> None:
        """Acknowledge everything added so far (blocks for one fsync)."""
        if self.writer is not None:
            self.writer.commit()

    @property
    def acknowledged(self) -> int:
        """Durable transitions: of this process's shard when it writes one, else of every shard read."""
        return self._disk_transitions if self.writer is None else self.writer.acknowledged_transitions

    # ---- reading -----------------------------------------------------------------------------

    def _segment_damaged(self, source: int, record: IndexedRecord, err: CorruptRecord) -> None:
        segment = (source, record.segment)
        if segment in self._bad_segments:
            return
        self._bad_segments.add(segment)
        keys = [k for k, r in list(self._records.items()) if k[0] == source and r.segment == record.segment]
        removed = self.catalog.disable([p for p in map(self.catalog.position, keys) if p is not None])
        for key in keys:
            self.cache.discard(key)
            if self.slab is not None:
                self.slab.discard(key)
        log.warning(
            "buffer: %s is damaged (%s); its %d transitions are left out of sampling. "
            "Run `fleetrl buffer verify --quarantine` on the buffer to move it aside.",
            err.segment, err.reason, removed,
        )

    def _read_uncached(self, index: int) -> Mapping[str, np.ndarray] | None:
        """Record `index` from memory or disk, not cached; None (and it leaves sampling) if damaged."""
        key = self.catalog.keys[index]
        if key in self._memory:
            return self._memory[key]
        record = self._records[key]
        try:
            return self._readers[key[0]].read(record)
        except CorruptRecord as err:
            self._segment_damaged(key[0], record, err)
            return None
        except Exception as err:  # noqa: BLE001 - a remote shard out of reach: draw other records
            log.warning("buffer: could not read a record of %s (%s)", _name(self._readers[key[0]]), err)
            return None

    def _fetch(self, index: int) -> Mapping[str, np.ndarray] | None:
        """Record `index`: from memory, the cache, or disk (None if it is damaged or out of reach)."""
        key = self.catalog.keys[index]
        if key in self._memory:
            return self._memory[key]
        chunk = self.cache.get(key)
        if chunk is None:
            chunk = self._read_uncached(index)
            if chunk is not None and self.cache_config.mode == "exact":
                self.cache.put(key, chunk)
        return chunk

    def _split(self, batch_size: int) -> tuple[int, int]:
        online = self.catalog.available(ONLINE, window=self.recent_window)
        return mixed_split(self.demo_ratio, online, self.catalog.available(DEMO), batch_size)

    def _draw(self, batch_size: int, pool: np.ndarray | None) -> tuple[np.ndarray, np.ndarray] | None:
        """(catalog indices, rows), online picks first; with `pool`, only from those records
        (None when some stream has nothing there)."""
        picks = []
        for stream, k in zip((ONLINE, DEMO), self._split(batch_size)):
            if not k:
                continue
            window = self.recent_window if stream == ONLINE else None
            if pool is not None and not self.catalog.available(stream, pool, window):
                return None
            picks.append(self.catalog.draw(self._rng, stream, k, pool, window))
        return np.concatenate([p[0] for p in picks]), np.concatenate([p[1] for p in picks])

    def _sample_hot(self, batch_size: int) -> dict[str, np.ndarray] | None:
        """A batch drawn from, and gathered out of, the slab (None while it cannot serve one)."""
        slab = self.slab
        with slab.lock:
            keys = slab.keys()
            positions = {self.catalog.position(key): key for key in keys}
            positions.pop(None, None)
            if not positions:
                return None
            pool = np.array(sorted(positions), dtype=np.int64)
            drawn = self._draw(batch_size, pool)
            if drawn is None:
                return None
            records, rows = drawn
            unique, which = np.unique(records, return_inverse=True)
            slab_rows = slab.rows_of_many([positions[int(i)] for i in unique], which, rows)
            batch = {key: array[slab_rows] for key, array in slab.arrays.items()}
        self.batches_from_memory += 1
        self._loader.batch_sampled()
        return batch

    def sample_flat(self, batch_size: int) -> dict[str, np.ndarray]:
        """`batch_size` transitions as flat chunk arrays (a new batch, owned by the caller)."""
        if time.monotonic() - self._last_refresh > self.refresh_s:
            self.refresh()
        if self.slab is not None:
            batch = self._sample_hot(batch_size)
            if batch is None and self._loader.load_now(COLD_START_RECORDS):
                batch = self._sample_hot(batch_size)  # from the few records just loaded
            if batch is not None:
                return batch
        for _ in range(10):  # a damaged record found mid-batch leaves sampling; draw again
            records, rows = self._draw(batch_size, None)
            batch = self._gather(records, rows)
            if batch is not None:
                self.batches_from_disk += 1
                return batch
        raise RuntimeError("buffer: could not assemble a batch; too many damaged records (see the log)")

    def _gather(self, records: np.ndarray, rows: np.ndarray) -> dict[str, np.ndarray] | None:
        out: dict[str, np.ndarray] | None = None
        unique = np.unique(records).tolist()
        # Cached records first: filling misses first would evict the very records this batch hits.
        unique.sort(key=lambda i: self.catalog.keys[i] not in self.cache)
        for index in unique:
            chunk = self._fetch(int(index))
            if chunk is None:
                return None
            if out is None:
                out = {k: np.empty((len(records), *np.shape(v)[1:]), dtype=np.asarray(v).dtype) for k, v in chunk.items()}
            where = np.flatnonzero(records == index)
            picked = rows[where]
            for key, dest in out.items():
                dest[where] = chunk[key][picked]
        return out

    def _make_batch(self, batch_size: int) -> dict:
        return unflatten(self.sample_flat(batch_size))

    def sample(self, batch_size: int) -> dict:
        """`batch_size` transitions as the batch dict an Algorithm takes (see `core.Algorithm`)."""
        if self._prefetcher is None:
            return self._make_batch(batch_size)
        return self._prefetcher.get(batch_size)

    def __len__(self) -> int:
        """Online transitions that can be sampled (every shard, read-only buffers included)."""
        return self.catalog.totals()[0]

    @property
    def num_demos(self) -> int:
        return self.catalog.totals()[1]

    def stats(self) -> dict[str, float]:
        """Figures for metrics.jsonl: acknowledged transitions, memory use, where batches came from."""
        hot = self.slab if self.slab is not None else self.cache
        if self.slab is not None:
            served = self.batches_from_memory + self.batches_from_disk
            hit_rate = self.batches_from_memory / served if served else 0.0
        else:
            lookups = self.cache.hits + self.cache.misses
            hit_rate = self.cache.hits / lookups if lookups else 0.0
        return {
            "buffer_transitions": float(self.acknowledged),
            "buffer_sampleable": float(len(self)),
            "buffer_cache_bytes": float(hot.nbytes),
            "buffer_cache_records": float(len(hot)),
            "buffer_cache_hit_rate": float(hit_rate),  # mode hot: share of batches served from memory
            "buffer_records_loaded": float(self._loader.records_loaded if self._loader else 0),
        }

    def state_dict(self) -> dict:
        """The sampler's random state (the transitions themselves are on disk)."""
        return {"rng": self._rng.bit_generator.state}

    def load_state_dict(self, state: Mapping) -> None:
        self._rng.bit_generator.state = state["rng"]

    def close(self) -> None:
        """Stop the background threads, acknowledge what is pending and release the shard."""
        if self._prefetcher is not None:
            self._prefetcher.close()
        if self._loader is not None:
            self._loader.close()
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        for reader in self._readers:
            if reader is not None:
                reader.close()

    def __enter__(self) -> PersistentReplay:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
