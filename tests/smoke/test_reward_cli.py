"""`fleetrl reward train` and `eval` end to end on a tiny buffer and a demo file.

Training runs in-process (`fleetrl.cli.main.main`); one eval goes through a subprocess for the
real exit code and a clean stdout.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from fleetrl.buffer.config import DurabilityConfig
from fleetrl.buffer.demos import save_demos
from fleetrl.buffer.shard_writer import ShardWriter
from fleetrl.cli.main import main
from fleetrl.core.transitions import concat_chunks

pytestmark = pytest.mark.smoke


def episode(rng: np.random.Generator, robot: int, steps: int = 10, with_success: bool = True) -> dict:
    """An episode of 16x16 frames; from a random step on, a red square sits in the top-left
    quarter (success), before it the square is elsewhere."""
    frames = rng.integers(80, 120, size=(steps, 16, 16, 3)).astype(np.uint8)
    success = (np.arange(steps) >= rng.integers(3, steps + 3)).astype(np.float32)
    for i in range(steps):
        y, x = (rng.integers(1, 4, size=2) if success[i] else rng.integers(9, 13, size=2))
        frames[i, y:y + 3, x:x + 3] = (230, 20, 20)
    n = steps
    chunk = {
        "obs.wrist": frames, "next_obs.wrist": frames, "obs.state": np.zeros((n, 2), np.float32),
        "next_obs.state": np.zeros((n, 2), np.float32), "action": np.zeros((n, 2), np.float32),
        "reward": success.copy(), "terminated": np.zeros(n, np.float32),
        "truncated": (np.arange(n) == n - 1).astype(np.float32), "policy_version": np.zeros(n, np.int64),
        "robot": np.full(n, robot, np.int64), "source": np.zeros(n, np.int8),
    }
    if with_success:
        chunk["success"], chunk["actor"] = success, np.zeros(n, np.int8)
    return chunk


def write_buffer(root: Path, episodes: int, seed: int, with_success: bool = True) -> Path:
    rng = np.random.default_rng(seed)
    with ShardWriter(root / "shards" / "env0", DurabilityConfig(mode="chunk")) as writer:
        for _ in range(0, episodes, 2):  # two robots' episodes per chunk
            writer.add(concat_chunks([episode(rng, 0, with_success=with_success), episode(rng, 1, with_success=with_success)]))
    return root


@pytest.fixture(autouse=True)
def one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_train_then_eval(tmp_path, capsys):
    buffer = write_buffer(tmp_path / "buffer", episodes=40, seed=0)
    out = tmp_path / "model" / "success.pt"
    code = main(["reward", "train", str(buffer), "--camera", "wrist", "--out", str(out), "--epochs", "4", "--json"])
    stdout, stderr = capsys.readouterr()
    assert code == 0, stderr
    result = json.loads(stdout)
    assert result["model"] == str(out) and out.is_file()
    assert Path(result["sheet"]) == out.with_suffix(".png") and out.with_suffix(".png").stat().st_size > 0
    assert result["episodes"] == {"train": 32, "held_out": 8}
    assert result["accuracy"] >= 0.8, result
    assert set(result["class_counts"]["held_out"]) == {"success", "failure"}

    code = main(["reward", "train", str(buffer), "--camera", "wrist", "--out", str(tmp_path / "table.pt"), "--epochs", "1"])
    stdout, _ = capsys.readouterr()
    assert code == 0 and "accuracy" in stdout  # the table

    rng = np.random.default_rng(7)
    save_demos(tmp_path / "other.npz", concat_chunks([episode(rng, 0) for _ in range(6)]), {"note": "held out"})
    fleetrl = [sys.executable, "-m", "fleetrl.cli.main"]
    done = subprocess.run([*fleetrl, "reward", "eval", str(out), str(tmp_path / "other.npz"), "--json"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    scores = json.loads(done.stdout)
    assert scores["cameras"] == ["wrist"] and scores["episodes"] == 6
    assert sum(scores["frames"].values()) == 60 and scores["accuracy"] >= 0.7


def test_usage_errors_exit_2_naming_the_problem(tmp_path, capsys):
    unlabelled = write_buffer(tmp_path / "old", episodes=4, seed=1, with_success=False)
    out = str(tmp_path / "m.pt")
    assert main(["reward", "train", str(unlabelled), "--camera", "wrist", "--out", out]) == 2
    err = capsys.readouterr().err
    assert "no 'success' field" in err and "--label-from-reward" in err and len(err.strip().splitlines()) == 1
    assert main(["reward", "train", str(unlabelled), "--camera", "wrist", "--out", out, "--epochs", "1",
                 "--label-from-reward", "--json"]) == 0
    capsys.readouterr()

    assert main(["reward", "train", str(tmp_path / "absent"), "--camera", "wrist", "--out", out]) == 2
    assert "absent: neither a buffer folder nor a .npz" in capsys.readouterr().err
    assert main(["reward", "train", str(unlabelled), "--camera", "scene", "--out", out, "--label-from-reward"]) == 2
    assert "no camera 'scene' (cameras: state, wrist)" in capsys.readouterr().err
    (tmp_path / "junk.pt").write_bytes(b"junk")
    assert main(["reward", "eval", str(tmp_path / "junk.pt"), str(unlabelled)]) == 2
    assert "not a readable torch file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["reward", "train", str(unlabelled), "--camera", "wrist", "--out", out, "--held-out", "1.5"])
    assert exit_info.value.code == 2
