"""The sampling view of a persistent buffer: every sampleable record and who acted in each row.

Transitions are split into two streams for RLPD-style mixing: stream DEMO holds the rows whose
`source` is one of `demo_sources` (demonstrations; interventions too when they are routed there),
stream ONLINE holds the rest. A view counts the transitions of each stream a draw may pick, from
all records or from a pool (the records that are in memory), online ones optionally only from the
newest `window`; a sampler picks transition numbers, and the view locates them:

    catalog = Catalog(demo_sources={SOURCE_DEMO})
    index = catalog.add(key=(source, record_id), sources=record_sources_bytes)
    view = catalog.view(pool=hot_indices, window=None)
    picks = sampler.draw(counts, view.sizes)          # per stream, numbers in [0, view.sizes[s])
    records, rows = view.locate(picks)                # catalog indices, rows within those records

Thread-safe: records are added by commit and refresh threads while a sampler thread draws.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Hashable, Sequence

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

    def view(self, pool: np.ndarray | None = None, window: int | None = None) -> CatalogView:
        """What one draw sees, fixed now: each stream's transitions in `pool` (a sorted array of
        catalog indices; None: every record), online ones only from the newest `window`."""
        with self._lock:
            return CatalogView(self, tuple(self._candidates(stream, pool, window) for stream in STREAMS))

    def rows_of(self, stream: int, records: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """Rows within records `records` of their `offsets`-th transition of `stream`."""
        rows = np.empty(len(records), dtype=np.int64)
        with self._lock:
            for j, (record, offset) in enumerate(zip(records, offsets)):
                stream_rows = self._rows[record][stream]
                rows[j] = offset if stream_rows is None else stream_rows[offset]
        return rows


class CatalogView:
    """Each stream's candidate records and their transition counts, as `Catalog.view` found them.

    A sampler draws transition numbers in [0, sizes[s]) for stream s; `locate` turns them into
    records and rows. Records added later are not in the view; a record disabled later still is
    (reading it then fails, and the replay draws again).
    """

    def __init__(self, catalog: Catalog, candidates: tuple[tuple[np.ndarray, np.ndarray], ...]) -> None:
        self._catalog, self._candidates = catalog, candidates
        self._ends = [np.cumsum(weights) for _, weights in candidates]
        self.sizes = tuple(int(ends[-1]) if len(ends) else 0 for ends in self._ends)

    def locate(self, picks: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(catalog indices, rows within those records) of transitions `picks[s]` of each stream s,
        stream after stream (online first). IndexError for a pick outside [0, sizes[s])."""
        records, rows = [], []
        for stream, stream_picks in zip(STREAMS, picks):
            stream_picks = np.asarray(stream_picks, dtype=np.int64)
            if not len(stream_picks):
                continue
            if stream_picks.min() < 0 or stream_picks.max() >= self.sizes[stream]:
                raise IndexError(f"stream {stream}: picks must lie in [0, {self.sizes[stream]})")
            idx, weights = self._candidates[stream]
            ends = self._ends[stream]
            where = np.searchsorted(ends, stream_picks, side="right")
            offsets = stream_picks - (ends[where] - weights[where])
            records.append(idx[where])
            rows.append(self._catalog.rows_of(stream, idx[where], offsets))
        if not records:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        return np.concatenate(records), np.concatenate(rows)
