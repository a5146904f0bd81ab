"""The hot set: which records are in memory for sampling, refreshed in the background.

With cache mode "hot", batches are drawn from the records in the cache, so sampling runs at
memory speed however large the buffer is. To keep every transition's long-run chance equal, a
loader thread fills the cache with records drawn at random (weighted by their transitions) from
those on disk, and for every batch sampled swaps `rotate_per_batch` of the longest-resident
records for fresh ones. A record's expected time in memory is then the same for every record;
within one batch, draws are uniform over the hot set, not over the whole buffer (the price of
memory-speed sampling; cache mode "exact" draws over everything and reads misses from disk).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping

import numpy as np

from fleetrl.buffer.catalog import Catalog
from fleetrl.buffer.hot_slab import HotSlab
from fleetrl.buffer.record_cache import chunk_nbytes

log = logging.getLogger(__name__)


class HotSetLoader:
    """Fills and rotates `cache` from records of `catalog`, read with `read(catalog_index)`.

    `read` returns the decoded chunk, or None when the record is damaged (the caller has then
    taken it out of the catalog). `pinned()` lists the records held in memory elsewhere.
    """

    def __init__(
        self,
        catalog: Catalog,
        cache: HotSlab,
        read: Callable[[int], Mapping[str, np.ndarray] | None],
        rotate_per_batch: float = 1.0,
        seed: int = 0,
        pinned: Callable[[], list[int]] = list,
    ) -> None:
        self.catalog, self.cache, self._read, self._pinned = catalog, cache, read, pinned
        self.rotate_per_batch = rotate_per_batch
        self.records_loaded = 0
        self._rng = np.random.default_rng(seed + 7919)
        self._credit = 0.0
        self._record_bytes = 0  # decoded size of the last record loaded: what "room" means
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="buffer-hot-set", daemon=True)
        self._thread.start()

    def batch_sampled(self) -> None:
        """One batch was drawn from the hot set: earn `rotate_per_batch` swaps."""
        self._credit += self.rotate_per_batch
        self._wake.set()

    def records_added(self) -> None:
        self._wake.set()

    def _pick_cold(self) -> int | None:
        sizes = self.catalog.record_sizes().astype(np.float64)
        for key in self.cache.keys():
            index = self.catalog.position(key)
            if index is not None and index < len(sizes):
                sizes[index] = 0
        sizes[[i for i in self._pinned() if i < len(sizes)]] = 0
        total = sizes.sum()
        if total <= 0:
            return None
        return int(self._rng.choice(len(sizes), p=sizes / total))

    def _load(self, index: int) -> bool:
        """Read record `index` into memory (evicting the longest-resident when full); False if it
        was damaged."""
        chunk = self._read(index)
        if chunk is None:
            return False
        self._record_bytes = chunk_nbytes(chunk)
        self.cache.put(self.catalog.keys[index], chunk)
        return True

    def load_now(self, count: int) -> int:
        """Load up to `count` records into memory on the calling thread (a cold start must not
        wait for the background thread); returns how many were loaded."""
        loaded = 0
        for _ in range(count):
            index = self._pick_cold()
            if index is None:
                break
            loaded += self._load(index)
        return loaded

    def _step(self) -> bool:
        """Load one record if there is room or a swap is due; False when there is nothing to do."""
        must_swap = self._credit >= 1.0
        if not must_swap and not self.cache.would_fit(self._record_bytes):
            return False  # full: load again only when a swap is due
        index = self._pick_cold()
        if index is None:
            return False
        if self._load(index):
            self._credit = max(0.0, self._credit - 1.0)
            self.records_loaded += 1
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self._step()
            except Exception:  # noqa: BLE001 - keep loading; the sampler still works from what is hot
                log.exception("buffer hot-set loader failed to load a record")
                busy = False
            if not busy:
                self._wake.wait(0.2)
                self._wake.clear()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=30)
