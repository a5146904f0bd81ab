"""In-memory storage of transitions: a ring of preallocated numpy arrays, one per chunk key.

Memory. Both obs and next_obs are stored (no frame sharing between neighbours), so a transition
costs the sum of its arrays' row sizes. For `obs_mode="pixels"` with two 128x128x3 uint8 cameras
and an (8,) float32 proprioceptive state, with a (7,) action:

    images       2 cameras x 49,152 B x 2 (obs, next_obs)    196,608 B
    state        8 x 4 B x 2                                      64 B
    action (28 B), reward, terminated, truncated (float32)        40 B
    policy_version, robot (int64), source (int8)                  17 B
    total                                                    196,729 B  (~197 kB; 196,717 B
                                                             for PickCube's (4,) action)

so 100,000 transitions take ~19.7 GB and the default capacity of 200,000 ~39 GB: size
`buffer.capacity` for pixels to the machine (or use the persistent on-disk buffer). A state run
(PickCube: (14,) obs, (4,) action) costs 112 + 16 + 12 + 17 = 157 B per transition, 31 MB for
200,000. Arrays are allocated with `np.empty`, so the operating system commits pages only as the
ring fills. `ArrayStorage.nbytes_per_transition` gives the exact figure once data has arrived.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from fleetrl.core.transitions import chunk_len, unflatten


class RingWriter:
    """Decides where the next transitions go: round robin over `capacity` slots, oldest overwritten.

    Kept apart from the arrays so that another storage (on disk) can reuse or replace it.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self.cursor = 0  # the slot the next transition is written to
        self.size = 0  # slots holding data

    def next_slots(self, n: int) -> list[tuple[int, int, int]]:
        """Reserve slots for the last min(n, capacity) of n new transitions.

        Returns (start, stop, offset) runs: slots [start, stop) receive items
        [offset, offset + stop - start) of the new transitions.
        """
        skip = max(0, n - self.capacity)  # older items of an oversize chunk are overwritten at once
        runs, offset, left = [], skip, n - skip
        while left:
            stop = min(self.cursor + left, self.capacity)
            runs.append((self.cursor, stop, offset))
            offset += stop - self.cursor
            left -= stop - self.cursor
            self.cursor = stop % self.capacity
        self.size = min(self.capacity, self.size + n)
        return runs

    def state_dict(self) -> dict:
        return {"capacity": self.capacity, "cursor": self.cursor, "size": self.size}

    def load_state_dict(self, state: Mapping) -> None:
        if int(state["capacity"]) != self.capacity:
            raise ValueError(f"capacity {state['capacity']} in state, {self.capacity} in this writer")
        self.cursor, self.size = int(state["cursor"]), int(state["size"])


class ArrayStorage:
    """Up to `capacity` transitions in preallocated numpy arrays (a ring; the oldest are overwritten).

        storage = ArrayStorage(100_000)
        storage.add(chunk)                       # chunk format of `fleetrl.core.transitions`
        batch = storage.get(np.array([0, 5]))    # {"obs": ..., "next_obs": ..., "action": ..., ...}

    The arrays are created from the first chunk's keys, dtypes and shapes; later chunks must have
    the same keys and per-item shapes (ValueError otherwise) and are cast to the stored dtypes
    only where numpy's "same_kind" casting allows (a float image into uint8 storage is refused).
    Not thread-safe: `ReplayBuffer` holds the lock.
    """

    def __init__(self, capacity: int) -> None:
        self.writer = RingWriter(capacity)
        self._arrays: dict[str, np.ndarray] | None = None

    @property
    def capacity(self) -> int:
        return self.writer.capacity

    def __len__(self) -> int:
        return self.writer.size

    @property
    def layout(self) -> dict[str, tuple[tuple[int, ...], np.dtype]] | None:
        """Per-transition shape and dtype of each key, or None before the first chunk."""
        if self._arrays is None:
            return None
        return {key: (value.shape[1:], value.dtype) for key, value in self._arrays.items()}

    @property
    def nbytes_per_transition(self) -> int:
        """Bytes one stored transition takes (0 before the first chunk)."""
        if self._arrays is None:
            return 0
        return sum(value[0].nbytes for value in self._arrays.values())

    def _allocate(self, chunk: Mapping[str, np.ndarray]) -> None:
        self._arrays = {
            key: np.empty((self.capacity, *np.shape(value)[1:]), dtype=np.asarray(value).dtype)
            for key, value in chunk.items()
        }

    def _check(self, chunk: Mapping[str, np.ndarray]) -> None:
        assert self._arrays is not None
        if set(chunk) != set(self._arrays):
            raise ValueError(f"chunk keys {sorted(chunk)} differ from the stored keys {sorted(self._arrays)}")
        for key, value in chunk.items():
            if np.shape(value)[1:] != self._arrays[key].shape[1:]:
                raise ValueError(
                    f"chunk[{key!r}]: item shape {np.shape(value)[1:]}, stored {self._arrays[key].shape[1:]}"
                )

    def add(self, chunk: Mapping[str, np.ndarray]) -> int:
        """Store a chunk's N transitions (the last `capacity` of them if N is larger); returns N."""
        n = chunk_len(chunk)
        if self._arrays is None:
            self._allocate(chunk)
        self._check(chunk)
        for start, stop, offset in self.writer.next_slots(n):
            for key, dest in self._arrays.items():
                src = np.asarray(chunk[key])[offset : offset + stop - start]
                np.copyto(dest[start:stop], src, casting="same_kind")
        return n

    def get_flat(self, indices: np.ndarray) -> dict[str, np.ndarray]:
        """Copies of the transitions at `indices` (slots in [0, len)), with flat chunk keys."""
        indices = np.asarray(indices, dtype=np.int64)
        if self._arrays is None or (indices.size and (indices.min() < 0 or indices.max() >= len(self))):
            raise IndexError(f"indices must lie in [0, {len(self)})")
        return {key: value[indices] for key, value in self._arrays.items()}

    def get(self, indices: np.ndarray) -> dict:
        """The batch an Algorithm takes: obs/next_obs nested back into dicts for dict observations."""
        return unflatten(self.get_flat(indices))

    def state_dict(self) -> dict:
        """The stored transitions (filled slots only) and the ring position, as numpy arrays."""
        arrays = {} if self._arrays is None else {k: v[: len(self)].copy() for k, v in self._arrays.items()}
        return {"writer": self.writer.state_dict(), "arrays": arrays}

    def load_state_dict(self, state: Mapping) -> None:
        """Restore from `state_dict()` (the capacity must match)."""
        self.writer.load_state_dict(state["writer"])
        arrays = state["arrays"]
        if not arrays:
            self._arrays = None
            return
        self._allocate(arrays)
        size = len(self)
        for key, value in arrays.items():
            self._arrays[key][:size] = value
