"""The storage a persistent replay samples from: the acknowledged records of every shard it reads.

    storage = ShardStorage(demo_sources=(SOURCE_DEMO,), root=buffer_root)
    own = storage.open_shard(writer.path)            # source 0: this process's shard, read back
    storage.open_buffer(earlier_run_buffer)          # read-only shards of another buffer
    storage.add_source(remote_reader)                # any `RecordSource` (a shard on another node)
    storage.refresh(skip=own)                        # records other writers acknowledged since
    view = storage.view()                            # what a draw may pick (see `Catalog.view`)
    chunk = storage.read(catalog_index)              # decoded rows; None if the record is damaged

It is the Storage part of the replay, as `ArrayStorage` is the in-memory one's: it holds no decoded
records of its own except demonstrations given to `hold` (they have a file elsewhere and are
never written). Keys of records are (source index, record id). Listeners hear of records added
(`on_added`) and of records left out of sampling because their segment is damaged (`on_damaged`),
so that memory holding them (the replay's hot store) follows.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from fleetrl.buffer.catalog import Catalog, CatalogView
from fleetrl.buffer.index import IndexedRecord
from fleetrl.buffer.segment import CorruptRecord
from fleetrl.buffer.shard_layout import SHARDS_DIR, find_shards
from fleetrl.buffer.shard_reader import ShardReader
from fleetrl.core.transitions import SOURCE_DEMO, chunk_len

log = logging.getLogger(__name__)

Chunk = Mapping[str, np.ndarray]


class RecordSource(Protocol):
    """Where records come from: a `ShardReader`, or a reader of a shard on another machine."""

    def refresh(self) -> list[IndexedRecord]: ...

    def read(self, record: IndexedRecord) -> Chunk: ...

    def close(self) -> None: ...


def _name(source: RecordSource) -> str:
    return str(getattr(source, "path", None) or getattr(source, "shard", None) or source)


class ShardStorage:
    """Records of the shards it reads, in a `Catalog` split into online and demonstration streams.

    `demo_sources`: the `source` values whose rows form the demonstration stream. `recent_window`:
    draws see online transitions of the newest this many only. `root`: a buffer root whose shards
    (written by other processes, new ones too) `refresh` picks up.
    """

    def __init__(
        self, demo_sources: Collection[int] = (SOURCE_DEMO,), recent_window: int | None = None, root: Path | None = None
    ) -> None:
        self.catalog = Catalog(demo_sources)
        self.recent_window, self.root = recent_window, root
        self.pinned: list[int] = []  # catalog indices of the records held in memory (demonstrations)
        self.transitions = 0  # acknowledged transitions seen in every shard read
        self.on_added: list[Callable[[], None]] = []
        self.on_damaged: list[Callable[[list[Hashable]], None]] = []
        self._sources: list[RecordSource | None] = []  # by source index; None: records held in memory
        self._records: dict[tuple[int, int], IndexedRecord] = {}
        self._held: dict[tuple[int, int], Chunk] = {}
        self._held_source: int | None = None
        self._bad_segments: set[tuple[int, int]] = set()
        self._lock = threading.Lock()  # guards the source list and the held records

    # ---- sources -----------------------------------------------------------------------------

    def add_source(self, source: RecordSource) -> int:
        """Sample the records of `source` too (now and, on refresh, as more are acknowledged);
        returns its source index."""
        self._sources.append(source)
        index = len(self._sources) - 1
        self.add_records(index, source.refresh())
        return index

    def open_shard(self, path: Path) -> int:
        """Read shard folder `path`; returns its source index."""
        return self.add_source(ShardReader(path))

    def open_buffer(self, root: Path) -> None:
        """Read every shard of buffer root `root` (FileNotFoundError if it is not a buffer)."""
        for shard_path in find_shards(Path(root)):
            self.open_shard(shard_path)

    def scan_root(self) -> None:
        """Read the shards under the root that no reader has yet (other processes write them)."""
        if self.root is None or not (self.root / SHARDS_DIR).is_dir():
            return
        known = {getattr(source, "path", None) for source in self._sources if source is not None}
        for shard_path in find_shards(self.root):
            if shard_path not in known:
                self.open_shard(shard_path)

    def add_records(self, source: int, records: Sequence[IndexedRecord]) -> list[tuple[int, int]]:
        """Make acknowledged `records` of source `source` sampleable; returns their keys."""
        keys = []
        for record in records:
            key = (source, record.record_id)
            self._records[key] = record
            self.catalog.add(key, record.sources)
            self.transitions += record.n
            keys.append(key)
        if records:
            for listener in self.on_added:
                listener()
        return keys

    def refresh(self, skip: int | None = None) -> None:
        """Take in records acknowledged since the last refresh by every source but `skip` (the
        one whose writer reports its records itself), and shards new under the root."""
        with self._lock:
            self.scan_root()
            for index, source in enumerate(self._sources):
                if source is None or index == skip:
                    continue
                try:
                    records = source.refresh()
                except Exception as err:  # noqa: BLE001 - a shard out of reach: sample the rest
                    log.warning("buffer: could not refresh %s (%s); trying again later", _name(source), err)
                    continue
                self.add_records(index, records)

    def hold(self, chunk: Chunk) -> tuple[int, int]:
        """Keep `chunk` in memory as a record of its own (never written); returns its key."""
        n = chunk_len(chunk)
        with self._lock:
            if self._held_source is None:
                self._sources.append(None)
                self._held_source = len(self._sources) - 1
            key = (self._held_source, len(self._held))
            self._held[key] = {k: np.asarray(v) for k, v in chunk.items()}
            sources = np.asarray(chunk.get("source", np.full(n, SOURCE_DEMO)), dtype=np.int8)
            self.pinned.append(self.catalog.add(key, sources.tobytes()))
        return key

    # ---- reading -----------------------------------------------------------------------------

    def view(self, pool: np.ndarray | None = None) -> CatalogView:
        """What a draw may pick now, within `pool` (catalog indices) when given."""
        return self.catalog.view(pool, self.recent_window)

    def totals(self) -> tuple[int, int]:
        """(online, demo) transitions that can be sampled (the recent window aside)."""
        return self.catalog.totals()

    def holds(self, key: Hashable) -> bool:
        """True for a record held in memory (see `hold`)."""
        return key in self._held

    def read(self, index: int) -> Chunk | None:
        """Record `index` of the catalog, decoded; None (and it leaves sampling) if it is damaged
        or its source is out of reach."""
        key = self.catalog.keys[index]
        held = self._held.get(key)
        if held is not None:
            return held
        record, source = self._records[key], self._sources[key[0]]
        try:
            return source.read(record)
        except CorruptRecord as err:
            self._segment_damaged(key[0], record, err)
            return None
        except Exception as err:  # noqa: BLE001 - a remote shard out of reach: draw other records
            log.warning("buffer: could not read a record of %s (%s)", _name(source), err)
            return None

    def _segment_damaged(self, source: int, record: IndexedRecord, err: CorruptRecord) -> None:
        segment = (source, record.segment)
        if segment in self._bad_segments:
            return
        self._bad_segments.add(segment)
        keys = [k for k, r in list(self._records.items()) if k[0] == source and r.segment == record.segment]
        removed = self.catalog.disable([p for p in map(self.catalog.position, keys) if p is not None])
        for listener in self.on_damaged:
            listener(keys)
        log.warning(
            "buffer: %s is damaged (%s); its %d transitions are left out of sampling. "
            "Run `fleetrl buffer verify --quarantine` on the buffer to move it aside.",
            err.segment, err.reason, removed,
        )

    def close(self) -> None:
        """Close every reader (held records stay readable)."""
        for source in self._sources:
            if source is not None:
                source.close()
