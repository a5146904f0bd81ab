"""The replay buffer a learner samples from: online storage, optional demonstrations, a sampler.

    buffer = ReplayBuffer(ArrayStorage(100_000), UniformSampler(seed))
    buffer.add(chunk)                                        # from a writer thread
    batch = buffer.sample(256)                               # from the learner thread

The in-memory replay (config `buffer.storage: memory`); `fleetrl.buffer.persistent` is the one
on disk, composed of the same kinds of parts. `fleetrl.buffer.build.build_replay` makes either
from a run config. Nothing here outlives the process: a transition counts as acknowledged once
`add` returns, and `refresh`, `flush` and `close` have nothing to do.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

import numpy as np

from fleetrl.buffer.samplers import Sampler, UniformSampler
from fleetrl.buffer.storage import ArrayStorage
from fleetrl.core.interfaces import Buffer
from fleetrl.core.transitions import chunk_len, concat_chunks, unflatten


class ReplayBuffer(Buffer):
    """Online transitions in `storage`, demonstrations in `demo_storage`, batches from `sampler`.

    `add` and `sample` may be called from different threads (one lock guards both). `len()` counts
    online transitions only; `num_demos` the demonstrations. Batches hold online transitions first,
    then demonstrations; the "source" field tells them apart.
    """

    def __init__(
        self,
        storage: ArrayStorage,
        sampler: Sampler | None = None,
        demo_storage: ArrayStorage | None = None,
    ) -> None:
        self.storage = storage
        self.demo_storage = demo_storage
        self.sampler = sampler if sampler is not None else UniformSampler()
        self.transitions_added = 0  # online transitions ever added (overwritten ones included)
        self._lock = threading.Lock()

    def _check_compatible(self, chunk: Mapping[str, np.ndarray], other: ArrayStorage | None) -> None:
        """Online and demo transitions are batched together, so their layouts must agree."""
        layout = other.layout if other is not None else None
        if layout is None:
            return
        if set(chunk) != set(layout):
            raise ValueError(f"chunk keys {sorted(chunk)} differ from the other storage's {sorted(layout)}")
        for key, value in chunk.items():
            if np.shape(value)[1:] != layout[key][0]:
                raise ValueError(f"chunk[{key!r}]: item shape {np.shape(value)[1:]}, other storage {layout[key][0]}")

    def add(self, chunk: Mapping[str, np.ndarray]) -> None:
        """Store N online transitions; they can be sampled once this returns."""
        with self._lock:
            self._check_compatible(chunk, self.demo_storage)
            self.transitions_added += self.storage.add(chunk)

    def add_demos(self, chunk: Mapping[str, np.ndarray]) -> None:
        """Store demonstrations (creating an unbounded-enough demo storage on first use)."""
        n = chunk_len(chunk)
        with self._lock:
            self._check_compatible(chunk, self.storage)
            if self.demo_storage is None:
                self.demo_storage = ArrayStorage(n)
            elif len(self.demo_storage) + n > self.demo_storage.capacity:
                self.demo_storage = _grown(self.demo_storage, n)
            self.demo_storage.add(chunk)

    def sample(self, batch_size: int) -> dict:
        """`batch_size` transitions as the batch dict an Algorithm takes (see `core.Algorithm`)."""
        with self._lock:
            storages = [self.storage] + ([self.demo_storage] if self.demo_storage is not None else [])
            picks = self.sampler.sample([len(s) for s in storages], batch_size)
            parts = [s.get_flat(idx) for s, idx in zip(storages, picks) if len(idx)]
        return unflatten(parts[0] if len(parts) == 1 else concat_chunks(parts))

    def __len__(self) -> int:
        return len(self.storage)

    @property
    def num_demos(self) -> int:
        return 0 if self.demo_storage is None else len(self.demo_storage)

    @property
    def sampleable(self) -> int:
        """`num_demos` when the sampler draws demonstrations only, else `len`."""
        return self.num_demos if self.sampler.demo_only else len(self)

    @property
    def acknowledged(self) -> int:
        """Online transitions ever added (overwritten ones included); lost at exit all the same."""
        return self.transitions_added

    def refresh(self) -> None:
        pass

    def flush(self) -> None:
        pass

    def stats(self) -> dict[str, float]:
        return {"buffer_transitions": float(self.acknowledged), "buffer_sampleable": float(len(self))}

    def close(self) -> None:
        pass

    def state_dict(self) -> dict:
        with self._lock:
            return {
                "storage": self.storage.state_dict(),
                "demo_capacity": None if self.demo_storage is None else self.demo_storage.capacity,
                "demo_storage": None if self.demo_storage is None else self.demo_storage.state_dict(),
                "sampler": self.sampler.state_dict(),
                "transitions_added": self.transitions_added,
            }

    def load_state_dict(self, state: Mapping) -> None:
        with self._lock:
            self.storage.load_state_dict(state["storage"])
            if state["demo_storage"] is None:
                self.demo_storage = None
            else:
                self.demo_storage = ArrayStorage(int(state["demo_capacity"]))
                self.demo_storage.load_state_dict(state["demo_storage"])
            self.sampler.load_state_dict(state["sampler"])
            self.transitions_added = int(state["transitions_added"])


def _grown(storage: ArrayStorage, extra: int) -> ArrayStorage:
    """A copy of a (never wrapped) demo storage with room for `extra` more transitions."""
    bigger = ArrayStorage(len(storage) + extra)
    if len(storage):
        bigger.add(storage.get_flat(np.arange(len(storage))))
    return bigger
