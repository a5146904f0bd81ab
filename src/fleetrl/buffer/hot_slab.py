"""The hot set held in preallocated arrays, so a batch is gathered like an in-RAM replay's.

    slab = HotSlab(max_bytes=1 << 30)
    slab.put(key, chunk)                           # copies the rows into free slots (evicting the oldest)
    with slab.lock:                                # no slot is rewritten while a batch is gathered
        rows = slab.rows_of_many([key_a, key_b], which, rows)   # where rows[j] of record which[j] lie
        batch = {k: a[rows] for k, a in slab.arrays.items()}

Memory is cut into slots of `slot_rows` transitions each; a record takes ceil(n / slot_rows)
slots, anywhere. One fancy index per key then gathers a whole batch, however many records it
touches (a dict of per-record arrays costs one small copy per record and key, about twice the
in-RAM time for 128x128 images). Eviction is oldest-first, as in `RecordCache`; pinned records
(demonstrations held in memory) are never evicted. Arrays are allocated from the first chunk's
layout; every later chunk must share it (the buffer's writers guarantee that).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping

import numpy as np


class HotSlab:
    """Up to `max_bytes` of records in slot arrays. Not usable for sampling until the first put."""

    def __init__(self, max_bytes: int, slot_rows: int = 16) -> None:
        self.max_bytes, self.slot_rows = max_bytes, slot_rows
        self.arrays: dict[str, np.ndarray] = {}
        self.lock = threading.RLock()
        self.evictions = 0
        self._slots: OrderedDict[Hashable, np.ndarray] = OrderedDict()  # key -> slot ids, oldest first
        self._pinned: set[Hashable] = set()
        self._free: list[int] = []
        self._used_slots = 0  # kept by put and _release, so size is read without walking _slots
        self._row_bytes = 0

    # ---- capacity ------------------------------------------------------------------------------

    def _allocate(self, chunk: Mapping[str, np.ndarray]) -> None:
        self._row_bytes = int(sum(np.asarray(v)[0].nbytes for v in chunk.values()))
        slots = max(1, self.max_bytes // (self._row_bytes * self.slot_rows))
        rows = slots * self.slot_rows
        self.arrays = {k: np.empty((rows, *np.shape(v)[1:]), dtype=np.asarray(v).dtype) for k, v in chunk.items()}
        self._free = list(range(slots - 1, -1, -1))

    @property
    def nbytes(self) -> int:
        """Bytes of the slots in use. Safe from any thread: metrics read it while the hot-set
        loader puts and evicts (walking `_slots` then raised "OrderedDict mutated during
        iteration" and killed a learner)."""
        return self._used_slots * self.slot_rows * self._row_bytes

    def _slots_for(self, rows: int) -> int:
        return -(-rows // self.slot_rows)

    def would_fit(self, nbytes: int) -> bool:
        """True when a record of `nbytes` decoded bytes fits without evicting anything."""
        if not self.arrays:
            return nbytes <= self.max_bytes
        rows = -(-nbytes // max(self._row_bytes, 1))
        return self._slots_for(rows) <= len(self._free)

    # ---- contents ------------------------------------------------------------------------------

    def __contains__(self, key: Hashable) -> bool:
        return key in self._slots

    def __len__(self) -> int:
        return len(self._slots)

    def keys(self) -> list[Hashable]:
        with self.lock:
            return list(self._slots)

    def _release(self, key: Hashable) -> None:
        ids = self._slots.pop(key)
        self._free.extend(ids.tolist())
        self._used_slots -= len(ids)
        self._pinned.discard(key)

    def pop_oldest(self) -> Hashable | None:
        """Evict the longest-resident record that is not pinned; returns its key (None: nothing)."""
        with self.lock:
            for key in self._slots:
                if key not in self._pinned:
                    self._release(key)
                    self.evictions += 1
                    return key
            return None

    def discard(self, key: Hashable) -> None:
        with self.lock:
            if key in self._slots:
                self._release(key)

    def put(self, key: Hashable, chunk: Mapping[str, np.ndarray], pinned: bool = False) -> list[Hashable]:
        """Copy `chunk` into free slots, evicting the oldest records as needed; returns their keys.
        A record larger than the whole slab, or of another layout, is not taken (returns [])."""
        n = len(next(iter(chunk.values())))
        with self.lock:
            if not self.arrays:
                self._allocate(chunk)
            if key in self._slots or set(chunk) != set(self.arrays):
                return []
            need = self._slots_for(n)
            evicted: list[Hashable] = []
            while len(self._free) < need:
                old = self.pop_oldest()
                if old is None:
                    return evicted
                evicted.append(old)
            ids = np.array([self._free.pop() for _ in range(need)], dtype=np.int64)
            rows = self._rows(ids, np.arange(n))
            for k, dest in self.arrays.items():
                dest[rows] = chunk[k]
            self._slots[key] = ids
            self._used_slots += need
            if pinned:
                self._pinned.add(key)
            return evicted

    def _rows(self, ids: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return ids[rows // self.slot_rows] * self.slot_rows + rows % self.slot_rows

    def rows_of_many(self, keys: list[Hashable], which: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Slab rows of rows `rows[j]` of records `keys[which[j]]`, in one vectorised step (call
        with `lock` held)."""
        slots = [self._slots[key] for key in keys]
        table = np.zeros((len(slots), max(len(ids) for ids in slots)), dtype=np.int64)
        for i, ids in enumerate(slots):
            table[i, : len(ids)] = ids
        return table[which, rows // self.slot_rows] * self.slot_rows + rows % self.slot_rows
