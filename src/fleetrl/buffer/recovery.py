"""Bringing a shard back to a consistent state after a crash, and checking every byte of it.

`recover_shard` runs whenever a writer opens a shard (under its lock). Its cost is bounded by the
index size plus the segment bytes written after the last index commit, never by the buffer size:

- a segment file that is missing, or shorter than its indexed records, is quarantined;
- bytes past the last indexed record are scanned: complete, checksum-valid records are indexed
  (they were written, maybe acknowledged, before the crash) and a torn tail is moved into
  quarantine/ and cut off, so no partial record can ever be served;
- segment files the index has never heard of (created just before a crash) are scanned the same way.

`verify_shard` reads every indexed record and checks its checksums (what `fleetrl buffer verify`
runs); it can quarantine the damaged segments it finds.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from fleetrl.buffer.codec import CodecError, decode_chunk
from fleetrl.buffer.index import IndexedRecord, ShardIndex
from fleetrl.buffer.segment import HEADER_SIZE, CorruptRecord, read_record, scan_records
from fleetrl.buffer.shard_layout import QUARANTINE_DIR, quarantine_segment, segment_files, segment_path
from fleetrl.core.files import fsync_dir


@dataclass
class RecoveryReport:
    """What opening a shard found and did."""

    shard: str
    recovered_records: int = 0  # complete records found past the index and indexed
    torn_bytes: int = 0  # bytes of torn tails moved into quarantine/
    quarantined: dict[str, str] = field(default_factory=dict)  # segment file name -> reason
    seconds: float = 0.0


@dataclass
class VerifyReport:
    """Every indexed record read back and checked."""

    shard: str
    records_checked: int = 0
    transitions_ok: int = 0
    corrupt: dict[str, str] = field(default_factory=dict)  # segment file name -> first problem found
    quarantined: dict[str, str] = field(default_factory=dict)  # segments already quarantined before

    @property
    def ok(self) -> bool:
        return not self.corrupt


def _record_from_payload(header, segment: int, payload: bytes) -> IndexedRecord:
    chunk = decode_chunk(payload)
    return IndexedRecord.describe(chunk, header.record_id, segment, header.offset, header.length, header.crc)


def _cut_torn_tail(path: Path, valid_end: int, report: RecoveryReport) -> None:
    """Move bytes past `valid_end` into quarantine/<segment>.tail-<offset> and truncate the segment."""
    size = path.stat().st_size
    if size <= valid_end:
        return
    folder = path.parent.parent / QUARANTINE_DIR
    folder.mkdir(exist_ok=True)
    with open(path, "rb") as source, open(folder / f"{path.name}.tail-{valid_end}", "wb") as tail:
        source.seek(valid_end)
        tail.write(source.read())
        tail.flush()
        os.fsync(tail.fileno())
    fsync_dir(folder)
    with open(path, "r+b") as handle:
        handle.truncate(valid_end)
        os.fsync(handle.fileno())
    report.torn_bytes += size - valid_end


def _index_tail(path: Path, number: int, start: int, index: ShardIndex, report: RecoveryReport) -> None:
    """Index the valid records of segment `number` from byte `start`, then cut what follows."""
    last_id, records, end = index.last_record_id(), [], start
    for header in scan_records(path, start):
        if header.record_id <= last_id:
            break  # a record id can only grow; anything else is not this shard's next record
        with open(path, "rb") as handle:
            payload = os.pread(handle.fileno(), header.length, header.offset + HEADER_SIZE)
        try:
            records.append(_record_from_payload(header, number, payload))
        except (CodecError, KeyError):
            break
        last_id, end = header.record_id, header.end
    if records:
        index.add_records(records)
        report.recovered_records += len(records)
    _cut_torn_tail(path, end, report)


def recover_shard(shard: Path, index: ShardIndex) -> RecoveryReport:
    """Make `shard` consistent (see the module docstring). The caller holds the writer lock."""
    started, report = time.monotonic(), RecoveryReport(shard=shard.name)
    files, known = segment_files(shard), index.segments()
    for number, info in known.items():
        if info.state == "quarantined":
            if number in files:  # a crash between marking and moving: finish the move
                quarantine_segment(shard, index, number, info.reason)
            continue
        path = files.get(number)
        if path is None:
            if info.records:
                reason = f"segment file missing ({info.records} records, {info.transitions} transitions lost)"
                quarantine_segment(shard, index, number, reason)
                report.quarantined[segment_path(shard, number).name] = reason
            continue
        size = path.stat().st_size
        if size < info.indexed_end:
            reason = f"truncated to {size} bytes, its records end at byte {info.indexed_end}"
            quarantine_segment(shard, index, number, reason)
            report.quarantined[path.name] = reason
        elif size > info.indexed_end:
            _index_tail(path, number, info.indexed_end, index, report)
        if info.state != "sealed":
            index.set_segment_state(number, "sealed")
    for number in sorted(set(files) - set(known)):
        index.set_segment_state(number, "sealed")
        _index_tail(files[number], number, 0, index, report)
    report.seconds = time.monotonic() - started
    return report


def verify_shard(shard: Path, index: ShardIndex, quarantine: bool = False) -> VerifyReport:
    """Read and check every indexed record of `shard`. With `quarantine`, move damaged segments
    aside (the caller must hold the writer lock)."""
    report = VerifyReport(shard=shard.name)
    segments = index.segments()
    for number, info in segments.items():
        if info.state == "quarantined":
            report.quarantined[segment_path(shard, number).name] = info.reason
    by_segment: dict[int, list[IndexedRecord]] = {}
    for record in index.records_after(-1):
        by_segment.setdefault(record.segment, []).append(record)
    for number, records in by_segment.items():
        path = segment_path(shard, number)
        problem = _check_segment(path, records)
        report.records_checked += len(records)
        if problem is None:
            report.transitions_ok += sum(r.n for r in records)
        else:
            report.corrupt[path.name] = problem
            if quarantine:
                quarantine_segment(shard, index, number, problem)
    return report


def _check_segment(path: Path, records: list[IndexedRecord]) -> str | None:
    """The first problem found in a segment's records, or None when all check out."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return f"segment file missing ({len(records)} records, {sum(r.n for r in records)} transitions)"
    try:
        for record in records:
            try:
                decode_chunk(read_record(fd, path, record.offset, record.length, record.crc))
            except CorruptRecord as err:
                return f"record {record.record_id} at byte {err.offset}: {err.reason}"
            except CodecError as err:
                return f"record {record.record_id}: {err}"
    finally:
        os.close(fd)
    return None
