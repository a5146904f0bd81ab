"""The sampling view of a persistent buffer: every sampleable record and who acted in each row.

Transitions are split into two streams for RLPD-style mixing: stream DEMO holds the rows whose
`source` is one of `demo_sources` (demonstrations; interventions too when they are routed there),
stream ONLINE holds the rest. A draw picks transitions uniformly within one stream, from all
records or from a pool (the records that are in memory), optionally only from the newest
`window` online transitions:

    catalog = Catalog(demo_sources={SOURCE_DEMO})
    index = catalog.add(key=(source, record_id), sources=record_sources_bytes)
    records, rows = catalog.draw(rng, ONLINE, 256, pool=hot_indices, window=None)

Thread-safe: records are added by commit and refresh threads while a sampler thread draws.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Hashable

import numpy as np

ONLINE, DEMO = 0, 1
STREAMS = (ONLINE, DEMO)


class Catalog:
    """Records (by key) with the rows of each stream they hold."""

    def __init__(self, demo_sources: Collection[int]) -> None:
        self._demo_sources = np.array(sorted(demo_sources), dtype=np.int8)
        self.keys: list[Hashable] = []
        self._positions: dict[Hashable, int] = {}
        self._rows: list[tuple[np.ndarray | None, np.ndarray | None]] = []  # None: every row
        self._counts = np.zeros((2, 1024), dtype=np.int64)
        self._online_end = np.zeros(1024, dtype=np.int64)  # online rows up to and including record i
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.keys)

    def add(self, key: Hashable, sources: bytes) -> int:
        """Add a record whose row i was chosen by `sources[i]`; returns its catalog index."""
        source = np.frombuffer(sources, dtype=np.int8)
        is_demo = np.isin(source, self._demo_sources)
        demo_rows = np.flatnonzero(is_demo)
        online_rows = np.flatnonzero(~is_demo)
        rows = (
            None if len(online_rows) == len(source) else online_rows,
            None if len(demo_rows) == len(source) else demo_rows,
        )
        with self._lock:
            if key in self._positions:
                return self._positions[key]
            i = len(self.keys)
            if i == self._counts.shape[1]:
                self._counts = np.concatenate([self._counts, np.zeros_like(self._counts)], axis=1)
                self._online_end = np.concatenate([self._online_end, np.zeros_like(self._online_end)])
            self.keys.append(key)
            self._positions[key] = i
            self._rows.append(rows)
            self._counts[ONLINE, i], self._counts[DEMO, i] = len(online_rows), len(demo_rows)
            self._online_end[i] = (self._online_end[i - 1] if i else 0) + len(online_rows)
            return i

    def position(self, key: Hashable) -> int | None:
        return self._positions.get(key)

    def disable(self, indices: Collection[int]) -> int:
        """Stop sampling records `indices` (a damaged segment); returns the transitions removed."""
        with self._lock:
            idx = np.asarray(list(indices), dtype=np.int64)
            removed = int(self._counts[:, idx].sum())
            self._counts[:, idx] = 0
            return removed

    def totals(self) -> tuple[int, int]:
        """(online, demo) transitions that can be sampled."""
        with self._lock:
            n = len(self.keys)
            return int(self._counts[ONLINE, :n].sum()), int(self._counts[DEMO, :n].sum())

    def record_sizes(self) -> np.ndarray:
        """Transitions per record (both streams), indexed by catalog index."""
        with self._lock:
            return self._counts[:, : len(self.keys)].sum(axis=0)

    def _candidates(self, stream: int, pool: np.ndarray | None, window: int | None) -> tuple[np.ndarray, np.ndarray]:
        n = len(self.keys)
        idx = np.arange(n) if pool is None else pool[pool < n]
        weights = self._counts[stream, idx]
        if window is not None and stream == ONLINE and n:
            oldest = self._online_end[n - 1] - window  # records ending after this hold the window
            weights = np.where(self._online_end[idx] > oldest, weights, 0)
        return idx, weights

    def available(self, stream: int, pool: np.ndarray | None = None, window: int | None = None) -> int:
        with self._lock:
            return int(self._candidates(stream, pool, window)[1].sum())

    def draw(
        self, rng: np.random.Generator, stream: int, k: int, pool: np.ndarray | None = None, window: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """`k` transitions drawn uniformly with replacement from `stream` (within `pool`, a sorted
        array of catalog indices, when given): (catalog indices, rows within those records).
        ValueError when nothing can be drawn."""
        with self._lock:
            idx, weights = self._candidates(stream, pool, window)
            ends = np.cumsum(weights)
            total = int(ends[-1]) if len(ends) else 0
            if total == 0:
                raise ValueError("cannot sample from an empty buffer")
            picks = rng.integers(0, total, size=k)
            where = np.searchsorted(ends, picks, side="right")
            offsets = picks - (ends[where] - weights[where])
            records = idx[where]
            rows = np.empty(k, dtype=np.int64)
            for j, (record, offset) in enumerate(zip(records, offsets)):
                stream_rows = self._rows[record][stream]
                rows[j] = offset if stream_rows is None else stream_rows[offset]
            return records, rows
