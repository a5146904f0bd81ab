"""`fleetrl buffer` end to end on a small buffer of known contents: info, verify, merge, export.

One command goes through the installed entry point in a subprocess (the real exit code and a
clean stdout); the rest call `fleetrl.cli.main.main` in-process, since each `fleetrl` process
spends seconds importing the other commands' dependencies.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fleetrl.buffer.config import DurabilityConfig
from fleetrl.buffer.demos import load_demos
from fleetrl.buffer.shard_writer import ShardWriter
from fleetrl.cli.main import main
from fleetrl.core.transitions import SOURCE_DEMO, SOURCE_INTERVENTION, SOURCE_ONLINE, concat_chunks

pytestmark = pytest.mark.smoke

FLEETRL = Path(sys.executable).parent / "fleetrl"


def chunk(start: int, n: int, source: int, end: str | None = None) -> dict[str, np.ndarray]:
    """Transitions start..start+n-1 (their policy_version); `end` ("terminated" or "truncated")
    marks the last one as an episode end."""
    ids = np.arange(start, start + n)
    flags = {"terminated": np.zeros(n, np.float32), "truncated": np.zeros(n, np.float32)}
    if end:
        flags[end][-1] = 1.0
    return {
        "obs.state": np.tile(ids[:, None], (1, 3)).astype(np.float32),
        "obs.wrist": np.broadcast_to((ids % 256).astype(np.uint8)[:, None, None, None], (n, 4, 4, 3)).copy(),
        "next_obs.state": np.tile(ids[:, None] + 1, (1, 3)).astype(np.float32),
        "next_obs.wrist": np.broadcast_to(((ids + 1) % 256).astype(np.uint8)[:, None, None, None], (n, 4, 4, 3)).copy(),
        "action": np.tile(ids[:, None], (1, 2)).astype(np.float32) / 100,
        "reward": ids.astype(np.float32),
        **flags,
        "policy_version": ids.astype(np.int64),
        "robot": np.zeros(n, np.int64),
        "source": np.full(n, source, np.int8),
        "actor": np.zeros(n, np.int8),
        "success": np.zeros(n, np.float32),
    }


# Shard "a": 3 online episodes of 4 steps, then 2 demo steps of an episode that has not ended.
# Shard "b": one intervention episode of 10 steps, cut by a time limit.
SHARDS = {
    "a": [chunk(0, 4, SOURCE_ONLINE, "terminated"), chunk(4, 4, SOURCE_ONLINE, "terminated"),
          chunk(8, 4, SOURCE_ONLINE, "terminated"), chunk(12, 2, SOURCE_DEMO)],
    "b": [chunk(100, 5, SOURCE_INTERVENTION), chunk(105, 5, SOURCE_INTERVENTION, "truncated")],
}


def build(root: Path, shards: dict[str, list[dict]] = SHARDS) -> Path:
    for name, chunks in shards.items():
        with ShardWriter(root / "shards" / name, DurabilityConfig(mode="chunk")) as writer:
            for c in chunks:
                writer.add(c)
    return root


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["buffer", *args])
    out, err = capsys.readouterr()
    return code, out, err


def tree_digest(root: Path) -> dict[str, str]:
    """Content hash of every segment file and every index row under `root`."""
    from fleetrl.buffer.index import ShardIndex

    digest = {}
    for path in sorted(root.rglob("*.seg")):
        digest[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    for path in sorted(root.rglob("index.sqlite")):
        index = ShardIndex(path, readonly=True)
        digest[str(path)] = repr((index.records_after(-1), index.segments(), index.get_meta("layout")))
        index.close()
    return digest


def test_info_json_from_the_installed_command(tmp_path):
    root = build(tmp_path / "buf")
    result = subprocess.run([str(FLEETRL), "buffer", "info", str(root), "--json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)  # stdout holds the object and nothing else
    assert (info["transitions"], info["records"]) == (24, 6)
    a, b = info["shards"]
    assert (a["name"], a["transitions"], a["records"], a["episodes"], a["segments"]) == ("a", 14, 4, 3, 1)
    assert a["sources"] == {"online": 12, "demo": 2, "intervention": 0}
    assert (b["name"], b["transitions"], b["records"], b["episodes"]) == ("b", 10, 2, 1)
    assert b["sources"] == {"online": 0, "demo": 0, "intervention": 10}
    assert a["quarantined"] == {} == b["quarantined"]
    assert a["layout"]["obs.wrist"] == ["|u1", [4, 4, 3]] and a["layout"]["action"] == ["<f4", [2]]
    assert info["bytes_on_disk"] == a["bytes_on_disk"] + b["bytes_on_disk"] > 0


def test_info_table_and_a_single_shard_path(tmp_path, capsys):
    root = build(tmp_path / "buf")
    code, out, _ = run(capsys, "info", str(root))
    assert code == 0
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") > 5}
    assert set(rows) == {"a", "b", "total"}
    assert " 24 " in rows["total"] and " 14 " in rows["a"] and " 10 " in rows["b"]
    code, out, _ = run(capsys, "info", str(root / "shards" / "b"), "--json")  # one shard folder is a buffer too
    assert code == 0 and json.loads(out)["transitions"] == 10


def test_info_beside_a_live_writer_counts_what_it_has_acknowledged(tmp_path, capsys):
    root = build(tmp_path / "buf")
    with ShardWriter(root / "shards" / "a", DurabilityConfig(mode="group", group_commit_ms=60_000)) as writer:
        writer.add(chunk(20, 3, SOURCE_ONLINE))  # pending: the window has not closed
        code, out, _ = run(capsys, "info", str(root), "--json")
        assert code == 0 and json.loads(out)["transitions"] == 24
        writer.commit()
        code, out, _ = run(capsys, "info", str(root), "--json")
        assert json.loads(out)["shards"][0]["transitions"] == 17
        assert run(capsys, "verify", str(root))[0] == 0


def test_verify_a_clean_buffer(tmp_path, capsys):
    root = build(tmp_path / "buf")
    code, out, err = run(capsys, "verify", str(root), "--json")
    assert (code, err) == (0, "")
    report = json.loads(out)
    assert report["ok"] is True
    assert [(s["name"], s["records_checked"], s["transitions_ok"], s["corrupt"]) for s in report["shards"]] == [
        ("a", 4, 14, {}), ("b", 2, 10, {})]
    code, out, _ = run(capsys, "verify", str(root))
    assert code == 0 and "ok" in out


def test_merge_copies_every_source_into_a_new_shard_and_leaves_them_alone(tmp_path, capsys):
    first, second = build(tmp_path / "one"), build(tmp_path / "two", {"c": [chunk(500, 3, SOURCE_DEMO, "terminated")]})
    before = tree_digest(tmp_path)
    out_root = tmp_path / "merged"
    code, out, _ = run(capsys, "merge", str(out_root), str(first), str(second), "--json")
    assert code == 0
    result = json.loads(out)
    assert (result["shard"], result["records"], result["transitions"]) == ("merged-0", 7, 27)
    assert [(s["path"], s["records"], s["transitions"], s["skipped_transitions"]) for s in result["sources"]] == [
        (str(first), 6, 24, 0), (str(second), 1, 3, 0)]
    assert tree_digest(first) | tree_digest(second) == before  # sources untouched

    code, out, _ = run(capsys, "info", str(out_root), "--json")
    merged = json.loads(out)["shards"]
    assert [(s["name"], s["transitions"], s["episodes"]) for s in merged] == [("merged-0", 27, 5)]
    assert merged[0]["sources"] == {"online": 12, "demo": 5, "intervention": 10}

    code, out, _ = run(capsys, "merge", str(out_root), str(second))  # the next free name, as a table
    assert code == 0 and "merged-1" in out
    assert sorted(p.name for p in (out_root / "shards").iterdir()) == ["merged-0", "merged-1"]


def test_merge_refuses_buffers_of_different_layouts_before_writing(tmp_path, capsys):
    first = build(tmp_path / "one")
    wide = chunk(0, 2, SOURCE_ONLINE)
    wide["action"] = np.zeros((2, 7), np.float32)
    odd = build(tmp_path / "odd", {"x": [wide]})
    code, out, err = run(capsys, "merge", str(tmp_path / "out"), str(first), str(odd))
    assert code == 1 and out == ""
    assert "layout" in err and str(odd / "shards" / "x") in err and "Traceback" not in err
    assert not (tmp_path / "out" / "shards").exists() or not any((tmp_path / "out" / "shards").iterdir())
    code, _, err = run(capsys, "merge", str(first), str(first))
    assert code == 1 and "output buffer" in err


def test_export_npz_is_readable_by_load_demos(tmp_path, capsys):
    root = build(tmp_path / "buf")
    out_file = tmp_path / "export" / "all.npz"
    code, out, _ = run(capsys, "export", str(root), "--out", str(out_file), "--json")
    assert code == 0
    result = json.loads(out)
    assert (result["records"], result["transitions"], result["skipped_transitions"]) == (6, 24, 0)
    arrays, meta = load_demos(out_file)
    want = concat_chunks(SHARDS["a"] + SHARDS["b"])  # shard by shard, in record order
    assert sorted(arrays) == sorted(want)
    for key, value in want.items():
        assert arrays[key].dtype == value.dtype and np.array_equal(arrays[key], value), key
    assert (meta["exported_from"], meta["transitions"]) == (str(root), 24)


@pytest.mark.parametrize(
    "args",
    [
        ["info", "{missing}"],
        ["verify", "{empty}"],
        ["verify", "{missing}", "--quarantine"],
        ["merge", "{out}", "{missing}"],
        ["export", "{empty}", "--out", "{out}/x.npz"],
        ["export", "{missing}", "--out", "{out}/x", "--format", "lerobot"],
        ["import", "{missing}", "--out", "{out}"],
    ],
    ids=["info", "verify", "verify-quarantine", "merge-source", "export", "export-lerobot", "import-lerobot"],
)
def test_a_path_that_is_not_a_buffer_exits_2_naming_it(tmp_path, capsys, args):
    paths = {"missing": tmp_path / "no-such-buffer", "empty": tmp_path / "empty", "out": tmp_path / "out"}
    paths["empty"].mkdir()
    code, out, err = run(capsys, *[a.format(**paths) for a in args])
    assert code == 2 and out == ""
    named = paths["empty"] if "{empty}" in args else paths["missing"]
    assert str(named) in err and "Traceback" not in err
    assert not paths["out"].exists()  # nothing is created on a usage error


@pytest.mark.parametrize(
    "args",
    [
        ["export", "{buf}"],  # --out is required
        ["export", "{buf}", "--out", "x", "--format", "csv"],
        ["export", "{buf}", "--out", "x", "--format", "lerobot", "--fps", "0"],
        ["export", "{buf}", "--out", "x", "--fps", "fast"],
        ["import", "{buf}"],  # --out is required
        ["import", "{buf}", "--out", "x", "--format", "npz"],
        ["merge", "{buf}"],  # no source
        ["info"],
    ],
    ids=["export-no-out", "export-format", "export-fps-0", "export-fps-text", "import-no-out",
         "import-format", "merge-no-source", "info-no-path"],
)
def test_bad_arguments_exit_2(tmp_path, capsys, args):
    with pytest.raises(SystemExit) as exit_info:
        main(["buffer", *[a.format(buf=tmp_path) for a in args]])
    assert exit_info.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_the_installed_command_exits_2_on_a_missing_buffer(tmp_path):
    missing = tmp_path / "nowhere"
    result = subprocess.run([str(FLEETRL), "buffer", "verify", str(missing)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert str(missing) in result.stderr and result.stdout == "" and "Traceback" not in result.stderr
