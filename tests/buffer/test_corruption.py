"""Damaged segments on disk: `fleetrl buffer verify` names them, readers keep the rest, and
`verify --quarantine` puts them aside so the buffer checks clean again with the loss accounted for.

Damage is done by hand to one segment in the middle of a shard: bytes flipped, the file cut short,
or the file deleted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fleetrl.buffer.config import DurabilityConfig
from fleetrl.buffer.scan import iter_chunks
from fleetrl.buffer.segment import CorruptRecord
from fleetrl.buffer.shard_layout import QUARANTINE_DIR, segment_files
from fleetrl.buffer.shard_reader import ShardReader
from fleetrl.buffer.shard_writer import ShardWriter
from fleetrl.cli.main import main

CHUNKS, CHUNK_LEN = 30, 4
FLEETRL = Path(sys.executable).parent / "fleetrl"


def build_buffer(root: Path, make_chunk) -> dict[str, set[int]]:
    """A buffer of two shards: "learner" (several small segments) and "other" (one segment).
    Returns the transition ids (policy_version) held by each learner segment file."""
    with ShardWriter(root / "shards" / "learner", DurabilityConfig(mode="chunk"), segment_bytes=6000) as writer:
        for i in range(CHUNKS):
            writer.add(make_chunk(i * CHUNK_LEN, CHUNK_LEN, pixels=True))
    with ShardWriter(root / "shards" / "other", DurabilityConfig(mode="chunk")) as writer:
        writer.add(make_chunk(10_000, 3, pixels=True))
    ids: dict[str, set[int]] = {}
    with ShardReader(root / "shards" / "learner") as reader:
        for record in reader.refresh():
            name = segment_files(reader.path)[record.segment].name
            ids.setdefault(name, set()).update(reader.read(record)["policy_version"].tolist())
    assert len(ids) >= 4, "the test needs several segments"
    return ids


def damage(segment: Path, how: str) -> None:
    if how == "flipped":
        with open(segment, "r+b") as handle:
            middle = segment.stat().st_size // 2
            handle.seek(middle)
            data = handle.read(4)
            handle.seek(middle)
            handle.write(bytes(b ^ 0xFF for b in data))
    elif how == "truncated":
        os.truncate(segment, segment.stat().st_size // 2)
    else:
        segment.unlink()


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def readable_ids(root: Path) -> set[int]:
    return {int(v) for _, _, chunk in iter_chunks(root) for v in chunk["policy_version"]}


EXPECTED_REASON = {"flipped": "record", "truncated": "cut short", "deleted": "segment file missing"}


@pytest.mark.parametrize("how", ["flipped", "truncated", "deleted"])
def test_verify_names_the_damage_and_quarantine_clears_it(tmp_path, make_chunk, capsys, how):
    root = tmp_path / "buffer"
    ids = build_buffer(root, make_chunk)
    shard = root / "shards" / "learner"
    victim = sorted(segment_files(shard).values())[1]
    all_ids = set().union(*ids.values()) | {10_000, 10_001, 10_002}
    damage(victim, how)

    code, out, err = run_cli(capsys, "buffer", "verify", str(root))
    assert code == 1
    assert f"learner/{victim.name}" in err and EXPECTED_REASON[how] in err
    assert "other/" not in err  # only the damaged segment is named
    assert "learner" in out and "corrupt" in out  # the table says so too

    # Readers keep serving everything outside the damaged segment, and only name it when it fails.
    outside = all_ids - ids[victim.name]
    assert outside <= readable_ids(root) <= all_ids
    with ShardReader(shard) as reader:
        records = reader.refresh()
        for record in records:
            if record.segment != int(victim.stem):
                reader.read(record)  # every other segment reads cleanly
        with pytest.raises(CorruptRecord, match=victim.name):
            for record in records:
                if record.segment == int(victim.stem):
                    reader.read(record)

    code, out, err = run_cli(capsys, "buffer", "verify", str(root), "--quarantine", "--json")
    assert code == 1  # damage was found (and moved aside): the exit code still says so
    report = json.loads(out)
    learner = next(s for s in report["shards"] if s["name"] == "learner")
    reason = learner["corrupt"][victim.name]
    assert learner["quarantined_now"] == {victim.name: reason}
    assert "moved to quarantine" in err
    assert not (shard / "segments" / victim.name).exists()
    assert (shard / QUARANTINE_DIR / victim.name).exists() == (how != "deleted")

    code, out, err = run_cli(capsys, "buffer", "verify", str(root))
    assert (code, err) == (0, "")
    code, out, _ = run_cli(capsys, "buffer", "info", str(root), "--json")
    assert code == 0
    info = json.loads(out)
    learner = next(s for s in info["shards"] if s["name"] == "learner")
    assert learner["transitions"] == CHUNKS * CHUNK_LEN - len(ids[victim.name])
    assert info["transitions"] == learner["transitions"] + 3
    assert learner["quarantined"] == {victim.name: reason}
    assert readable_ids(root) == outside


def test_the_installed_command_exits_1_naming_the_segment(tmp_path, make_chunk):
    root = tmp_path / "buffer"
    build_buffer(root, make_chunk)
    victim = sorted(segment_files(root / "shards" / "learner").values())[2]
    damage(victim, "flipped")
    result = subprocess.run([str(FLEETRL), "buffer", "verify", str(root)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert f"learner/{victim.name}" in result.stderr and "Traceback" not in result.stderr


def test_quarantine_refuses_a_shard_that_is_being_written(tmp_path, make_chunk, capsys):
    root = tmp_path / "buffer"
    build_buffer(root, make_chunk)
    victim = sorted(segment_files(root / "shards" / "learner").values())[1]
    damage(victim, "flipped")
    with ShardWriter(root / "shards" / "learner", DurabilityConfig(mode="chunk")) as writer:
        writer.add(make_chunk(5000, 2, pixels=True))
        code, out, err = run_cli(capsys, "buffer", "verify", str(root), "--quarantine")
    assert code == 1
    assert "being written" in err and "stop that process first" in err and "learner" in err
    assert victim.exists()  # nothing moved behind the writer's back
    # Plain verify is read-only, so it runs beside a writer.
    with ShardWriter(root / "shards" / "learner", DurabilityConfig(mode="chunk")):
        assert main(["buffer", "verify", str(root)]) == 1
    capsys.readouterr()


def test_verify_checks_every_byte_that_was_acknowledged(tmp_path, make_chunk, capsys):
    """A flip anywhere inside an acknowledged record is found, not only in the first record."""
    root = tmp_path / "buffer"
    build_buffer(root, make_chunk)
    shard = root / "shards" / "learner"
    victim = sorted(segment_files(shard).values())[-1]
    with open(victim, "r+b") as handle:  # the very last payload byte of the shard's last record
        handle.seek(victim.stat().st_size - 1)
        last = handle.read(1)
        handle.seek(victim.stat().st_size - 1)
        handle.write(bytes([last[0] ^ 0x80]))
    code, _, err = run_cli(capsys, "buffer", "verify", str(root))
    assert code == 1 and f"learner/{victim.name}" in err and "checksum" in err
    assert {10_000, 10_001, 10_002} <= readable_ids(root)
