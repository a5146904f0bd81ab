"""A byte-bounded in-memory cache of decoded records (chunks), oldest-first eviction.

    cache = RecordCache(max_bytes=1 << 30)
    cache.put(key, chunk)          # evicts the oldest entries until it fits
    chunk = cache.get(key)         # None on a miss; a hit refreshes nothing (see below)

Eviction is by insertion order, not by last use: the hot-set sampler (`PersistentReplay` with
cache mode "hot") draws from whatever is cached, so refreshing entries on use would keep the same
records hot forever; evicting the longest-resident one gives every record its turn. Thread-safe.
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

    def pop_oldest(self) -> Hashable | None:
        """Evict the longest-resident entry; returns its key (None when empty)."""
        with self._lock:
            if not self._entries:
                return None
            key, (_, size) = self._entries.popitem(last=False)
            self.nbytes -= size
            self.evictions += 1
            return key

    def discard(self, key: Hashable) -> None:
        with self._lock:
            entry = self._entries.pop(key, None)
            if entry is not None:
                self.nbytes -= entry[1]

    def snapshot(self) -> dict[Hashable, Mapping[str, np.ndarray]]:
        """The cached chunks right now (references: evicting later does not take them away)."""
        with self._lock:
            return {key: entry[0] for key, entry in self._entries.items()}

    def count(self, hits: int, misses: int) -> None:
        """Record lookups served from a snapshot."""
        with self._lock:
            self.hits += hits
            self.misses += misses

    def keys(self) -> list[Hashable]:
        with self._lock:
            return list(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def would_fit(self, size: int) -> bool:
        """True when `size` more bytes fit without evicting anything."""
        return self.nbytes + size <= self.max_bytes
