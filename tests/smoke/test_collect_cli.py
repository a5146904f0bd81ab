"""`fleetrl collect` records expert demonstrations that a run can load."""

import subprocess
import sys

import numpy as np
import pytest

from fleetrl.buffer.demos import load_demos
from fleetrl.buffer.transitions import SOURCE_DEMO


@pytest.mark.smoke
def test_collect_writes_demonstrations_with_the_demo_source(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text(
        "env: {id: fleetrl/PegInsertion-v0, kwargs: {obs_mode: state}, robots: [sim_arx]}\n"
    )
    out = tmp_path / "demos.npz"
    result = subprocess.run(
        [sys.executable, "-m", "fleetrl.cli.main", "collect", str(config), "--episodes", "3", "--out", str(out)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    chunk, meta = load_demos(out)
    assert meta["episodes"] == 3 and meta["successes"] == 3
    assert (chunk["source"] == SOURCE_DEMO).all()
    assert chunk["terminated"].sum() == 3  # sparse reward: each episode ends at its success
    assert np.all(np.abs(chunk["action"]) <= 1.0)


@pytest.mark.smoke
def test_collect_refuses_an_env_without_expert(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("env: {id: Pendulum-v1}\n")
    result = subprocess.run(
        [sys.executable, "-m", "fleetrl.cli.main", "collect", str(config), "--out", str(tmp_path / "x.npz")],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2 and "no scripted expert" in result.stderr
