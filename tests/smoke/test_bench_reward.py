"""`fleetrl bench reward` times a classifier reward in the env worker and in the reward worker."""

import json
import math
import subprocess
import sys

import pytest


@pytest.mark.smoke
@pytest.mark.timeout(180)
def test_bench_reward_times_all_three_setups():
    result = subprocess.run(
        [sys.executable, "-m", "fleetrl.cli.main", "bench", "reward", "--steps", "60", "--json"],
        capture_output=True, text=True, timeout=170,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout)
    setups = [row["setup"] for row in out["rows"]]
    assert setups == ["no reward model (frames rendered)", "classifier in the env worker", "classifier in the reward worker"]
    for row in out["rows"]:
        assert row["steps"] == 60 and math.isfinite(row["steps_per_s"]) and row["steps_per_s"] > 0
    extra = out["rows"][2]["ms_per_step"] - out["rows"][1]["ms_per_step"]
    assert out["reward_worker_extra_ms_per_step"] == pytest.approx(extra)
