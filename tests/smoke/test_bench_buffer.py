"""`fleetrl bench buffer --quick` writes, samples and kills a writer, and prints every section."""

import json
import math
import subprocess
import sys

import pytest

SAMPLED = ("ram", "fleetrl_hot", "fleetrl_hot_rotate1", "fleetrl_exact", "fleetrl_none", "torchrl_memmap", "torch_save")
WRITTEN = {("fleetrl", "group", "none"), ("fleetrl", "group", "lz4"), ("fleetrl", "group", "zstd"),
           ("fleetrl", "chunk", "lz4"), ("lmdb", "chunk", "lz4"), ("ram", "none", "none"),
           ("torchrl_memmap", "none", "none"), ("torch_save", "none", "none")}


def positive(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


@pytest.mark.smoke
@pytest.mark.timeout(180)
def test_bench_buffer_quick_prints_every_section_and_loses_nothing(tmp_path):
    # About 25 s on two cores. The page cache is left alone: a smoke run need not disturb the machine.
    result = subprocess.run(
        [sys.executable, "-m", "fleetrl.cli.main", "bench", "buffer", "--quick", "--json", "--no-drop-caches",
         "--workdir", str(tmp_path)],
        capture_output=True, text=True, timeout=170,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout)  # progress went to stderr: stdout is one JSON object
    assert {"write", "sample", "recovery", "goals", "machine", "settings"} <= set(out)
    assert out["settings"]["quick"] and out["settings"]["page_cache"]["dropped"] is False
    assert list(tmp_path.iterdir()) == []  # scratch data deleted

    assert {(w["store"], w["durability"], w["compression"]) for w in out["write"]} == WRITTEN
    for row in out["write"]:
        assert positive(row["transitions_per_s"]) and positive(row["decoded_mb_per_s"]), row
    ours = {row["compression"]: row for row in out["write"]
            if row["store"] == "fleetrl" and row["durability"] == "group"}
    assert ours["zstd"]["compression_ratio"] > ours["lz4"]["compression_ratio"] > 1.5  # sim frames compress

    assert set(out["sample"]) == set(SAMPLED)
    for name in SAMPLED:
        row = out["sample"][name]
        assert positive(row["batches_per_s"]) and row["transitions_per_s"] == pytest.approx(
            row["batches_per_s"] * out["settings"]["batch_size"]), (name, row)
    assert out["sample"]["fleetrl_hot"]["cache_hit_rate"] > 0.9

    recovery = out["recovery"]
    assert recovery["killed_by_signal"] == 9
    assert recovery["acknowledged_transitions"] > 0 and recovery["lost_transitions"] == 0
    assert recovery["present_transitions"] >= recovery["acknowledged_transitions"]
    assert recovery["checked_records"] == recovery["identical_records"] == recovery["acknowledged_records"]
    assert positive(recovery["recover_s"]) and positive(recovery["open_ready_to_sample_s"])
    assert out["goals"]["zero_acknowledged_lost"]["met"] is True
    assert all(positive(goal["ratio"]) for name, goal in out["goals"].items() if name.startswith("hot_vs"))
