"""The one writer of a shard: appends chunks to segments and acknowledges them once durable.

    writer = ShardWriter(root / "shards" / "learner", DurabilityConfig(mode="group", group_commit_ms=50))
    record_id = writer.add(chunk)                  # written; acknowledged at the next group commit
    writer.add(chunk, wait=True)                   # returns once acknowledged (fsynced and indexed)
    writer.acknowledged_transitions                # what survives kill -9 from now on
    writer.close()                                 # commits what is pending

A record is acknowledged when its segment bytes have been fsynced and its index row committed,
in that order; only acknowledged records are visible to readers, so no reader ever sees a record
that a crash could take back. When that happens is the `DurabilityConfig` (config
`buffer.durability`): "chunk" fsyncs every add before it returns; "episode" commits when a chunk
ends an episode, and at least every `group_commit_ms`; "group" commits everything written in each
`group_commit_ms` window. Opening a writer takes the shard's lock and runs crash recovery
(`fleetrl.buffer.recovery`), then starts a new segment.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from fleetrl.buffer.codec import encode_chunk
from fleetrl.buffer.config import DurabilityConfig
from fleetrl.buffer.index import IndexedRecord, ShardIndex
from fleetrl.buffer.recovery import RecoveryReport, recover_shard
from fleetrl.buffer.segment import SegmentAppender
from fleetrl.buffer.shard_layout import INDEX_FILE, SEGMENTS_DIR, WriterLock, segment_files, segment_path

log = logging.getLogger(__name__)


def chunk_layout(chunk: Mapping[str, np.ndarray]) -> dict[str, list]:
    """Per-key [dtype, item shape] of a chunk: what every chunk of one buffer must share."""
    return {key: [np.asarray(v).dtype.str, list(np.shape(v)[1:])] for key, v in sorted(chunk.items())}


CommitListener = Callable[[list[tuple[IndexedRecord, Mapping[str, np.ndarray]]]], None]


class ShardWriter:
    """Owns shard folder `path` for writing (created if needed). ShardBusy if another process has it.

    `durability` None: group commits every 50 ms. `on_commit`, if given, is called from the
    committing thread with the (record, chunk) pairs just acknowledged, so an in-process reader
    can use the arrays without reading them back. `add` may be called from one thread at a time;
    commits may come from a background thread.
    """

    def __init__(
        self,
        path: Path,
        durability: DurabilityConfig | None = None,
        compression: str = "lz4",
        segment_bytes: int = 256 << 20,
        on_commit: CommitListener | None = None,
    ) -> None:
        self.path, self.compression = Path(path), compression
        self.durability = durability or DurabilityConfig()
        self.segment_bytes, self.on_commit = segment_bytes, on_commit
        (self.path / SEGMENTS_DIR).mkdir(parents=True, exist_ok=True)
        self._lock_file = WriterLock(self.path)
        try:
            self.index = ShardIndex(self.path / INDEX_FILE)
        except BaseException:
            self._lock_file.close()
            raise
        try:
            self.recovery: RecoveryReport = recover_shard(self.path, self.index)
        except BaseException:  # release the shard: a later open in this process must not be refused
            self.index.close()
            self._lock_file.close()
            raise
        for name, reason in self.recovery.quarantined.items():
            log.warning("buffer shard %s: segment %s quarantined: %s", self.path, name, reason)
        layout = self.index.get_meta("layout")
        self.layout: dict | None = None if layout is None else json.loads(layout)
        self._next_id = self.index.last_record_id() + 1
        self.acknowledged_transitions = self.index.transitions()
        self.acknowledged_record_id = self._next_id - 1
        self._lock = threading.Lock()  # guards the appender and the pending list
        self._commit_lock = threading.Lock()  # one commit at a time
        self._acked = threading.Condition()
        self._pending: list[tuple[IndexedRecord, Mapping[str, np.ndarray]]] = []
        self._appender: SegmentAppender | None = None  # created on the first add
        self._closed = False
        self._stop = threading.Event()
        self._committer = None
        if self.durability.mode != "chunk":
            self._committer = threading.Thread(target=self._commit_loop, name="buffer-group-commit", daemon=True)
            self._committer.start()

    def _new_segment(self) -> SegmentAppender:
        number = max([*segment_files(self.path), *self.index.segments(), 0]) + 1
        self.index.set_segment_state(number, "active")
        return SegmentAppender(segment_path(self.path, number))

    def _check_layout(self, chunk: Mapping[str, np.ndarray]) -> None:
        layout = chunk_layout(chunk)
        if self.layout is None:
            self.index.set_meta("layout", json.dumps(layout))
            self.layout = layout
        elif layout != self.layout:
            raise ValueError(f"{self.path}: chunk layout {layout} differs from the shard's {self.layout}")

    def add(self, chunk: Mapping[str, np.ndarray], wait: bool = False, timeout_s: float = 30.0) -> int:
        """Append `chunk` (flat chunk arrays); returns its record id. With `wait` (or durability
        "chunk"), returns only once it is acknowledged; TimeoutError past `timeout_s`."""
        if self._closed:
            raise RuntimeError(f"{self.path}: writer is closed")
        self._check_layout(chunk)
        payload = encode_chunk(chunk, self.compression)
        with self._lock:
            if self._appender is None:
                self._appender = self._new_segment()
            elif self._appender.size + len(payload) > self.segment_bytes:
                self._roll_segment()
            record_id, self._next_id = self._next_id, self._next_id + 1
            header = self._appender.append(payload, record_id)
            number = int(self._appender.path.stem)
            record = IndexedRecord.describe(chunk, record_id, number, header.offset, header.length, header.crc)
            self._pending.append((record, chunk))
        mode = self.durability.mode
        if mode == "chunk" or (mode == "episode" and record.episode_ends):
            self.commit()
        elif wait:
            self.wait_acknowledged(record_id, timeout_s)
        return record_id

    def _roll_segment(self) -> None:
        """Seal the full segment and start the next one (called with `_lock` held)."""
        self._seal_locked()
        self._appender = self._new_segment()

    def _seal_locked(self) -> None:
        self._commit_pending_locked()
        if self._appender is not None:
            self._appender.close()
            self.index.set_segment_state(int(self._appender.path.stem), "sealed")
            self._appender = None

    def commit(self) -> None:
        """Make everything added so far durable and acknowledged."""
        with self._lock:
            self._commit_pending_locked()

    def _commit_pending_locked(self) -> None:
        with self._commit_lock:
            pending, self._pending = self._pending, []
            if not pending:
                return
            self._appender.sync()
            self.index.add_records(record for record, _ in pending)
            with self._acked:
                self.acknowledged_transitions += sum(record.n for record, _ in pending)
                self.acknowledged_record_id = pending[-1][0].record_id
                self._acked.notify_all()
        if self.on_commit is not None:
            self.on_commit(pending)

    def wait_acknowledged(self, record_id: int, timeout_s: float = 30.0) -> None:
        """Block until record `record_id` is acknowledged; TimeoutError past `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        with self._acked:
            while self.acknowledged_record_id < record_id:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{self.path}: record {record_id} not acknowledged within {timeout_s} s")
                self._acked.wait(left)

    def _commit_loop(self) -> None:
        period = self.durability.group_commit_ms / 1000
        while not self._stop.wait(period):
            try:
                self.commit()
            except Exception:  # noqa: BLE001 - a failed commit must not kill the thread silently
                log.exception("buffer shard %s: group commit failed", self.path)

    def close(self) -> None:
        """Commit what is pending, seal the segment and release the shard."""
        if self._closed:
            return
        self._stop.set()
        if self._committer is not None:
            self._committer.join(timeout=30)
        with self._lock:
            self._seal_locked()
        self._closed = True
        self.index.close()
        self._lock_file.close()

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
