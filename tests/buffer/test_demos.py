"""Demonstration files: round trip, atomic writes, and recording the scripted expert."""

import os

import numpy as np
import pytest

from fleetrl.buffer.demos import DemoFileError, load_demos, save_demos
from fleetrl.core.transitions import SOURCE_DEMO, chunk_len
from fleetrl.envs.demonstrations import record_expert_demos


def test_round_trip_is_bit_identical(tmp_path, make_chunk):
    chunk = make_chunk(0, 20, source=SOURCE_DEMO, pixels=True)
    chunk["reward"][3] = np.float32(np.nan)  # bit patterns, not just values, must survive
    meta = {"env_id": "fleetrl/PickCube-v0", "env_kwargs": {"robot": "sim_panda"}, "episodes": 2, "successes": 2}
    path = save_demos(tmp_path / "sub" / "demos.npz", chunk, meta)
    loaded, loaded_meta = load_demos(path)
    assert set(loaded) == set(chunk)
    for key, value in chunk.items():
        assert loaded[key].dtype == value.dtype and loaded[key].shape == value.shape
        assert loaded[key].tobytes() == value.tobytes(), key
    assert {k: loaded_meta[k] for k in meta} == meta
    assert [p.name for p in path.parent.iterdir()] == ["demos.npz"]  # no temp files left


def test_a_failing_write_leaves_no_partial_file_and_the_old_file_intact(tmp_path, make_chunk, monkeypatch):
    path = tmp_path / "demos.npz"
    save_demos(path, make_chunk(0, 5, source=SOURCE_DEMO), {"episodes": 1})
    before = path.read_bytes()

    def disk_failure(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", disk_failure)  # fails after the bytes are written
    with pytest.raises(OSError, match="Input/output"):
        save_demos(path, make_chunk(100, 50, source=SOURCE_DEMO), {"episodes": 9})
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["demos.npz"]
    with pytest.raises(OSError):
        monkeypatch.setattr(os, "fsync", disk_failure)
        save_demos(tmp_path / "new.npz", make_chunk(0, 5, source=SOURCE_DEMO), {})
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["demos.npz"]
    assert load_demos(path)[1]["episodes"] == 1


def test_load_refuses_files_it_did_not_write(tmp_path, make_chunk):
    with pytest.raises(FileNotFoundError):
        load_demos(tmp_path / "nothing.npz")
    np.save(tmp_path / "array.npy", np.zeros(3))
    with pytest.raises(DemoFileError, match="npz"):
        load_demos(tmp_path / "array.npy")
    with pytest.raises(ValueError, match="numeric"):
        save_demos(tmp_path / "obj.npz", make_chunk(0, 1) | {"reward": np.array([object()])}, {})


def test_record_expert_demos_on_pick_cube_keeps_successful_episodes():
    chunk, meta = record_expert_demos(
        "fleetrl/PickCube-v0", {"robot": "sim_panda", "obs_mode": "state"}, episodes=3, seed=0
    )
    n = chunk_len(chunk)
    assert meta["successes"] == meta["episodes"] == 3 and meta["transitions"] == n
    assert meta["env_id"] == "fleetrl/PickCube-v0" and meta["env_kwargs"]["robot"] == "sim_panda"
    assert (chunk["source"] == SOURCE_DEMO).all() and (chunk["policy_version"] == -1).all()
    assert chunk["terminated"].sum() == 3  # each episode ends in success, a true terminal state
    assert chunk["reward"].sum() == 3.0  # sparse reward: 1.0 on each success step
    assert chunk["obs"].dtype == np.float32 and chunk["obs"].shape == (n, 14)
    assert np.abs(chunk["action"]).max() <= 1.0
    # consecutive transitions within an episode chain: next_obs of one is obs of the next
    cont = chunk["terminated"][:-1] == 0
    np.testing.assert_array_equal(chunk["next_obs"][:-1][cont], chunk["obs"][1:][cont])


def test_files_from_before_the_actor_and_success_fields_load_with_defaults(tmp_path, make_chunk):
    chunk = make_chunk(0, 6, source=SOURCE_DEMO)
    old = {k: v for k, v in chunk.items() if k not in ("actor", "success")}
    path = save_demos(tmp_path / "old.npz", old, {"episodes": 1})
    loaded, _ = load_demos(path)
    assert loaded["actor"].tolist() == [2] * 6  # demonstration steps: the expert acted
    assert loaded["success"].tolist() == [0.0] * 6 and loaded["success"].dtype == np.float32
