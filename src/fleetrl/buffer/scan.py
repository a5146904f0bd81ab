"""Reading a whole buffer in order, for tools (info, export, merge) rather than for sampling.

    for shard, record, chunk in iter_chunks(path):     # every acknowledged chunk, shard by shard
        ...
    for episode in iter_episodes(path):                # flat chunk arrays of one episode each
        ...
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from fleetrl.buffer.index import IndexedRecord
from fleetrl.buffer.segment import CorruptRecord
from fleetrl.buffer.shard_layout import find_shards
from fleetrl.buffer.shard_reader import ShardReader
from fleetrl.core.transitions import concat_chunks

log = logging.getLogger(__name__)


def iter_chunks(path: Path, skip_corrupt: bool = True) -> Iterator[tuple[str, IndexedRecord, dict[str, np.ndarray]]]:
    """(shard name, record, chunk) of every acknowledged record of the buffer at `path`, in record
    order within each shard. A damaged record is logged (naming its segment) and skipped, or raised
    as CorruptRecord when `skip_corrupt` is False."""
    for shard in find_shards(Path(path)):
        with ShardReader(shard) as reader:
            for record in reader.refresh():
                try:
                    chunk = reader.read(record)
                except CorruptRecord as err:
                    if not skip_corrupt:
                        raise
                    log.warning("skipping a damaged record: %s", err)
                    continue
                yield shard.name, record, chunk


def iter_episodes(path: Path) -> Iterator[dict[str, np.ndarray]]:
    """Each episode of the buffer at `path` as one flat chunk.

    Steps are grouped by shard and by the `robot` field (one robot's steps are stored in order) and
    split after every terminated or truncated step. Episodes come shard by shard, chunk by chunk,
    and within one chunk robot by robot. Steps left after the last episode end of a robot (a run
    stopped mid-episode) come last, as an episode that has not ended. Two things this cannot tell
    apart: an unfinished episode followed by the same robot's next one in the same shard (after a
    merge or an import) reads as one episode, and so do the steps either side of a damaged record.
    """
    for shard in find_shards(Path(path)):
        open_steps: dict[int, list[dict[str, np.ndarray]]] = {}
        for _, _, chunk in iter_chunks(shard):
            ends = (chunk["terminated"] > 0) | (chunk["truncated"] > 0 if "truncated" in chunk else False)
            for robot in np.unique(chunk["robot"]):
                rows = np.flatnonzero(chunk["robot"] == robot)
                start = 0
                for stop in np.flatnonzero(ends[rows]) + 1:
                    part = {key: value[rows[start:stop]] for key, value in chunk.items()}
                    yield concat_chunks([*open_steps.pop(int(robot), []), part])
                    start = stop
                if start < len(rows):
                    open_steps.setdefault(int(robot), []).append({k: v[rows[start:]] for k, v in chunk.items()})
        for parts in open_steps.values():
            yield concat_chunks(parts)
