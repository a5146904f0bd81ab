"""`fleetrl bench pipeline` runs sync then async through the real runtime and prints its figures."""

import json
import math
import subprocess
import sys

import pytest

FIGURES = ("gen_s_per_episode", "train_s_per_update", "robot_duty_cycle", "updates_per_env_step",
           "inference_ms_p50", "inference_ms_p99")


@pytest.mark.smoke
@pytest.mark.timeout(420)
def test_bench_pipeline_state_prints_finite_figures_for_both_modes():
    # Two runs of 20 s measured each, plus Ray start-up twice: about two minutes on two cores.
    result = subprocess.run(
        [sys.executable, "-m", "fleetrl.cli.main", "bench", "pipeline", "--json", "--setting", "state", "--seconds", "20"],
        capture_output=True, text=True, timeout=400,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout)  # progress went to stderr: stdout is one JSON object
    assert {"machine", "settings", "sync", "async", "budget"} <= set(out)
    assert out["budget"]["window_s_per_run"] == 20.0
    setting = out["settings"]["state"]
    assert setting["config"]["obs_mode"] == "state" and setting["config"]["paced_hz"] == 10
    for mode in ("sync", "async"):
        assert set(out[mode]) == set(FIGURES)
        for key in FIGURES:
            value = out[mode][key]
            assert value == setting[mode][key]
            assert isinstance(value, float) and math.isfinite(value) and value > 0, (mode, key, value)
        assert 0.0 <= out[mode]["robot_duty_cycle"] <= 1.0
    assert set(setting["speedup"]) == {"generation", "training"}
    assert all(math.isfinite(v) and v > 0 for v in setting["speedup"].values())
