"""Run folders: created with their config, refused when they hold someone else's files."""

import pytest

from fleetrl.core.errors import ConfigError
from fleetrl.runtime.config import load_run_config, parse_run_config
from fleetrl.runtime.run_dir import RunDir


def make_config(**extra):
    data = {"name": "pick", "env": {"id": "fleetrl/PickCube-v0", "kwargs": {"obs_mode": "state"}, "robots": ["sim_panda"]}}
    data.update(extra)
    return parse_run_config(data, "test")


def test_create_names_the_folder_after_the_run_and_writes_the_resolved_config(tmp_path):
    config = make_config(seed=7)
    run = RunDir.create(config, root=tmp_path)
    assert run.path.parent == tmp_path
    assert run.name.startswith("pick-") and len(run.name) == len("pick-YYYYmmdd-HHMMSS")
    assert run.checkpoints.is_dir() and run.tensorboard.is_dir()
    assert run.metrics_path == run.path / "metrics.jsonl"
    assert run.learning_curve == run.path / "learning_curve.png"
    assert load_run_config(run.config_path) == config
    assert "max_wall_time_s" in run.config_path.read_text()  # defaults written out


def test_two_runs_in_the_same_second_get_distinct_folders(tmp_path):
    config = make_config()
    first, second = RunDir.create(config, root=tmp_path), RunDir.create(config, root=tmp_path)
    assert first.path != second.path


def test_create_in_a_given_empty_or_missing_folder(tmp_path):
    run = RunDir.create(make_config(), path=tmp_path / "a" / "b")
    assert run.is_run()
    (tmp_path / "empty").mkdir()
    assert RunDir.create(make_config(), path=tmp_path / "empty").is_run()


def test_create_refuses_a_non_empty_folder_that_is_not_a_run(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not empty and not a fleetrl run"):
        RunDir.create(make_config(), path=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_create_accepts_an_existing_run_folder(tmp_path):
    run = RunDir.create(make_config(), path=tmp_path / "run")
    again = RunDir.create(make_config(seed=3), path=run.path)
    assert again.config.seed == 3


def test_open_needs_a_run_folder_with_a_checkpoint(tmp_path):
    with pytest.raises(ConfigError, match="no such folder"):
        RunDir.open(tmp_path / "missing")
    with pytest.raises(ConfigError, match="not a fleetrl run folder"):
        RunDir.open(tmp_path)
    run = RunDir.create(make_config(), path=tmp_path / "run")
    with pytest.raises(ConfigError, match=r"run folder .*run: has no checkpoint"):
        RunDir.open(run.path)
    assert RunDir.open(run.path, require_checkpoint=False).config == make_config()
    (run.checkpoints / "ckpt-000001-x.pt").write_bytes(b"x")
    assert RunDir.open(run.path).path == run.path


def test_open_names_the_file_of_an_invalid_config(tmp_path):
    run = RunDir.create(make_config(), path=tmp_path / "run")
    (run.checkpoints / "ckpt-000001.pt").write_bytes(b"x")
    run.config_path.write_text("env: {id: fleetrl/PickCube-v0, robots: [sim_panda]}\nbogus: 1\n")
    with pytest.raises(ConfigError, match="config.yaml.bogus: unknown key"):
        RunDir.open(run.path)
