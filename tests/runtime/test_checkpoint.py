"""Checkpoints: round trip, pruning, and no kill or corruption ever loses the last good one."""

import logging
import random

import numpy as np
import pytest
import torch

from fleetrl.runtime import checkpoint
from fleetrl.runtime.checkpoint import (
    latest_pointer,
    list_checkpoints,
    load_latest_checkpoint,
    save_checkpoint,
)
from fleetrl.runtime.run_dir import RunDir


@pytest.fixture
def run(tmp_path):
    run = RunDir(tmp_path / "run")
    run.checkpoints.mkdir(parents=True)
    return run


def trainer_state(env_steps):
    """The shape of what the trainer saves."""
    return {
        "algorithm": {"actor": {"w": torch.randn(4, 3)}, "log_alpha": torch.tensor(0.1), "updates": env_steps // 2},
        "policy_weights": {"actor.w": torch.randn(4, 3)},
        "counters": {"env_steps": env_steps, "updates": env_steps // 2, "episodes": 3, "wall_time_s": 1.5,
                     "policy_version": 7},
        "rng": {"python": random.getstate(), "numpy": np.random.get_state(),
                "numpy_generator": np.random.default_rng(0).bit_generator.state, "torch": torch.get_rng_state()},
        "rate_limiter": {"tokens": 2.5},
        "buffer": {"obs": np.zeros((5, 14), np.float32), "size": 5},
    }


def test_round_trip_keeps_every_kind_of_value(run):
    state = trainer_state(100)
    path = save_checkpoint(run, 100, state)
    assert path.name == "ckpt-000001-100.pt"
    loaded = load_latest_checkpoint(run)
    assert torch.equal(loaded["algorithm"]["actor"]["w"], state["algorithm"]["actor"]["w"])
    assert loaded["counters"] == state["counters"]
    assert loaded["rng"]["python"] == state["rng"]["python"]
    np.testing.assert_array_equal(loaded["rng"]["numpy"][1], state["rng"]["numpy"][1])
    assert loaded["rng"]["numpy_generator"] == state["rng"]["numpy_generator"]
    assert torch.equal(loaded["rng"]["torch"], state["rng"]["torch"])
    np.testing.assert_array_equal(loaded["buffer"]["obs"], state["buffer"]["obs"])
    assert latest_pointer(run) == path


def test_no_checkpoint_loads_as_none(run, tmp_path):
    assert load_latest_checkpoint(run) is None
    assert load_latest_checkpoint(tmp_path / "nowhere") is None


def test_keeps_the_newest_k_and_points_latest_at_the_newest(run):
    for step in range(1, 6):
        save_checkpoint(run, f"step{step}", {"counters": {"env_steps": step}}, keep=3)
    names = [p.name for p in list_checkpoints(run)]
    assert names == ["ckpt-000003-step3.pt", "ckpt-000004-step4.pt", "ckpt-000005-step5.pt"]
    assert latest_pointer(run).name == "ckpt-000005-step5.pt"
    assert load_latest_checkpoint(run)["counters"]["env_steps"] == 5
    assert not list(run.checkpoints.glob(".*tmp"))


def test_order_comes_from_the_sequence_not_the_tag(run):
    save_checkpoint(run, "final", {"n": 1})
    save_checkpoint(run, 5, {"n": 2})
    assert load_latest_checkpoint(run)["n"] == 2


def test_an_exception_inside_torch_save_leaves_the_previous_checkpoint(run, monkeypatch):
    good = save_checkpoint(run, 1, trainer_state(1))
    real_save = torch.save

    def dying_save(obj, handle):
        real_save({"half": torch.zeros(1000)}, handle)
        handle.truncate(100)  # part of the bytes reached the file, then the process "died"
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint.torch, "save", dying_save)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(run, 2, trainer_state(2))
    assert list_checkpoints(run) == [good]
    assert latest_pointer(run) == good
    assert not list(run.checkpoints.glob(".*tmp"))
    assert load_latest_checkpoint(run)["counters"]["env_steps"] == 1


def test_a_kill_that_leaves_a_temp_file_is_invisible_to_loading(run):
    save_checkpoint(run, 1, {"n": 1})
    (run.checkpoints / ".ckpt-000002-2.pt.999.tmp").write_bytes(b"PK\x03\x04 partial")
    assert load_latest_checkpoint(run) == {"n": 1}
    assert save_checkpoint(run, 2, {"n": 2}).name == "ckpt-000002-2.pt"


def test_a_truncated_newest_file_falls_back_to_the_previous_with_a_warning(run, caplog):
    save_checkpoint(run, 1, trainer_state(1))
    newest = save_checkpoint(run, 2, trainer_state(2))
    data = newest.read_bytes()
    newest.write_bytes(data[: len(data) // 2])
    with caplog.at_level(logging.WARNING, logger="fleetrl.runtime.checkpoint"):
        state = load_latest_checkpoint(run)
    assert state["counters"]["env_steps"] == 1
    assert "skipping corrupt checkpoint" in caplog.text and newest.name in caplog.text


def test_garbage_in_every_file_loads_as_none(run, caplog):
    save_checkpoint(run, 1, {"n": 1}).write_bytes(b"garbage")
    assert load_latest_checkpoint(run) is None


def test_keep_must_be_positive(run):
    with pytest.raises(ValueError, match="keep"):
        save_checkpoint(run, 1, {}, keep=0)
