"""A shard's index: where every record lies, in SQLite (WAL mode), rebuildable from the segments.

Why SQLite: readers in other processes (the learner, a reward-model trainer, `fleetrl buffer info`)
see a consistent snapshot while the writer commits, with no server and no hand-made locking; WAL
mode lets them read while it writes. The index is derived data: the writer commits a record's row
only after the record's segment bytes are fsynced, and on open re-scans any segment bytes past the
last indexed record, so `synchronous=NORMAL` (no fsync per index commit) loses nothing.

Tables:
    meta(key, value)                          format version, shard name
    segments(number, state, reason)           state: "active", "sealed" or "quarantined"
    records(record_id, segment, offset, length, crc, n, sources, episode_ends, committed_at)
        sources: N bytes, the `source` of each transition (who acted), for per-source sampling
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fleetrl.buffer.segment import HEADER_SIZE

FORMAT_VERSION = "1"
BUSY_TIMEOUT_MS = 10_000  # a reader never waits longer than this on the writer's commit

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS segments (
    number INTEGER PRIMARY KEY, state TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS records (
    record_id INTEGER PRIMARY KEY, segment INTEGER NOT NULL, offset INTEGER NOT NULL,
    length INTEGER NOT NULL, crc INTEGER NOT NULL, n INTEGER NOT NULL, sources BLOB NOT NULL,
    episode_ends INTEGER NOT NULL, committed_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS records_by_segment ON records (segment, offset);
"""


@dataclass(frozen=True)
class IndexedRecord:
    """One acknowledged record: `n` transitions at `offset` of segment `segment`."""

    record_id: int
    segment: int
    offset: int
    length: int  # payload bytes (the 24-byte header comes before them)
    crc: int
    n: int
    sources: bytes  # n bytes: who acted in each transition (SOURCE_* of fleetrl.core.transitions)
    episode_ends: int  # transitions in the record that end an episode (terminated or truncated)
    committed_at: float = 0.0

    @classmethod
    def describe(cls, chunk, record_id: int, segment: int, offset: int, length: int, crc: int) -> IndexedRecord:
        """The index row of `chunk` (flat chunk arrays) stored as `record_id` at `offset`."""
        ends = np.asarray(chunk["terminated"]) > 0
        if "truncated" in chunk:
            ends = ends | (np.asarray(chunk["truncated"]) > 0)
        sources = np.asarray(chunk["source"]).astype(np.int8)
        return cls(record_id, segment, offset, length, crc, len(sources), sources.tobytes(), int(ends.sum()))


@dataclass(frozen=True)
class SegmentInfo:
    number: int
    state: str  # "active", "sealed" or "quarantined"
    reason: str
    records: int
    transitions: int
    indexed_end: int  # byte offset just past the last indexed record (0 when none)


class ShardIndex:
    """Open (creating it unless `readonly`) the index at `path`. Thread-safe for one owner thread
    at a time; the writer serialises its commits, readers only read."""

    def __init__(self, path: Path, readonly: bool = False) -> None:
        self.path, self.readonly = path, readonly
        if readonly:
            if not path.exists():
                raise FileNotFoundError(f"{path}: no buffer index here")
            self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000,
                                       check_same_thread=False)
        else:
            self._db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            # Tables and format row in one transaction: a writer killed while creating a shard
            # leaves either no index tables or a complete, empty index.
            self._db.executescript(
                f"BEGIN; {_SCHEMA} INSERT OR IGNORE INTO meta VALUES ('format', '{FORMAT_VERSION}'); COMMIT;"
            )
        try:
            found = self.get_meta("format")
        except sqlite3.OperationalError:  # readonly, and its first writer has not created it yet
            self._db.close()
            raise FileNotFoundError(f"{path}: no buffer index here yet") from None
        if found != FORMAT_VERSION:
            self._db.close()
            raise ValueError(f"{path}: buffer format {found!r}, this fleetrl reads {FORMAT_VERSION!r}")

    def close(self) -> None:
        self._db.close()

    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_meta(self, key: str, value: str) -> None:
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def set_segment_state(self, number: int, state: str, reason: str = "") -> None:
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO segments VALUES (?, ?, ?)", (number, state, reason))

    def add_records(self, records: Iterable[IndexedRecord]) -> None:
        """Commit `records` in one transaction (the caller has made their bytes durable first)."""
        now = time.time()
        rows = [
            (r.record_id, r.segment, r.offset, r.length, r.crc, r.n, r.sources, r.episode_ends, r.committed_at or now)
            for r in records
        ]
        with self._db:
            self._db.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def records_after(self, record_id: int, include_quarantined: bool = False) -> list[IndexedRecord]:
        """Records with an id above `record_id`, in id order (those of quarantined segments left out)."""
        query = "SELECT r.* FROM records r JOIN segments s ON s.number = r.segment WHERE r.record_id > ?"
        if not include_quarantined:
            query += " AND s.state != 'quarantined'"
        rows = self._db.execute(query + " ORDER BY r.record_id", (record_id,)).fetchall()
        return [IndexedRecord(*row) for row in rows]

    def segments(self) -> dict[int, SegmentInfo]:
        rows = self._db.execute(
            "SELECT s.number, s.state, s.reason, COUNT(r.record_id), COALESCE(SUM(r.n), 0),"
            f" COALESCE(MAX(r.offset + {HEADER_SIZE} + r.length), 0)"
            " FROM segments s LEFT JOIN records r ON r.segment = s.number GROUP BY s.number ORDER BY s.number"
        ).fetchall()
        return {row[0]: SegmentInfo(*row) for row in rows}

    def transitions(self) -> int:
        """Acknowledged transitions outside quarantined segments."""
        row = self._db.execute(
            "SELECT COALESCE(SUM(r.n), 0) FROM records r JOIN segments s ON s.number = r.segment"
            " WHERE s.state != 'quarantined'"
        ).fetchone()
        return int(row[0])

    def last_record_id(self) -> int:
        """The highest record id ever indexed (quarantined ones included), -1 when none."""
        row = self._db.execute("SELECT MAX(record_id) FROM records").fetchone()
        return -1 if row[0] is None else int(row[0])
