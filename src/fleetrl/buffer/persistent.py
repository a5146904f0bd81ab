"""The persistent replay buffer: every transition on disk as it arrives, sampled from memory.

    replay = PersistentReplay.open(run_dir / "buffer", shard="learner", cache=CacheConfig(mb=2048))
    replay.add(chunk)                      # written now, acknowledged at the next group commit
    batch = replay.sample(256)             # the dict an Algorithm takes (see `core.Algorithm`)
    replay.acknowledged                    # transitions of this shard that survive kill -9
    replay.close()

Composed like the in-memory `ReplayBuffer`, of parts that each do one thing:

    Writer   `ShardWriter`: this process's shard of the buffer root; acknowledges by durability;
    Storage  `ShardStorage`: the catalog of sampleable records of every shard read, and readers;
    Sampler  `MixedSampler`: how a batch splits between online data and demonstrations (RLPD),
             and the uniform draws within each stream;
    Memory   a `HotStore` chosen once from `CacheConfig.mode` (see `fleetrl.buffer.hot_stores`);

plus a `BatchPrefetcher` that prepares batches ahead. Sources: transitions whose `source` is in
`demo_sources` form the demonstration stream, mixed into each batch at `demo_ratio` once both
streams have data; `.npz` demonstrations given to `add_demos` are held in memory. Batches hold
online transitions first, then demonstrations.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

import numpy as np

from fleetrl.buffer.codec import Compression
from fleetrl.buffer.config import CacheConfig, DurabilityConfig
from fleetrl.buffer.hot_stores import make_hot_store
from fleetrl.buffer.index import IndexedRecord
from fleetrl.buffer.prefetch import BatchPrefetcher
from fleetrl.buffer.samplers import MixedSampler
from fleetrl.buffer.shard_layout import SHARDS_DIR
from fleetrl.buffer.shard_storage import RecordSource, ShardStorage
from fleetrl.buffer.shard_writer import ShardWriter
from fleetrl.core.interfaces import Buffer
from fleetrl.core.transitions import SOURCE_DEMO, unflatten

MAX_DRAWS = 10  # a damaged record found mid-batch leaves sampling; the batch is drawn again


class PersistentReplay(Buffer):
    """A replay over `storage`, drawing with `sampler`, holding records in memory as `cache` says
    (None: the defaults).

    With `writer`, `add` writes its shard, which `storage` reads as source index `own` (`open`
    arranges both); without, the replay only reads. Records other processes acknowledge are taken
    in by `refresh`, at the latest every `refresh_s` seconds of sampling. `seed` seeds the hot
    set's choice of records. `add` and `sample` may be called from different threads.
    """

    def __init__(
        self,
        storage: ShardStorage,
        sampler: MixedSampler,
        cache: CacheConfig | None = None,
        writer: ShardWriter | None = None,
        *,
        own: int | None = None,
        seed: int = 0,
        refresh_s: float = 1.0,
    ) -> None:
        if writer is not None and own is None:
            raise ValueError("a replay that writes needs `own`, the source index its storage reads the shard as")
        cache = cache or CacheConfig()
        self.storage, self.sampler, self.writer, self._own = storage, sampler, writer, own
        self.hot = make_hot_store(cache, storage, seed)
        self.refresh_s = refresh_s
        self._last_refresh = time.monotonic()
        if writer is not None:
            writer.on_commit = self._on_commit
        self._prefetcher = BatchPrefetcher(self._make_batch, cache.prefetch_batches) if cache.prefetch_batches else None
        self._closed = False

    @classmethod
    def open(
        cls,
        path: Path | None,
        *,
        shard: str | None = "main",
        read_only: Sequence[Path] = (),
        scan_root: bool = True,
        durability: DurabilityConfig | None = None,
        compression: Compression = "lz4",
        cache: CacheConfig | None = None,
        demo_ratio: float = 0.5,
        demo_sources: Collection[int] = (SOURCE_DEMO,),
        recent_window: int | None = None,
        seed: int = 0,
        refresh_s: float = 1.0,
    ) -> PersistentReplay:
        """A replay over buffer root `path` and the buffers in `read_only`.

        It writes shard `shard` of the root (ShardBusy when another process writes it); with
        `shard` or `path` None it only reads. With `scan_root`, shards other processes write under
        the root (one per env worker on this node) are read too; `add_source` adds any other
        `RecordSource` (a shard on another node). `demo_ratio` 1.0 serves the demonstration
        stream only (HG-DAgger). `durability` and `cache` None: the defaults. FileNotFoundError
        when a `read_only` folder is not a buffer.
        """
        writer = None
        if path is not None and shard is not None:
            writer = ShardWriter(Path(path) / SHARDS_DIR / shard, durability or DurabilityConfig(), compression)
        root = None if path is None or not scan_root else Path(path)
        storage = ShardStorage(demo_sources, recent_window, root)
        try:
            own = None if writer is None else storage.open_shard(writer.path)  # source 0: sampled first
            for buffer in read_only:
                storage.open_buffer(Path(buffer))
            storage.scan_root()
            sampler = MixedSampler(demo_ratio, seed)
            return cls(storage, sampler, cache, writer, own=own, seed=seed, refresh_s=refresh_s)
        except BaseException:  # release the shard: a later open in this process must not be refused
            storage.close()
            if writer is not None:
                writer.close()
            raise

    # ---- sources and writing -----------------------------------------------------------------

    def add_source(self, source: RecordSource) -> int:
        """Sample the records of `source` too (now and, on refresh, as more are acknowledged)."""
        return self.storage.add_source(source)

    def _on_commit(self, committed: list[tuple[IndexedRecord, Mapping[str, np.ndarray]]]) -> None:
        """Records this process just acknowledged: sampleable now, and hot while we hold them."""
        keys = self.storage.add_records(self._own, [record for record, _ in committed])
        for key, (_, chunk) in zip(keys, committed):
            self.hot.put(key, chunk)

    def refresh(self) -> None:
        """Pick up records acknowledged by other writers (other shards of the root, sources added)."""
        self._last_refresh = time.monotonic()
        self.storage.refresh(skip=self._own)

    def add(self, chunk: Mapping[str, np.ndarray]) -> None:
        """Write N transitions; they become sampleable (and count as acknowledged) once durable."""
        if self.writer is None:
            raise RuntimeError("this replay is read-only (it was opened without a shard to write)")
        self.writer.add(chunk)

    def add_demos(self, chunk: Mapping[str, np.ndarray]) -> None:
        """Hold demonstrations in memory (never written to disk: they have a file of their own)."""
        key = self.storage.hold(chunk)
        self.hot.put(key, chunk, pinned=True)

    def flush(self) -> None:
        """Acknowledge everything added so far (blocks for one fsync)."""
        if self.writer is not None:
            self.writer.commit()

    @property
    def acknowledged(self) -> int:
        """Durable transitions: of this process's shard when it writes one, else of every shard read."""
        return self.storage.transitions if self.writer is None else self.writer.acknowledged_transitions

    # ---- sampling ----------------------------------------------------------------------------

    def _draw(self, batch_size: int, pool: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray] | None:
        """(catalog indices, rows) of a batch, online picks first. The split between the streams
        follows everything stored; with `pool`, the draws are among those records only (None
        when a stream the split needs has nothing there)."""
        stored = self.storage.view()
        counts = self.sampler.split(*stored.sizes, batch_size)
        view = stored if pool is None else self.storage.view(pool)
        if any(count and not size for count, size in zip(counts, view.sizes)):
            return None
        return view.locate(self.sampler.draw(counts, view.sizes))

    def sample_flat(self, batch_size: int) -> dict[str, np.ndarray]:
        """`batch_size` transitions as flat chunk arrays (a new batch, owned by the caller).
        ValueError while the streams the sampler needs are empty."""
        if time.monotonic() - self._last_refresh > self.refresh_s:
            self.refresh()
        batch = self.hot.sample_held(lambda pool: self._draw(batch_size, pool))
        for _ in range(MAX_DRAWS):
            if batch is not None:
                break
            batch = self.hot.gather(*self._draw(batch_size))
        if batch is None:
            raise RuntimeError("buffer: could not assemble a batch; too many damaged records (see the log)")
        return batch

    def _make_batch(self, batch_size: int) -> dict:
        return unflatten(self.sample_flat(batch_size))

    def sample(self, batch_size: int) -> dict:
        """`batch_size` transitions as the batch dict an Algorithm takes (see `core.Algorithm`)."""
        if self._prefetcher is None:
            return self._make_batch(batch_size)
        return self._prefetcher.get(batch_size)

    def __len__(self) -> int:
        """Online transitions that can be sampled (every shard, read-only buffers included)."""
        return self.storage.totals()[0]

    @property
    def num_demos(self) -> int:
        return self.storage.totals()[1]

    @property
    def sampleable(self) -> int:
        """`num_demos` when every batch comes from the demonstration stream (demo_ratio 1.0), else `len`."""
        return self.num_demos if self.sampler.demo_only else len(self)

    def stats(self) -> dict[str, float]:
        """Figures for metrics.jsonl: acknowledged transitions, memory use, where batches came from."""
        return {
            "buffer_transitions": float(self.acknowledged),
            "buffer_sampleable": float(len(self)),
            **self.hot.stats(),  # mode hot: buffer_cache_hit_rate is the share of batches from memory
        }

    def state_dict(self) -> dict:
        """The sampler's random state (the transitions themselves are on disk)."""
        return self.sampler.state_dict()

    def load_state_dict(self, state: Mapping) -> None:
        self.sampler.load_state_dict(state)

    def close(self) -> None:
        """Stop the background threads, acknowledge what is pending and release the shard. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._prefetcher is not None:
            self._prefetcher.close()
        self.hot.close()
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        self.storage.close()

    def __enter__(self) -> PersistentReplay:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
