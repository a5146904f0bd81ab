"""Where a shard keeps its files, and how a damaged segment is put aside.

    <buffer root>/shards/<shard name>/
        index.sqlite             the index (with SQLite's -wal and -shm files beside it)
        segments/00000001.seg    append-only record files, numbered in write order
        quarantine/              damaged segments and torn tails, moved here, never deleted
        writer.lock              held (flock) by the one process writing this shard

A buffer root holds one shard per writer: one per learner on one machine, one per node in a
multi-node run. A shard folder alone (with an index.sqlite) is also accepted wherever a buffer is.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from fleetrl.buffer.index import ShardIndex
from fleetrl.buffer.segment import SEGMENT_SUFFIX, segment_name
from fleetrl.core.files import fsync_dir

INDEX_FILE = "index.sqlite"
SEGMENTS_DIR = "segments"
QUARANTINE_DIR = "quarantine"
LOCK_FILE = "writer.lock"
SHARDS_DIR = "shards"

T = TypeVar("T")


SHARD_BUSY_WAIT_S = 30.0  # a worker being replaced may take this long to release its shard


class ShardBusy(RuntimeError):
    """Another process holds a shard's writer lock."""


def open_when_free(open_shard: Callable[[], T], wait_s: float = SHARD_BUSY_WAIT_S) -> T:
    """`open_shard()`, tried again every 0.5 s while another process still holds the shard (a
    replaced worker's process releases it when it ends); the last ShardBusy past `wait_s`."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return open_shard()
        except ShardBusy:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def segment_path(shard: Path, number: int) -> Path:
    return shard / SEGMENTS_DIR / segment_name(number)


def segment_files(shard: Path) -> dict[int, Path]:
    """Segment files on disk, by number."""
    folder = shard / SEGMENTS_DIR
    if not folder.is_dir():
        return {}
    return {int(p.name[: -len(SEGMENT_SUFFIX)]): p for p in folder.glob(f"*{SEGMENT_SUFFIX}")}


def is_shard(path: Path) -> bool:
    return (path / INDEX_FILE).is_file()


def find_shards(path: Path) -> list[Path]:
    """The shards of a buffer: `path` itself if it is a shard, else every shard under path/shards.
    FileNotFoundError naming `path` when there is none."""
    path = Path(path)
    if is_shard(path):
        return [path]
    shards = sorted(p for p in (path / SHARDS_DIR).glob("*") if is_shard(p)) if (path / SHARDS_DIR).is_dir() else []
    if not shards:
        raise FileNotFoundError(f"{path}: not a fleetrl buffer (no {SHARDS_DIR}/<name>/{INDEX_FILE})")
    return shards


def quarantine_segment(shard: Path, index: ShardIndex, number: int, reason: str) -> Path | None:
    """Mark segment `number` quarantined in the index and move its file (if any) into quarantine/.

    Returns the file's new path (None when it was missing). The index is updated first: a crash
    between the two steps leaves a quarantined segment whose file is still in segments/, which is
    harmless (it is never read) and is moved by the next call.
    """
    index.set_segment_state(number, "quarantined", reason)
    source = segment_path(shard, number)
    if not source.exists():
        return None
    folder = shard / QUARANTINE_DIR
    folder.mkdir(exist_ok=True)
    target = folder / source.name
    os.replace(source, target)
    fsync_dir(folder)
    fsync_dir(source.parent)
    return target


class WriterLock:
    """An exclusive flock on a shard's writer.lock; released on close or when the process dies."""

    def __init__(self, shard: Path) -> None:
        self.path = shard / LOCK_FILE
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(self._fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(self._fd)
            raise ShardBusy(f"{shard}: shard is open for writing by another process (pid {holder})") from None
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, str(os.getpid()).encode(), 0)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
