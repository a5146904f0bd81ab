"""`fleetrl collect` records expert demonstrations that a run can load."""

import subprocess
import sys

import numpy as np
import pytest

from fleetrl.buffer.demos import load_demos
from fleetrl.core.transitions import SOURCE_DEMO


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


@pytest.mark.smoke
def test_collect_into_a_buffer_folder_adds_a_shard_with_success_labels(tmp_path):
    from fleetrl.buffer.scan import iter_chunks
    from fleetrl.cli.main import main
    from fleetrl.core.transitions import ACTOR_EXPERT

    config = tmp_path / "run.yaml"
    config.write_text("env: {id: fleetrl/PickCube-v0, kwargs: {obs_mode: state}, robots: [sim_panda]}\n")
    for _ in range(2):
        assert main(["collect", str(config), "--episodes", "2", "--out", str(tmp_path / "buffer")]) == 0
    shards = sorted(p.name for p in (tmp_path / "buffer" / "shards").iterdir())
    assert shards == ["demos-0", "demos-1"]
    chunks = [chunk for _, _, chunk in iter_chunks(tmp_path / "buffer")]
    success = np.concatenate([c["success"] for c in chunks])
    assert (np.concatenate([c["actor"] for c in chunks]) == ACTOR_EXPERT).all()
    assert success.sum() == 4 and success[-1] == 1.0  # each episode's last step reached success


@pytest.mark.smoke
def test_collect_with_a_device_that_is_not_here_says_why(tmp_path, monkeypatch):
    from fleetrl.cli.main import main

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    config = tmp_path / "run.yaml"
    config.write_text("env: {id: fleetrl/PickCube-v0, kwargs: {obs_mode: state}, robots: [sim_panda]}\n")
    assert main(["collect", str(config), "--device", "keyboard", "--out", str(tmp_path / "d.npz")]) == 2
