"""Segment files: append-only sequences of checksummed records, the on-disk truth of a shard.

A record is a 24-byte header then its payload:

    magic "FRB1" | payload length u32 | payload CRC-32 u32 | record id u64 | header CRC-32 u32

The header has its own checksum, so a torn or bit-flipped length can never send a reader past the
end of a record. A segment is only ever appended to by its one writer; a crash can leave at most a
torn record at its end, which `scan_records` stops at. Everything else in a shard (the SQLite
index) can be rebuilt from its segments.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fleetrl.core.files import fsync_dir

MAGIC = b"FRB1"
HEADER = struct.Struct("<4sIIQI")  # magic, payload length, payload crc, record id, header crc
HEADER_SIZE = HEADER.size
MAX_PAYLOAD = 2**32 - 1
SEGMENT_SUFFIX = ".seg"


class CorruptRecord(Exception):
    """A record that fails its checksums, or lies past the end of its segment."""

    def __init__(self, segment: Path, offset: int, reason: str) -> None:
        super().__init__(f"{segment}: record at byte {offset}: {reason}")
        self.segment, self.offset, self.reason = segment, offset, reason


def segment_name(number: int) -> str:
    return f"{number:08d}{SEGMENT_SUFFIX}"


def segment_number(path: Path) -> int:
    return int(path.name[: -len(SEGMENT_SUFFIX)])


def pack_header(payload: bytes, record_id: int) -> bytes:
    """The header that precedes `payload` as record `record_id`."""
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"record payload of {len(payload)} bytes exceeds the {MAX_PAYLOAD}-byte limit")
    head = struct.pack("<4sIIQ", MAGIC, len(payload), zlib.crc32(payload), record_id)
    return head + struct.pack("<I", zlib.crc32(head))


@dataclass(frozen=True)
class RecordHeader:
    offset: int  # byte offset of the header in its segment
    length: int  # payload bytes
    crc: int  # CRC-32 of the payload
    record_id: int

    @property
    def end(self) -> int:
        """Byte offset just past this record."""
        return self.offset + HEADER_SIZE + self.length


def unpack_header(raw: bytes, segment: Path, offset: int) -> RecordHeader:
    """The header in `raw` (HEADER_SIZE bytes); CorruptRecord if it is torn or damaged."""
    if len(raw) < HEADER_SIZE:
        raise CorruptRecord(segment, offset, f"header cut short ({len(raw)} of {HEADER_SIZE} bytes)")
    magic, length, crc, record_id, header_crc = HEADER.unpack(raw[:HEADER_SIZE])
    if magic != MAGIC:
        raise CorruptRecord(segment, offset, "bad magic")
    if zlib.crc32(raw[: HEADER_SIZE - 4]) != header_crc:
        raise CorruptRecord(segment, offset, "header checksum mismatch")
    return RecordHeader(offset, length, crc, record_id)


def read_record(fd: int, segment: Path, offset: int, length: int, crc: int) -> bytes:
    """The payload of the record at `offset` of the open segment `fd`, checked against the index's
    `length` and `crc` and against its own header. CorruptRecord on any mismatch or short read."""
    raw = os.pread(fd, HEADER_SIZE + length, offset)
    header = unpack_header(raw, segment, offset)
    if header.length != length or header.crc != crc:
        raise CorruptRecord(segment, offset, "header disagrees with the index")
    payload = raw[HEADER_SIZE:]
    if len(payload) != length:
        raise CorruptRecord(segment, offset, f"payload cut short ({len(payload)} of {length} bytes)")
    if zlib.crc32(payload) != crc:
        raise CorruptRecord(segment, offset, "payload checksum mismatch")
    return payload


def scan_records(path: Path, start: int = 0) -> Iterator[RecordHeader]:
    """Headers of the complete, checksum-valid records of a segment from byte `start` on, in order.

    Stops silently at the first torn or damaged record (or the end of file); the caller compares
    the last record's `end` with the file size to learn whether a damaged tail follows.
    """
    with open(path, "rb") as handle:
        fd, offset = handle.fileno(), start
        while True:
            raw = os.pread(fd, HEADER_SIZE, offset)
            if not raw:
                return
            try:
                header = unpack_header(raw, path, offset)
            except CorruptRecord:
                return
            payload = os.pread(fd, header.length, offset + HEADER_SIZE)
            if len(payload) != header.length or zlib.crc32(payload) != header.crc:
                return
            yield header
            offset = header.end


class SegmentAppender:
    """Appends records to one segment file; `sync()` makes everything appended so far durable.

    Owned by a single writer. The file is opened for appending only, so nothing already written
    can be overwritten; `sync()` fsyncs the file (and, the first time, its folder, so that the
    new file's name is durable too).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle = open(path, "ab")
        self.size = self._handle.tell()
        self._named_durably = False

    def append(self, payload: bytes, record_id: int) -> RecordHeader:
        """Write one record (buffered); returns where it lies. Not durable until `sync()`."""
        header = pack_header(payload, record_id)
        offset = self.size
        self._handle.write(header)
        self._handle.write(payload)
        self.size += HEADER_SIZE + len(payload)
        return RecordHeader(offset, len(payload), struct.unpack_from("<I", header, 8)[0], record_id)

    def sync(self) -> None:
        self._handle.flush()
        os.fsync(self._handle.fileno())
        if not self._named_durably:
            fsync_dir(self.path.parent)
            self._named_durably = True

    def close(self) -> None:
        if not self._handle.closed:
            self._handle.flush()
            self._handle.close()
