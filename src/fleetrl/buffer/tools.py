"""Whole-buffer tools behind `fleetrl buffer`: describe, verify, merge and export a buffer.

    buffer_info(root)                        # counts per shard, from the indexes alone (read-only)
    verify_buffer(root, quarantine=True)     # every record's checksums; damaged segments moved aside
    merge_buffers(out_root, [a, b])          # a's and b's chunks into a new shard out_root/shards/merged-<k>
    export_npz(root, "all.npz")              # one .npz that `fleetrl.buffer.demos.load_demos` reads

Each returns a JSON-able dict. A path that is not a buffer raises FileNotFoundError naming it
(from `find_shards`). Only `verify_buffer(quarantine=True)` and `merge_buffers` (into its own new
shard) change anything; the others may run while a writer is writing, and see what it has
acknowledged so far.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from fleetrl.buffer.demos import save_demos
from fleetrl.buffer.index import ShardIndex
from fleetrl.buffer.recovery import VerifyReport, verify_shard
from fleetrl.buffer.scan import iter_chunks
from fleetrl.buffer.segment import segment_name
from fleetrl.buffer.shard_layout import (
    INDEX_FILE,
    SHARDS_DIR,
    ShardBusy,
    WriterLock,
    find_shards,
    is_shard,
    segment_files,
)
from fleetrl.buffer.shard_writer import ShardWriter
from fleetrl.core.transitions import SOURCE_DEMO, SOURCE_INTERVENTION, SOURCE_ONLINE, concat_chunks

SOURCE_NAMES = {SOURCE_ONLINE: "online", SOURCE_DEMO: "demo", SOURCE_INTERVENTION: "intervention"}
MERGED_PREFIX = "merged-"


def _bytes_on_disk(folder: Path) -> int:
    """Bytes of every file under `folder` (index, its WAL, segments, quarantine)."""
    total = 0
    for path in folder.rglob("*"):
        try:
            if path.is_file():
                total += path.stat().st_size
        except FileNotFoundError:  # a writer's -wal file can vanish as it closes
            continue
    return total


def _source_counts(sources: bytes) -> dict[str, int]:
    """Transitions per source name; values fleetrl does not define are counted under their number."""
    values, counts = np.unique(np.frombuffer(sources, dtype=np.int8), return_counts=True)
    out = {name: 0 for name in SOURCE_NAMES.values()}
    for value, count in zip(values.tolist(), counts.tolist()):
        out[SOURCE_NAMES.get(value, str(value))] = count
    return out


def shard_info(shard: Path) -> dict:
    """What the index of `shard` says about it (see `buffer_info`); reads no segment bytes."""
    index = ShardIndex(shard / INDEX_FILE, readonly=True)
    try:
        # One snapshot per query; counts come from the record list so they agree with each other.
        records = index.records_after(-1)
        segments = index.segments()
        layout = index.get_meta("layout")
    finally:
        index.close()
    return {
        "name": shard.name,
        "transitions": sum(r.n for r in records),
        "records": len(records),
        "segments": len(segment_files(shard)),
        "bytes_on_disk": _bytes_on_disk(shard),
        "sources": _source_counts(b"".join(r.sources for r in records)),
        "episodes": sum(r.episode_ends for r in records),
        "quarantined": {segment_name(n): s.reason for n, s in segments.items() if s.state == "quarantined"},
        "layout": None if layout is None else json.loads(layout),
    }


def buffer_info(path: Path) -> dict:
    """Acknowledged contents of the buffer at `path`, from its shards' indexes.

    {"path", "transitions", "records", "bytes_on_disk", "shards": [{"name", "transitions",
    "records", "segments" (segment files in segments/), "bytes_on_disk", "sources": {"online",
    "demo", "intervention"} (transitions each), "episodes" (transitions ending one), "quarantined":
    {segment file: reason}, "layout": {key: [dtype, item shape]} or None}]}. Counts leave out
    quarantined segments. Read-only, safe while a writer writes.
    """
    shards = [shard_info(shard) for shard in find_shards(Path(path))]
    return {
        "path": str(path),
        "transitions": sum(s["transitions"] for s in shards),
        "records": sum(s["records"] for s in shards),
        "bytes_on_disk": sum(s["bytes_on_disk"] for s in shards),
        "shards": shards,
    }


def _report_dict(report: VerifyReport, quarantined_now: dict[str, str]) -> dict:
    return {
        "name": report.shard,
        "ok": report.ok,
        "records_checked": report.records_checked,
        "transitions_ok": report.transitions_ok,
        "corrupt": dict(report.corrupt),
        "quarantined": dict(report.quarantined),
        "quarantined_now": quarantined_now,
    }


def _verify_one(shard: Path, quarantine: bool) -> dict:
    if not quarantine:
        index = ShardIndex(shard / INDEX_FILE, readonly=True)
        try:
            return _report_dict(verify_shard(shard, index), {})
        finally:
            index.close()
    try:
        lock = WriterLock(shard)
    except ShardBusy as err:
        raise ShardBusy(f"{err}: it is being written; stop that process first, then quarantine") from None
    try:
        index = ShardIndex(shard / INDEX_FILE)
        try:
            report = verify_shard(shard, index, quarantine=True)
        finally:
            index.close()
    finally:
        lock.close()
    return _report_dict(report, dict(report.corrupt))


def verify_buffer(path: Path, quarantine: bool = False) -> dict:
    """Read back every acknowledged record of every shard and check its checksums and encoding.

    {"path", "ok", "shards": [{"name", "ok", "records_checked", "transitions_ok", "corrupt":
    {segment file: first problem}, "quarantined": {segment file: reason} (quarantined before this
    run), "quarantined_now": {segment file: reason}}]}. "ok" is False when anything was corrupt,
    even if this run quarantined it.

    With `quarantine`, each shard's writer lock is taken first (ShardBusy, saying so, when a writer
    holds it) and damaged segments are moved into the shard's quarantine/ folder, after which
    readers and writers no longer see their records.
    """
    shards = [_verify_one(shard, quarantine) for shard in find_shards(Path(path))]
    return {"path": str(path), "ok": all(s["ok"] for s in shards), "shards": shards}


@dataclass
class _Tally:
    """Chunks read from one source buffer, and the acknowledged ones that could not be read."""

    path: str
    records: int = 0
    transitions: int = 0
    skipped_records: int = 0
    skipped_transitions: int = 0


def _read_buffer(path: Path, tally: _Tally) -> Iterator[dict[str, np.ndarray]]:
    """Every readable acknowledged chunk of the buffer at `path`, shard by shard. Damaged records
    are skipped (`iter_chunks` logs each) and counted in `tally` against the records acknowledged
    when each shard was opened; records acknowledged later are copied but never counted missing."""
    for shard in find_shards(path):
        index = ShardIndex(shard / INDEX_FILE, readonly=True)
        try:
            missing = {r.record_id: r.n for r in index.records_after(-1)}
        finally:
            index.close()
        for _, record, chunk in iter_chunks(shard):
            missing.pop(record.record_id, None)
            tally.records += 1
            tally.transitions += record.n
            yield chunk
        tally.skipped_records += len(missing)
        tally.skipped_transitions += sum(missing.values())


def _layouts(path: Path) -> dict[str, dict]:
    """The chunk layout of each shard of a buffer that has one (shards never written have none)."""
    layouts = {}
    for shard in find_shards(path):
        index = ShardIndex(shard / INDEX_FILE, readonly=True)
        try:
            layout = index.get_meta("layout")
        finally:
            index.close()
        if layout is not None:
            layouts[str(shard)] = json.loads(layout)
    return layouts


def _check_merge(out: Path, sources: list[Path]) -> None:
    """ValueError unless `sources` can be merged into a new shard of `out` (see `merge_buffers`)."""
    if not sources:
        raise ValueError("merge needs at least one source buffer")
    if is_shard(out):
        raise ValueError(f"{out}: is a shard folder; give a buffer root (its shards go in {out}/{SHARDS_DIR}/)")
    out_shards = (out / SHARDS_DIR).resolve()
    layouts: dict[str, dict] = {}
    for source in sources:
        for shard in find_shards(source):
            if shard.resolve().parent == out_shards:
                raise ValueError(f"{source}: is (part of) the output buffer {out}; merge into another folder")
        layouts.update(_layouts(source))
    if (out / SHARDS_DIR).is_dir() and any(is_shard(p) for p in (out / SHARDS_DIR).iterdir()):
        layouts.update(_layouts(out))  # the merged shard must be sampled alongside these
    if layouts:
        first, expected = next(iter(layouts.items()))
        for shard, layout in layouts.items():
            if layout != expected:
                raise ValueError(f"{shard}: chunk layout {layout} differs from {first}'s {expected}")


def _claim_shard(out: Path) -> Path:
    """Create and return out/shards/merged-<k> for the first k (0, 1, ...) not taken."""
    (out / SHARDS_DIR).mkdir(parents=True, exist_ok=True)
    k = 0
    while True:
        shard = out / SHARDS_DIR / f"{MERGED_PREFIX}{k}"
        try:
            shard.mkdir()  # atomic: two merges into one root never share a shard
            return shard
        except FileExistsError:
            k += 1


def merge_buffers(out: Path, sources: list[Path]) -> dict:
    """Copy every acknowledged chunk of each buffer in `sources` into a new shard of buffer root
    `out` (created if needed), named merged-<k> for the first free k; sources are only read.

    ValueError, before anything is written, when the sources' chunk layouts (or those of shards
    already in `out`) differ, or a source is part of `out`. The new shard is written with group
    commits and closed, so everything copied is acknowledged on return. Damaged source records are
    skipped and counted; if copying fails otherwise midway, the new shard keeps what it holds.
    Returns {"out", "shard", "records", "transitions", "sources": [{"path", "records",
    "transitions", "skipped_records", "skipped_transitions"}]}.
    """
    out, sources = Path(out), [Path(s) for s in sources]
    _check_merge(out, sources)
    shard = _claim_shard(out)
    tallies = []
    with ShardWriter(shard) as writer:  # group commits
        for source in sources:
            tally = _Tally(str(source))
            tallies.append(tally)
            for chunk in _read_buffer(source, tally):
                try:
                    writer.add(chunk)
                except ValueError as err:  # a layout the check above could not see (written meanwhile)
                    raise ValueError(f"{source}: {err}") from None
    return {
        "out": str(out),
        "shard": shard.name,
        "records": sum(t.records for t in tallies),
        "transitions": sum(t.transitions for t in tallies),
        "sources": [asdict(t) for t in tallies],
    }


def export_npz(path: Path, out_file: Path) -> dict:
    """Write every readable acknowledged transition of the buffer at `path` to `out_file`, one
    chunk in the demonstration-file format (`fleetrl.buffer.demos.save_demos`, atomic write).

    The whole buffer is concatenated in memory: meant for buffers that fit in RAM. ValueError when
    there is nothing to export or the shards' keys differ. Returns {"path", "out", "records",
    "transitions", "skipped_records", "skipped_transitions"}; the same counts go into the file's
    metadata, with "exported_from".
    """
    tally = _Tally(str(path))
    chunks = list(_read_buffer(Path(path), tally))
    if not chunks:
        raise ValueError(f"{path}: no readable transitions to export")
    try:
        chunk = concat_chunks(chunks)
    except ValueError as err:
        raise ValueError(f"{path}: its chunks cannot be concatenated into one file: {err}") from None
    counts = {k: v for k, v in asdict(tally).items() if k != "path"}
    save_demos(out_file, chunk, {"exported_from": str(path), **counts})
    return {"path": str(path), "out": str(out_file), **counts}
