"""Reading a shard from any process, while its writer (maybe in another process) keeps writing.

    reader = ShardReader(root / "shards" / "learner")
    for record in reader.refresh():                # records acknowledged since the last refresh
        chunk = reader.read(record)                # flat chunk arrays; CorruptRecord if damaged
    reader.close()

A reader never changes a shard. When a record fails its checksums (or its segment file is gone),
`read` raises CorruptRecord naming the segment; the caller stops sampling that segment, and the
writer or `fleetrl buffer verify --quarantine` moves it aside.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from fleetrl.buffer.codec import CodecError, decode_chunk
from fleetrl.buffer.index import IndexedRecord, ShardIndex
from fleetrl.buffer.segment import CorruptRecord, read_record
from fleetrl.buffer.shard_layout import INDEX_FILE, segment_path


class ShardReader:
    """Read-only view of shard folder `path`. `read` is thread-safe (positioned reads)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.name = self.path.name
        self.index = ShardIndex(self.path / INDEX_FILE, readonly=True)
        self._last_id = -1
        self._fds: dict[int, int] = {}
        self._fd_lock = threading.Lock()

    def refresh(self) -> list[IndexedRecord]:
        """Records acknowledged since the previous call (all of them the first time), in id order."""
        records = self.index.records_after(self._last_id)
        if records:
            self._last_id = records[-1].record_id
        return records

    def transitions(self) -> int:
        """Acknowledged transitions outside quarantined segments."""
        return self.index.transitions()

    def _fd(self, segment: int) -> int:
        with self._fd_lock:
            fd = self._fds.get(segment)
            if fd is None:
                path = segment_path(self.path, segment)
                try:
                    fd = os.open(path, os.O_RDONLY)
                except FileNotFoundError:
                    raise CorruptRecord(path, 0, "segment file missing") from None
                self._fds[segment] = fd
            return fd

    def read_payload(self, record: IndexedRecord) -> bytes:
        """The checked, still encoded bytes of `record` (CorruptRecord if damaged)."""
        path = segment_path(self.path, record.segment)
        return read_record(self._fd(record.segment), path, record.offset, record.length, record.crc)

    def read(self, record: IndexedRecord) -> dict[str, np.ndarray]:
        """The chunk stored as `record` (read-only arrays). CorruptRecord if it is damaged."""
        payload = self.read_payload(record)
        try:
            return decode_chunk(payload)
        except CodecError as err:
            raise CorruptRecord(segment_path(self.path, record.segment), record.offset, str(err)) from None

    def close(self) -> None:
        with self._fd_lock:
            for fd in self._fds.values():
                os.close(fd)
            self._fds.clear()
        self.index.close()

    def __enter__(self) -> ShardReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
