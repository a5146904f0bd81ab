"""Samplers: which stored transitions go into a batch.

A sampler sees only sizes, never arrays: `sample(sizes, batch_size)` takes the number of
transitions in each storage of a buffer (online first, then demonstrations) and returns one array
of slot indices per storage, together `batch_size` long. Indices are drawn with replacement.

Both replays use them: `ReplayBuffer` with its two array storages, `PersistentReplay` with the
two streams of its catalog. The persistent one asks `MixedSampler` for the split and the draw
separately (`sample` is `draw(split(...))`), because with its hot set it splits a batch by
everything stored but draws only among the records in memory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np


class Sampler(Protocol):
    """What a replay asks of its sampler (see the module docstring)."""

    demo_only: bool  # every batch from the demonstration stream: what a replay can sample is num_demos

    def sample(self, sizes: Sequence[int], batch_size: int) -> list[np.ndarray]: ...

    def state_dict(self) -> dict: ...

    def load_state_dict(self, state: Mapping) -> None: ...


class UniformSampler:
    """Every stored transition equally likely, whichever storage holds it (demos count like the rest)."""

    demo_only = False

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)

    def sample(self, sizes: Sequence[int], batch_size: int) -> list[np.ndarray]:
        total = int(sum(sizes))
        if total == 0:
            raise ValueError("cannot sample from an empty buffer")
        flat = np.sort(self.rng.integers(0, total, size=batch_size))
        bounds = np.cumsum([0, *sizes])
        return [flat[(flat >= lo) & (flat < hi)] - lo for lo, hi in zip(bounds[:-1], bounds[1:])]

    def state_dict(self) -> dict:
        return {"rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: Mapping) -> None:
        self.rng.bit_generator.state = state["rng"]


class MixedSampler:
    """RLPD's symmetric sampling: a fixed share of every batch comes from the demonstrations.

    With sizes (online, demo), each batch draws round(demo_ratio * batch_size) transitions
    uniformly from the demonstrations and the rest uniformly from online data. Without
    demonstrations the batch is all online; while online data is still empty, it is all demos.
    With demo_ratio 1.0 it is demos only (see `mixed_split`).
    """

    def __init__(self, demo_ratio: float = 0.5, seed: int = 0) -> None:
        self.demo_ratio = checked_demo_ratio(demo_ratio)
        self.rng = np.random.default_rng(seed)

    @property
    def demo_only(self) -> bool:
        """True at demo_ratio 1.0: batches never hold online transitions."""
        return self.demo_ratio == 1.0

    def split(self, online: int, demo: int, batch_size: int) -> tuple[int, int]:
        """How many of a batch come from (online, demo) storage."""
        return mixed_split(self.demo_ratio, online, demo, batch_size)

    def draw(self, counts: Sequence[int], sizes: Sequence[int]) -> list[np.ndarray]:
        """`counts[s]` indices drawn uniformly from [0, sizes[s]) for each storage s (a storage
        asked for none may be empty)."""
        return [self.rng.integers(0, max(size, 1), size=count) for size, count in zip(sizes, counts)]

    def sample(self, sizes: Sequence[int], batch_size: int) -> list[np.ndarray]:
        online, demo = (list(sizes) + [0])[:2]
        return self.draw(self.split(online, demo, batch_size), (online, demo))

    def state_dict(self) -> dict:
        return {"rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: Mapping) -> None:
        self.rng.bit_generator.state = state["rng"]


def checked_demo_ratio(demo_ratio: float) -> float:
    """`demo_ratio` itself, or ValueError when it is not a share in [0, 1]."""
    if not 0.0 <= demo_ratio <= 1.0:
        raise ValueError(f"demo_ratio must lie in [0, 1], got {demo_ratio}")
    return demo_ratio


def mixed_split(demo_ratio: float, online: int, demo: int, batch_size: int) -> tuple[int, int]:
    """(from online, from demos) of a batch of `batch_size`, given how many transitions each stream
    holds: `demo_ratio` of it from the demonstrations once both streams have data, else all from
    the one that has. `demo_ratio` 1.0 is the demonstration stream only (behaviour cloning): an
    error while it is empty, however much online data there is."""
    if demo_ratio == 1.0:
        if demo == 0:
            raise ValueError("cannot sample: no demonstration or intervention steps yet")
        return 0, batch_size
    if online == 0 and demo == 0:
        raise ValueError("cannot sample from an empty buffer")
    if demo == 0:
        return batch_size, 0
    if online == 0:
        return 0, batch_size
    n_demo = int(round(demo_ratio * batch_size))
    return batch_size - n_demo, n_demo
