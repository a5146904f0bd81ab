"""Training runs end to end with real Ray workers (env, inference, learner), each with a deadline.

Pendulum-v1 (gymnasium, no robot) keeps them fast; the same workers drive robots in the demo and
the benchmarks.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

SMALL = [
    "runtime.total_env_steps=1500",
    "runtime.learning_starts=300",
    "runtime.log_every_s=1",
    "runtime.eval_every_s=5",
    "runtime.eval_episodes=2",
    "runtime.checkpoint_every_s=3",
    "runtime.call_timeout_s=20",
    "algorithm.batch_size=64",
    "policy.hidden_sizes=[32,32]",
]


def write_config(folder: Path, **runtime) -> Path:
    config = {
        "name": "pendulum",
        "env": {"id": "Pendulum-v1", "num_envs": 1},
        "policy": {"type": "mlp"},
        "algorithm": {"type": "sac"},
        "runtime": {"mode": "async", **runtime},
    }
    path = folder / "run.json"  # JSON is YAML
    path.write_text(json.dumps(config))
    return path


def train(*args, timeout=240):
    env = dict(os.environ, RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0")
    return subprocess.run(
        [sys.executable, "-m", "fleetrl.cli.main", "train", *args],
        capture_output=True, text=True, timeout=timeout, env=env,
    )


def records(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("mode, inference", [("async", "local"), ("async", "remote"), ("sync", "local")])
def test_a_run_trains_logs_checkpoints_and_ends_by_itself(tmp_path, mode, inference):
    run_dir = tmp_path / "run"
    config = write_config(tmp_path)
    result = train(str(config), "--run-dir", str(run_dir), *SMALL,
                   f"runtime.mode={mode}", f"runtime.inference={inference}", "runtime.sync_episodes_per_round=2")
    assert result.returncode == 0, result.stderr[-3000:]
    lines = records(run_dir)
    last = lines[-1]
    assert last["env_steps"] >= 1500
    if mode == "async":  # sync rounds end on whole episodes (2 of 200 steps here) instead
        assert last["env_steps"] <= 1500 + 32  # stopped at the first chunk (32 steps) past the budget
    assert last["updates"] > 0 and last["policy_version"] > 0
    assert last["buffer_transitions"] == last["env_steps"]  # every step sent was acknowledged and counted
    assert "eval_success_rate" in last
    assert all(key in last for key in ("wall_time_s", "robot_utilisation", "staleness_mean"))
    assert (run_dir / "learning_curve.png").stat().st_size > 5000
    assert list((run_dir / "checkpoints").glob("*"))
    assert list((run_dir / "tensorboard").rglob("events.out.tfevents.*"))
    workers = json.loads((run_dir / "workers.json").read_text())
    assert {"learner", "Pendulum-v1#0"} <= set(workers)


def test_env_workers_can_write_their_own_shards_which_the_learner_reads(tmp_path):
    run_dir = tmp_path / "run"
    config = write_config(tmp_path)
    result = train(str(config), "--run-dir", str(run_dir), *SMALL, "env.num_envs=2", "buffer.writer=env")
    assert result.returncode == 0, result.stderr[-3000:]
    shards = sorted(p.name for p in (run_dir / "buffer" / "shards").iterdir())
    assert shards == ["Pendulum-v1-0", "Pendulum-v1-1"]  # one writer per env worker, none for the learner
    last = records(run_dir)[-1]
    assert last["updates"] > 0
    assert last["buffer_transitions"] == last["env_steps"] >= 1500  # the learner counted every shard's last records
    assert last["env_steps"] <= 1500 + 2 * 32  # the hub stops each worker at its next chunk past the budget


def test_resume_continues_the_counters_and_the_curve(tmp_path):
    run_dir = tmp_path / "run"
    config = write_config(tmp_path)
    first = train(str(config), "--run-dir", str(run_dir), *SMALL)
    assert first.returncode == 0, first.stderr[-3000:]
    first_lines = records(run_dir)
    before = first_lines[-1]
    second = train("--resume", str(run_dir), "runtime.total_env_steps=3000")
    assert second.returncode == 0, second.stderr[-3000:]
    resumed = records(run_dir)[len(first_lines):]
    assert resumed
    assert resumed[0]["env_steps"] >= before["env_steps"] * 0.9  # counters continue, not from zero
    assert resumed[0]["updates"] >= before["updates"] * 0.9
    assert resumed[-1]["env_steps"] >= 3000
    assert resumed[0]["wall_time_s"] > before["wall_time_s"] - 5.0  # the curve's clock continues too


def _kill_learner_when_training(run_dir: Path, proc: subprocess.Popen, timeout_s: float = 120) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"training ended before the learner was killed: {proc.stderr.read()[-2000:]}")
        lines = records(run_dir) if (run_dir / "metrics.jsonl").exists() else []
        if lines and lines[-1]["updates"] > 50 and (run_dir / "workers.json").exists():
            pid = json.loads((run_dir / "workers.json").read_text())["learner"]["pid"]
            os.kill(pid, signal.SIGKILL)
            return pid
        time.sleep(0.5)
    raise AssertionError("the learner never got going")


def _start(config: Path, run_dir: Path, *extra: str) -> subprocess.Popen:
    env = dict(os.environ, RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0")
    return subprocess.Popen(
        [sys.executable, "-m", "fleetrl.cli.main", "train", str(config), "--run-dir", str(run_dir), *SMALL, *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


def _acknowledged_on_disk(buffer: Path) -> int:
    from fleetrl.buffer.index import ShardIndex
    from fleetrl.buffer.shard_layout import INDEX_FILE, find_shards

    total = 0
    for shard in find_shards(buffer):
        index = ShardIndex(shard / INDEX_FILE, readonly=True)
        total += index.transitions()
        index.close()
    return total


def test_a_run_killed_with_sigkill_resumes_with_every_acknowledged_transition(tmp_path):
    run_dir = tmp_path / "run"
    env = dict(os.environ, RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0")
    proc = subprocess.Popen(
        [sys.executable, "-m", "fleetrl.cli.main", "train", str(write_config(tmp_path)), "--run-dir", str(run_dir),
         *SMALL, "runtime.total_env_steps=100000", "runtime.max_wall_time_s=300"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            lines = records(run_dir) if (run_dir / "metrics.jsonl").exists() else []
            if lines and lines[-1]["buffer_transitions"] >= 1200 and list((run_dir / "checkpoints").glob("*")):
                break
            time.sleep(0.3)
        else:
            raise AssertionError("the run never acknowledged 1200 transitions")
        workers = json.loads((run_dir / "workers.json").read_text())
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and everything it started, at once
        for info in workers.values():  # Ray workers, wherever they sit
            try:
                os.kill(info["pid"], signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    acknowledged = max(line["buffer_transitions"] for line in records(run_dir))
    assert _acknowledged_on_disk(run_dir / "buffer") >= acknowledged
    killed_at = records(run_dir)[-1]
    resumed = train("--resume", str(run_dir), f"runtime.total_env_steps={int(killed_at['env_steps']) + 1500}",
                    "runtime.max_wall_time_s=300")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    after = [line for line in records(run_dir) if line["wall_time_s"] > killed_at["wall_time_s"]]
    assert after and after[0]["buffer_transitions"] >= acknowledged  # nothing acknowledged was lost
    assert after[-1]["buffer_transitions"] >= acknowledged + 1000  # and new data went on arriving
    assert after[-1]["updates"] > max(line["updates"] for line in records(run_dir)[: len(records(run_dir)) - len(after)])


def test_a_killed_learner_is_restarted_and_the_run_finishes(tmp_path):
    run_dir = tmp_path / "run"
    proc = _start(write_config(tmp_path), run_dir, "runtime.total_env_steps=4000", "runtime.max_env_steps_ahead=500")
    try:
        killed = _kill_learner_when_training(run_dir, proc)
        _, stderr = proc.communicate(timeout=180)
    finally:
        proc.kill()
    assert proc.returncode == 0, stderr[-3000:]
    workers = json.loads((run_dir / "workers.json").read_text())
    assert workers["learner"]["pid"] != killed  # a new learner took over
    assert records(run_dir)[-1]["env_steps"] >= 4000


def test_a_killed_learner_without_restarts_stops_the_run_cleanly(tmp_path):
    run_dir = tmp_path / "run"
    proc = _start(write_config(tmp_path), run_dir, "runtime.total_env_steps=100000",
                  "runtime.max_wall_time_s=300", "runtime.restart_failed_workers=false")
    try:
        _kill_learner_when_training(run_dir, proc)
        started = time.monotonic()
        _, stderr = proc.communicate(timeout=120)
        took = time.monotonic() - started
    finally:
        proc.kill()
    assert proc.returncode == 1
    assert "learner failed" in stderr and "may not be restarted" in stderr
    assert took < 60  # an explained exit, not a hang


def test_a_bad_config_key_fails_before_anything_starts(tmp_path):
    config = write_config(tmp_path)
    result = train(str(config), "runtime.totl_env_steps=5", timeout=60)
    assert result.returncode == 2
    assert "runtime.totl_env_steps: unknown key" in result.stderr
    result = train(str(config), "env.id=NoSuchEnv-v9", timeout=60)
    assert result.returncode == 2 and "env.id" in result.stderr


def test_sigterm_checkpoints_and_says_how_to_resume(tmp_path):
    run_dir = tmp_path / "run"
    proc = _start(write_config(tmp_path), run_dir, "runtime.total_env_steps=100000", "runtime.max_wall_time_s=300")
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (
            (run_dir / "metrics.jsonl").exists() and records(run_dir) and records(run_dir)[-1]["updates"] > 20
        ):
            time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=90)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr[-2000:]
    assert f"fleetrl train --resume {run_dir}" in stderr
    assert list((run_dir / "checkpoints").glob("*"))


def test_a_killed_inference_worker_is_named_and_replaced(tmp_path):
    run_dir = tmp_path / "run"
    proc = _start(write_config(tmp_path), run_dir, "runtime.total_env_steps=4000", "runtime.inference=remote")
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (
            (run_dir / "metrics.jsonl").exists() and records(run_dir) and records(run_dir)[-1]["updates"] > 20
        ):
            time.sleep(0.5)
        killed = json.loads((run_dir / "workers.json").read_text())["inference0"]["pid"]
        os.kill(killed, signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=180)
    finally:
        proc.kill()
    assert proc.returncode == 0, stderr[-3000:]
    assert "inference0 failed" in stdout.replace("\n", " ")
    assert json.loads((run_dir / "workers.json").read_text())["inference0"]["pid"] != killed
    assert records(run_dir)[-1]["env_steps"] >= 4000
