"""ShardWriter, ShardReader, recovery and verification on one shard, in one process.

Crashes are simulated by editing segment files the way a killed writer leaves them (a torn tail,
a complete record the index never heard of); tests/buffer/test_crash_recovery.py kills real
writer processes.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import numpy as np
import pytest

from fleetrl.buffer.codec import encode_chunk
from fleetrl.buffer.config import DurabilityConfig
from fleetrl.buffer.index import ShardIndex
from fleetrl.buffer.recovery import verify_shard
from fleetrl.buffer.segment import HEADER_SIZE, pack_header, scan_records
from fleetrl.buffer.shard_layout import INDEX_FILE, QUARANTINE_DIR, ShardBusy, segment_files
from fleetrl.buffer.shard_reader import ShardReader
from fleetrl.buffer.shard_writer import ShardWriter

LONG_WINDOW = DurabilityConfig(mode="group", group_commit_ms=5_000)  # no group commit happens during a test


def read_all(shard: Path) -> list[dict[str, np.ndarray]]:
    """Every acknowledged chunk, read by a fresh reader as another process would."""
    with ShardReader(shard) as reader:
        return [reader.read(record) for record in reader.refresh()]


def visible_ids(shard: Path) -> list[int]:
    """policy_version of each acknowledged transition (numbered_chunk numbers them so)."""
    return [int(v) for chunk in read_all(shard) for v in chunk["policy_version"]]


def assert_bit_identical(got: dict, want: dict) -> None:
    assert sorted(got) == sorted(want)
    for key in want:
        expected = np.ascontiguousarray(want[key])
        assert got[key].dtype == expected.dtype and got[key].shape == expected.shape, key
        assert got[key].tobytes() == expected.tobytes(), key


def write_shard(shard: Path, make_chunk, chunks: int, size: int = 5, segment_bytes: int = 256 << 20) -> list[dict]:
    written = [make_chunk(i * size, size, pixels=True) for i in range(chunks)]
    with ShardWriter(shard, DurabilityConfig(mode="chunk"), segment_bytes=segment_bytes) as writer:
        for chunk in written:
            writer.add(chunk)
    return written


@pytest.mark.parametrize("compression", ["none", "lz4", "zstd"])
def test_round_trip_is_bit_identical(tmp_path, make_chunk, compression):
    chunks = [make_chunk(0, 6, pixels=True), make_chunk(6, 1, pixels=True), make_chunk(7, 9, pixels=True)]
    # Values a lossy or normalising path would change: NaN payload bits, -0.0, denormals, extremes.
    chunks[0]["reward"][:4] = np.array([np.nan, -0.0, 1e-45, np.finfo(np.float32).max], np.float32)
    chunks[1]["policy_version"][0] = np.iinfo(np.int64).min
    chunks[2]["obs.wrist"][:] = np.random.default_rng(0).integers(0, 256, chunks[2]["obs.wrist"].shape)
    with ShardWriter(tmp_path / "s", DurabilityConfig(mode="chunk"), compression=compression) as writer:
        ids = [writer.add(chunk) for chunk in chunks]
    assert ids == [0, 1, 2]
    got = read_all(tmp_path / "s")
    assert len(got) == 3
    for chunk_got, chunk_want in zip(got, chunks):
        assert_bit_identical(chunk_got, chunk_want)


def test_reader_refresh_returns_only_new_records(tmp_path, make_chunk):
    shard = tmp_path / "s"
    with ShardWriter(shard, DurabilityConfig(mode="chunk")) as writer, ShardReader(shard) as reader:
        writer.add(make_chunk(0, 3))
        first = reader.refresh()
        assert [r.record_id for r in first] == [0] and first[0].n == 3
        assert reader.refresh() == []
        writer.add(make_chunk(3, 2))
        writer.add(make_chunk(5, 4))
        assert [(r.record_id, r.n) for r in reader.refresh()] == [(1, 2), (2, 4)]
        assert reader.transitions() == 9


def test_chunk_durability_acknowledges_before_add_returns(tmp_path, make_chunk):
    shard = tmp_path / "s"
    with ShardWriter(shard, DurabilityConfig(mode="chunk")) as writer:
        for i in range(3):
            record_id = writer.add(make_chunk(i * 2, 2))
            assert writer.acknowledged_record_id == record_id
            assert writer.acknowledged_transitions == (i + 1) * 2
            assert visible_ids(shard) == list(range((i + 1) * 2))  # another connection sees it at once


def test_group_durability_acknowledges_within_the_window(tmp_path, make_chunk):
    shard = tmp_path / "s"
    with ShardWriter(shard, DurabilityConfig(mode="group", group_commit_ms=100)) as writer:
        started = time.monotonic()
        writer.add(make_chunk(0, 4))
        while writer.acknowledged_transitions < 4:
            assert time.monotonic() - started < 5.0, "no group commit within 50 windows"
            time.sleep(0.005)
        assert visible_ids(shard) == [0, 1, 2, 3]


def test_group_durability_holds_back_until_a_commit(tmp_path, make_chunk):
    shard = tmp_path / "s"
    with ShardWriter(shard, LONG_WINDOW) as writer:
        first = writer.add(make_chunk(0, 2))
        assert writer.acknowledged_record_id == -1 and visible_ids(shard) == []
        with pytest.raises(TimeoutError, match="not acknowledged"):
            writer.wait_acknowledged(first, timeout_s=0.05)
        writer.add(make_chunk(2, 3))
        assert visible_ids(shard) == []
        writer.commit()
        assert writer.acknowledged_transitions == 5
        assert visible_ids(shard) == [0, 1, 2, 3, 4]


def test_group_add_with_wait_returns_only_once_acknowledged(tmp_path, make_chunk):
    shard = tmp_path / "s"
    window_ms = 300
    with ShardWriter(shard, DurabilityConfig(mode="group", group_commit_ms=window_ms)) as writer:
        started = time.monotonic()
        record_id = writer.add(make_chunk(0, 2), wait=True)
        waited = time.monotonic() - started
        assert writer.acknowledged_record_id >= record_id
        assert visible_ids(shard) == [0, 1]
    # The window's first commit comes one period after the writer started.
    assert waited > window_ms / 1000 / 3


def test_episode_durability_commits_at_an_episode_end(tmp_path, make_chunk):
    shard = tmp_path / "s"
    with ShardWriter(shard, DurabilityConfig(mode="episode", group_commit_ms=5_000)) as writer:
        writer.add(make_chunk(1, 5))  # ids 1..5: none is a multiple of 7, so no episode ends
        assert visible_ids(shard) == []
        ends = make_chunk(6, 2)  # id 7 terminates
        assert ends["terminated"].tolist() == [0.0, 1.0]
        writer.add(ends)
        assert visible_ids(shard) == list(range(1, 8))  # the episode end commits what came before too
        truncated = make_chunk(8, 2)
        truncated["truncated"][-1] = 1.0
        writer.add(truncated)
        assert visible_ids(shard) == list(range(1, 10))
        writer.add(make_chunk(10, 2))
        assert visible_ids(shard) == list(range(1, 10))
    assert visible_ids(shard) == list(range(1, 12))  # close commits the rest


def test_close_commits_pending_and_reopen_continues_the_ids(tmp_path, make_chunk):
    shard = tmp_path / "s"
    with ShardWriter(shard, LONG_WINDOW) as writer:
        writer.add(make_chunk(0, 3))
    with ShardWriter(shard, DurabilityConfig(mode="chunk")) as writer:
        assert writer.acknowledged_transitions == 3
        assert writer.add(make_chunk(3, 1)) == 1
    assert visible_ids(shard) == [0, 1, 2, 3]


def test_a_chunk_of_another_layout_is_refused_now_and_after_reopening(tmp_path, make_chunk):
    shard = tmp_path / "s"
    with ShardWriter(shard, DurabilityConfig(mode="chunk")) as writer:
        writer.add(make_chunk(0, 2, pixels=True))
        with pytest.raises(ValueError, match="layout"):
            writer.add(make_chunk(2, 2, pixels=False))  # vector obs instead of obs.state/obs.wrist
        other_dtype = make_chunk(2, 2, pixels=True)
        other_dtype["reward"] = other_dtype["reward"].astype(np.float64)
        with pytest.raises(ValueError, match="layout"):
            writer.add(other_dtype)
    with ShardWriter(shard, DurabilityConfig(mode="chunk")) as writer:
        bigger_image = make_chunk(2, 2, pixels=True)
        bigger_image["obs.wrist"] = np.zeros((2, 32, 32, 3), np.uint8)
        with pytest.raises(ValueError, match=r"obs\.wrist"):
            writer.add(bigger_image)
        writer.add(make_chunk(2, 2, pixels=True))
    assert visible_ids(shard) == [0, 1, 2, 3]  # refused chunks left no trace


def test_a_second_writer_gets_shard_busy_until_the_first_closes(tmp_path, make_chunk):
    shard = tmp_path / "s"
    writer = ShardWriter(shard, DurabilityConfig(mode="chunk"))
    writer.add(make_chunk(0, 1))
    with pytest.raises(ShardBusy, match=f"pid {os.getpid()}"):
        ShardWriter(shard)
    pid = os.fork()
    if pid == 0:  # another process: the real case
        try:
            ShardWriter(shard)
            os._exit(1)
        except ShardBusy:
            os._exit(0)
        except BaseException:  # noqa: BLE001 - anything else is a failure, reported by exit code
            os._exit(2)
    assert os.waitpid(pid, 0)[1] == 0, "the other process was not refused with ShardBusy"
    writer.close()
    with ShardWriter(shard, DurabilityConfig(mode="chunk")) as again:
        again.add(make_chunk(1, 1))
    assert visible_ids(shard) == [0, 1]


def test_segments_roll_over_at_segment_bytes(tmp_path, make_chunk):
    shard = tmp_path / "s"
    written = write_shard(shard, make_chunk, chunks=20, segment_bytes=4096)
    files = segment_files(shard)
    record_bytes = HEADER_SIZE + len(encode_chunk(written[0]))
    assert 4096 // record_bytes >= 1, "the test needs several records per segment"
    assert len(files) >= 20 // (4096 // record_bytes)
    for path in files.values():
        assert path.stat().st_size <= 4096
    index = ShardIndex(shard / INDEX_FILE, readonly=True)
    try:
        assert {info.state for info in index.segments().values()} == {"sealed"}
    finally:
        index.close()
    for got, want in zip(read_all(shard), written, strict=True):
        assert_bit_identical(got, want)


def last_segment(shard: Path) -> Path:
    files = segment_files(shard)
    return files[max(files)]


def test_a_torn_tail_is_cut_and_kept_in_quarantine_on_reopen(tmp_path, make_chunk):
    shard = tmp_path / "s"
    written = write_shard(shard, make_chunk, chunks=3)
    segment = last_segment(shard)
    size = segment.stat().st_size
    payload = encode_chunk(make_chunk(100, 5, pixels=True))
    torn = pack_header(payload, 3) + payload[: len(payload) // 2]  # killed halfway through a write
    with open(segment, "ab") as handle:
        handle.write(torn)
    with ShardWriter(shard, DurabilityConfig(mode="chunk")) as writer:
        assert writer.recovery.torn_bytes == len(torn)
        assert writer.recovery.recovered_records == 0
        assert segment.stat().st_size == size
        assert (shard / QUARANTINE_DIR / f"{segment.name}.tail-{size}").read_bytes() == torn
        assert writer.add(make_chunk(15, 1, pixels=True)) == 3  # the torn record's id was never taken
    got = read_all(shard)
    assert len(got) == 4
    for chunk_got, chunk_want in zip(got, written):
        assert_bit_identical(chunk_got, chunk_want)


def test_complete_records_past_the_index_are_recovered_on_reopen(tmp_path, make_chunk):
    """A writer killed after writing records but before committing their index rows."""
    shard = tmp_path / "s"
    written = write_shard(shard, make_chunk, chunks=2)
    extra = [make_chunk(10, 3, pixels=True), make_chunk(13, 2, pixels=True)]
    segment = last_segment(shard)
    with open(segment, "ab") as handle:
        for record_id, chunk in enumerate(extra, start=2):
            payload = encode_chunk(chunk)
            handle.write(pack_header(payload, record_id) + payload)
    assert visible_ids(shard) == list(range(10))  # not acknowledged: readers do not see them yet
    with ShardWriter(shard, DurabilityConfig(mode="chunk")) as writer:
        assert writer.recovery.recovered_records == 2 and writer.recovery.torn_bytes == 0
        assert writer.acknowledged_transitions == 15
    got = read_all(shard)
    for chunk_got, chunk_want in zip(got, written + extra, strict=True):
        assert_bit_identical(chunk_got, chunk_want)


def test_a_valid_record_with_a_stale_id_past_the_index_is_cut_not_indexed(tmp_path, make_chunk):
    """Only this shard's next record ids are recovered; a replayed old record is a damaged tail."""
    shard = tmp_path / "s"
    write_shard(shard, make_chunk, chunks=2)
    payload = encode_chunk(make_chunk(50, 1, pixels=True))
    with open(last_segment(shard), "ab") as handle:
        handle.write(pack_header(payload, 0) + payload)
    with ShardWriter(shard, DurabilityConfig(mode="chunk")) as writer:
        assert writer.recovery.recovered_records == 0
        assert writer.recovery.torn_bytes == HEADER_SIZE + len(payload)
    assert visible_ids(shard) == list(range(10))


def multi_segment_shard(tmp_path: Path, make_chunk) -> tuple[Path, dict[int, Path], int]:
    """A shard of 24 five-transition chunks over several small segments; returns the shard,
    its segment files and the transitions in the second segment."""
    shard = tmp_path / "s"
    write_shard(shard, make_chunk, chunks=24, segment_bytes=4096)
    files = segment_files(shard)
    assert len(files) >= 4
    second = sorted(files)[1]
    in_second = sum(5 for _ in scan_records(files[second]))
    return shard, files, in_second


def test_a_missing_segment_is_quarantined_on_reopen(tmp_path, make_chunk):
    shard, files, lost = multi_segment_shard(tmp_path, make_chunk)
    victim = files[sorted(files)[1]]
    victim.unlink()
    with ShardWriter(shard, DurabilityConfig(mode="chunk")) as writer:
        reason = writer.recovery.quarantined[victim.name]
        assert "missing" in reason and f"{lost} transitions" in reason
        assert writer.acknowledged_transitions == 120 - lost
    index = ShardIndex(shard / INDEX_FILE, readonly=True)
    try:
        info = index.segments()[int(victim.stem)]
        assert (info.state, info.reason) == ("quarantined", reason)
    finally:
        index.close()
    ids = visible_ids(shard)
    assert len(ids) == 120 - lost and len(set(ids)) == len(ids)


def test_a_truncated_segment_is_quarantined_and_moved_aside_on_reopen(tmp_path, make_chunk):
    shard, files, lost = multi_segment_shard(tmp_path, make_chunk)
    victim = files[sorted(files)[1]]
    size = victim.stat().st_size
    os.truncate(victim, size - 10)
    with ShardWriter(shard, DurabilityConfig(mode="chunk")) as writer:
        reason = writer.recovery.quarantined[victim.name]
        assert f"truncated to {size - 10} bytes" in reason and f"byte {size}" in reason
    assert not victim.exists()
    assert (shard / QUARANTINE_DIR / victim.name).stat().st_size == size - 10  # kept, never deleted
    assert len(visible_ids(shard)) == 120 - lost


def test_verify_names_the_damaged_segment_and_can_quarantine_it(tmp_path, make_chunk):
    shard, files, lost = multi_segment_shard(tmp_path, make_chunk)
    victim = files[sorted(files)[1]]
    with open(victim, "r+b") as handle:  # one flipped bit inside the first record's payload
        handle.seek(HEADER_SIZE + 40)
        byte = handle.read(1)
        handle.seek(HEADER_SIZE + 40)
        handle.write(bytes([byte[0] ^ 0x01]))
    index = ShardIndex(shard / INDEX_FILE)
    try:
        report = verify_shard(shard, index)
        assert not report.ok and list(report.corrupt) == [victim.name]
        assert "checksum" in report.corrupt[victim.name]
        assert report.transitions_ok == 120 - lost
        assert victim.exists()  # without quarantine, verify changes nothing
        verify_shard(shard, index, quarantine=True)
        assert verify_shard(shard, index).ok
        assert verify_shard(shard, index).quarantined == {victim.name: report.corrupt[victim.name]}
    finally:
        index.close()
    assert (shard / QUARANTINE_DIR / victim.name).exists()
    assert len(visible_ids(shard)) == 120 - lost


def test_a_writer_that_fails_to_open_releases_the_shard(tmp_path, make_chunk):
    shard = tmp_path / "s"
    write_shard(shard, make_chunk, chunks=1)
    index = ShardIndex(shard / INDEX_FILE)
    index.set_meta("format", "999")  # a newer fleetrl's shard: this one must refuse it
    index.close()
    with pytest.raises(ValueError, match="format"):
        ShardWriter(shard)
    db = sqlite3.connect(shard / INDEX_FILE)  # put the format back, past ShardIndex's check
    with db:
        db.execute("UPDATE meta SET value = '1' WHERE key = 'format'")
    db.close()
    with ShardWriter(shard, DurabilityConfig(mode="chunk")) as writer:  # ShardBusy naming our own pid
        writer.add(make_chunk(5, 5, pixels=True))
