"""The human-in-the-loop path end to end, with the scripted expert playing the human."""

import json

import pytest
from run_from_dict import train_dict

from fleetrl.buffer.demos import save_demos
from fleetrl.buffer.tools import buffer_info
from fleetrl.envs.demonstrations import record_expert_demos

pytestmark = pytest.mark.integration


def test_hg_dagger_with_expert_takeovers_records_who_acted_and_logs_the_intervention_rate(tmp_path):
    chunk, meta = record_expert_demos("fleetrl/PickCube-v0", {"robot": "sim_panda", "obs_mode": "state"}, 10, seed=0)
    demos = save_demos(tmp_path / "demos.npz", chunk, meta)
    config = {
        "name": "hil",
        "env": {"id": "fleetrl/PickCube-v0", "kwargs": {"obs_mode": "state"}, "robots": ["sim_panda"]},
        "policy": {"hidden_sizes": [64, 64]},
        "algorithm": {"type": "hg_dagger", "batch_size": 64, "pretrain_steps": 50},
        "buffer": {"demos": [str(demos)]},
        "intervention": {"device": "expert", "rule": "divergence", "threshold": 0.6, "hold_steps": 5},
        "runtime": {"total_env_steps": 3000, "max_wall_time_s": 240, "learning_starts": 0, "log_every_s": 1,
                    "eval_every_s": 1000, "eval_episodes": 3, "eval_first_weights": True,
                    "max_updates_per_env_step": 1.0, "call_timeout_s": 30},
    }
    result, run_dir = train_dict(config, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    rates = [line["intervention_rate"] for line in lines]
    assert all(0.0 <= rate <= 1.0 for rate in rates) and max(rates) > 0  # the expert did take over
    assert lines[-1]["interventions"] > 0 and lines[-1]["interventions_per_robot_hour"] > 0
    assert sum("eval_success_rate" in line for line in lines) >= 1  # the first weights were evaluated
    sources = buffer_info(run_dir / "buffer")["shards"][0]["sources"]
    assert sources["intervention"] > 0 and sources["online"] > 0  # who acted, recorded per step
    assert "taken over" in result.stdout  # the live view shows it
    # Every scalar the learner reports reaches metrics.jsonl: HG-DAgger's own losses and the replay's figures.
    assert lines[-1]["bc_loss"] >= 0 and 0 <= lines[-1]["bc_action_error"] <= 2
    assert {"buffer_cache_hit_rate", "buffer_sampleable", "update_time_s"} <= set(lines[-1])
    assert "bc_loss" in result.stdout  # and the live view shows the algorithm's metric names
