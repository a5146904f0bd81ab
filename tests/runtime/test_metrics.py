"""Metrics: JSON lines, TensorBoard scalars read back, a learning curve, and resuming."""

import json
import math

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from fleetrl.runtime.metrics import MetricsLogger, read_metrics
from fleetrl.runtime.run_dir import RunDir


@pytest.fixture
def run(tmp_path):
    run = RunDir(tmp_path / "pick-20250101-120000")
    run.tensorboard.mkdir(parents=True)
    return run


def record(i):
    return {
        "wall_time_s": 10.0 * i, "env_steps": 100 * i, "updates": 50 * i, "episodes": i,
        "success_rate": i / 10, "return_mean": float(i), "eval_success_rate": i / 20,
        "eval_return_mean": i / 2, "robot_utilisation": {"sim_panda#0": 0.9, "sim_arx#1": np.float32(0.5)},
        "staleness_mean": 1.5, "staleness_max": 4, "updates_per_s": 5.0, "env_steps_per_s": np.float64(10.0),
        "actor_loss": -1.0 * i, "phase": "train",
    }


def scalars(run):
    acc = EventAccumulator(str(run.tensorboard))
    acc.Reload()
    return acc


def test_every_record_is_one_json_line(run):
    with MetricsLogger(run) as metrics:
        for i in range(1, 4):
            metrics.log(record(i))
        # flushed per record: readable while the logger is still open
        lines = run.metrics_path.read_text().splitlines()
    assert len(lines) == 3
    parsed = [json.loads(line) for line in lines]
    assert parsed[2]["env_steps"] == 300
    assert parsed[2]["robot_utilisation"] == {"sim_panda#0": 0.9, "sim_arx#1": 0.5}
    assert parsed[0]["phase"] == "train"


def test_non_finite_numbers_become_null_and_bad_values_are_refused(run):
    with MetricsLogger(run) as metrics:
        written = metrics.log({"env_steps": 1, "success_rate": math.nan, "return_mean": np.float32(np.inf)})
        assert written == {"env_steps": 1, "success_rate": None, "return_mean": None}
        with pytest.raises(TypeError, match="'weird'"):
            metrics.log({"weird": [1, 2]})
    assert json.loads(run.metrics_path.read_text().splitlines()[0])["success_rate"] is None


def test_numeric_fields_are_tensorboard_scalars_at_env_steps(run):
    with MetricsLogger(run) as metrics:
        for i in range(1, 4):
            metrics.log(record(i))
    acc = scalars(run)
    tags = set(acc.Tags()["scalars"])
    assert {"success_rate", "eval_success_rate", "actor_loss", "robot_utilisation/sim_panda#0",
            "robot_utilisation/sim_arx#1", "staleness_max", "env_steps_per_s"} <= tags
    assert "phase" not in tags
    events = acc.Scalars("success_rate")
    assert [e.step for e in events] == [100, 200, 300]
    assert [e.value for e in events] == pytest.approx([0.1, 0.2, 0.3])
    assert acc.Scalars("robot_utilisation/sim_arx#1")[0].value == pytest.approx(0.5)


def test_learning_curve_png_is_written(run):
    with MetricsLogger(run) as metrics:
        for i in range(1, 20):
            metrics.log(record(i))
        path = metrics.plot_learning_curve()
    assert path == run.learning_curve
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 20_000
    from PIL import Image

    with Image.open(path) as image:
        pixels = np.asarray(image.convert("L"))
    assert pixels.std() > 10  # lines and text, not a blank canvas


def test_learning_curve_without_records_still_draws(run):
    with MetricsLogger(run) as metrics:
        assert metrics.plot_learning_curve().stat().st_size > 5_000


def test_resume_continues_the_records_and_skips_a_torn_line(run):
    with MetricsLogger(run) as metrics:
        metrics.log(record(1))
        metrics.log(record(2))
    with open(run.metrics_path, "a") as handle:
        handle.write('{"env_steps": 3')  # killed mid-line
    with MetricsLogger(run, resume=True) as metrics:
        assert metrics.last_record()["env_steps"] == 200
        metrics.log(record(3))
        assert [r["env_steps"] for r in metrics.records] == [100, 200, 300]
        metrics.plot_learning_curve()
    assert [r["env_steps"] for r in read_metrics(run.metrics_path)] == [100, 200, 300]


def test_a_fresh_logger_starts_the_file_over(run):
    with MetricsLogger(run) as metrics:
        metrics.log(record(1))
    with MetricsLogger(run) as metrics:
        assert metrics.last_record() is None
        metrics.log(record(2))
    assert [r["env_steps"] for r in read_metrics(run.metrics_path)] == [200]
