"""Buffer shards written where the data is produced (`buffer.writer: env`), read by the learner.

    links = ShardWritingLinks(links, ShardWriter(root / "shards" / shard_name(label)))  # env worker
    server = ShardServer(root)                               # a Ray actor on each robot node
    reader = RemoteShardReader(server_handle, "sim_panda-0", timeout_s=60)   # in the learner

Each env worker writes its own shard on its node's disk (one writer per shard); chunks never
travel to the learner. A learner on the same node reads those shards from disk; for a shard on
another node, `RemoteShardReader` asks that node's `ShardServer` for index rows and for each
record's checked, still-compressed bytes, and decodes them itself. Every call has a deadline.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import ray

from fleetrl.buffer.codec import CodecError, decode_chunk
from fleetrl.buffer.index import IndexedRecord
from fleetrl.buffer.segment import CorruptRecord
from fleetrl.buffer.shard_layout import SHARDS_DIR
from fleetrl.buffer.shard_reader import ShardReader
from fleetrl.buffer.shard_writer import ShardWriter


def shard_name(worker_label: str) -> str:
    """A folder name for an env worker's shard ("sim_panda#0" -> "sim_panda-0")."""
    return re.sub(r"[^A-Za-z0-9_.-]", "-", worker_label)


class ShardWritingLinks:
    """Env links whose chunks go to this worker's own shard instead of to the learner."""

    def __init__(self, links: Any, writer: ShardWriter) -> None:
        self._links, self.writer = links, writer

    def send_chunk(self, chunk: dict) -> None:
        self.writer.add(chunk)

    def drain(self) -> None:
        self.writer.commit()  # taken = acknowledged: fsynced and indexed

    def __getattr__(self, name: str) -> Any:  # report, fetch_weights, remote_act: unchanged
        return getattr(self._links, name)


class ShardServer:
    """Serves the shards under one node's buffer folder to a learner elsewhere (read-only)."""

    def __init__(self, root: str) -> None:
        self.root = Path(root)
        self._readers: dict[str, ShardReader] = {}

    def _reader(self, shard: str) -> ShardReader:
        if shard not in self._readers:
            self._readers[shard] = ShardReader(self.root / SHARDS_DIR / shard)
        return self._readers[shard]

    def records_after(self, shard: str, record_id: int) -> list[tuple]:
        """Index rows of `shard` with an id above `record_id`, as plain tuples."""
        return [tuple(vars(r).values()) for r in self._reader(shard).index.records_after(record_id)]

    def read_payload(self, shard: str, row: tuple) -> tuple[bool, bytes | str]:
        """(True, the record's checked bytes) or (False, why it is damaged)."""
        try:
            return True, self._reader(shard).read_payload(IndexedRecord(*row))
        except CorruptRecord as err:
            return False, str(err)


class RemoteShardReader:
    """A `RecordSource` over a shard that `server` (a ShardServer actor) holds on another node."""

    def __init__(self, server: Any, shard: str, timeout_s: float) -> None:
        self.server, self.shard, self.timeout_s = server, shard, timeout_s
        self._last_id = -1

    def refresh(self) -> list[IndexedRecord]:
        rows = ray.get(self.server.records_after.remote(self.shard, self._last_id), timeout=self.timeout_s)
        records = [IndexedRecord(*row) for row in rows]
        if records:
            self._last_id = records[-1].record_id
        return records

    def read(self, record: IndexedRecord) -> dict:
        row = tuple(vars(record).values())
        ok, data = ray.get(self.server.read_payload.remote(self.shard, row), timeout=self.timeout_s)
        where = Path(f"{self.shard}@remote") / f"segment {record.segment}"
        if not ok:
            raise CorruptRecord(where, record.offset, str(data))
        try:
            return decode_chunk(data)
        except CodecError as err:
            raise CorruptRecord(where, record.offset, str(err)) from None

    def close(self) -> None:
        pass
