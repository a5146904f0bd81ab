"""A byte-bounded in-memory cache of decoded records (chunks), oldest-first eviction.

    cache = RecordCache(max_bytes=1 << 30)
    cache.put(key, chunk)          # evicts the oldest entries until it fits
    chunk = cache.get(key)         # None on a miss; a hit refreshes nothing (see below)

The memory of cache mode "exact" (`hot_stores.ExactCacheStore`; mode "hot" keeps its records in a `HotSlab`).
Eviction is by insertion order, not by last use, like the slab's. Thread-safe.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping

import numpy as np


def chunk_nbytes(chunk: Mapping[str, np.ndarray]) -> int:
    return int(sum(np.asarray(value).nbytes for value in chunk.values()))


class RecordCache:
    """Up to `max_bytes` of decoded chunks (0 disables caching: every put is dropped)."""

    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
        self.max_bytes = max_bytes
        self.nbytes = 0
        self.hits = 0
        self.misses = 0
        self.evictions = 0
        self._entries: OrderedDict[Hashable, tuple[Mapping[str, np.ndarray], int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Mapping[str, np.ndarray] | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self.hits += 1
            return entry[0]

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._entries

    def put(self, key: Hashable, chunk: Mapping[str, np.ndarray]) -> list[Hashable]:
        """Cache `chunk` under `key`; returns the keys evicted to make room. A chunk larger than
        the whole cache is not cached."""
        size = chunk_nbytes(chunk)
        evicted: list[Hashable] = []
        with self._lock:
            if size > self.max_bytes:
                return evicted
            if key in self._entries:
                self.nbytes -= self._entries.pop(key)[1]
            while self.nbytes + size > self.max_bytes and self._entries:
                old_key, (_, old_size) = self._entries.popitem(last=False)
                self.nbytes -= old_size
                self.evictions += 1
                evicted.append(old_key)
            self._entries[key] = (chunk, size)
            self.nbytes += size
        return evicted

    def discard(self, key: Hashable) -> None:
        with self._lock:
            entry = self._entries.pop(key, None)
            if entry is not None:
                self.nbytes -= entry[1]

    def keys(self) -> list[Hashable]:
        with self._lock:
            return list(self._entries)

    def __len__(self) -> int:
        return len(self._entries)
