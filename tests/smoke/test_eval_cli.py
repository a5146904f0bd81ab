"""`fleetrl eval` evaluates a run folder's checkpoint end to end; a folder that is not a run exits 2."""

import json
import subprocess
import sys

import pytest

from fleetrl.runtime.checkpoint import save_checkpoint
from fleetrl.runtime.config import dump_run_config, parse_run_config
from fleetrl.runtime.env_factory import make_worker_env


def fleetrl(*args, timeout=240):
    return subprocess.run(
        [sys.executable, "-m", "fleetrl.cli.main", *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def run_folder(tmp_path):
    """A run folder as the trainer leaves it: config.yaml, checkpoints/ with one checkpoint."""
    policies = pytest.importorskip("fleetrl.policies")
    config = parse_run_config(
        {"name": "pick_cube_state", "seed": 3,
         "env": {"id": "fleetrl/PickCube-v0", "kwargs": {"obs_mode": "state"}, "robots": ["sim_panda"]}},
        "test",
    )
    env = make_worker_env(config.env, 0)
    policy = policies.build_policy(config.policy, env.observation_space, env.action_space, seed=config.seed)
    env.close()
    folder = tmp_path / "pick_cube_state-20250101-120000"
    (folder / "checkpoints").mkdir(parents=True)
    (folder / "config.yaml").write_text(dump_run_config(config))
    counters = {"env_steps": 1234, "updates": 600, "episodes": 12, "wall_time_s": 30.0, "policy_version": 30}
    save_checkpoint(folder, "step1234", {"policy_weights": policy.weights(), "counters": counters})
    return folder


@pytest.mark.smoke
def test_eval_prints_one_json_object(run_folder):
    result = fleetrl("eval", str(run_folder), "--episodes", "2", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["episodes"] == 2 and len(report["returns"]) == 2 and len(report["successes"]) == 2
    assert 0.0 <= report["success_rate"] <= 1.0
    assert isinstance(report["mean_return"], float)
    assert report["run_dir"] == str(run_folder)
    assert report["policy_version"] == 30 and report["env_steps"] == 1234
    assert report["mean_length"] == 100  # an untrained policy runs into PickCube's time limit


@pytest.mark.smoke
def test_eval_prints_a_table(run_folder):
    result = fleetrl("eval", str(run_folder), "--episodes", "1", "--stochastic")
    assert result.returncode == 0, result.stderr
    assert "success rate" in result.stdout and "stochastic" in result.stdout
    assert "episode 1/1" in result.stderr


@pytest.mark.smoke
def test_eval_of_a_folder_that_is_not_a_run_exits_2(tmp_path):
    (tmp_path / "notes.txt").write_text("not a run")
    result = fleetrl("eval", str(tmp_path), "--json")
    assert result.returncode == 2
    assert "not a fleetrl run folder" in result.stderr and str(tmp_path) in result.stderr
    assert result.stdout == ""
    missing = fleetrl("eval", str(tmp_path / "missing"))
    assert missing.returncode == 2 and "no such folder" in missing.stderr
