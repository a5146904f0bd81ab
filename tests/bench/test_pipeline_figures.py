"""The arithmetic of `fleetrl bench pipeline` on hand-made hub snapshots (no Ray, no robots)."""

import math

import pytest

from fleetrl.bench.pipeline import (
    FIGURES,
    Observed,
    SnapshotLog,
    episode_steps,
    percentile,
    run_config,
    speedup,
    window_figures,
)
from fleetrl.core.errors import FleetrlError


def worker(env_steps, episodes=0, acting_s=0.0, waiting_s=0.0, inference_s=0.0, successes=0,
           policy_version=1, inference_ms=(), staleness_sum=0.0):
    return {"env_steps": env_steps, "episodes": episodes, "successes": successes, "acting_s": acting_s,
            "waiting_s": waiting_s, "inference_s": inference_s, "policy_version": policy_version,
            "inference_ms": list(inference_ms), "staleness_sum": staleness_sum}


def snapshot(workers, updates, update_time_s, ages):
    learner = {"update_time_s": update_time_s} if updates or update_time_s or "learner" in ages else {}
    return {"workers": workers, "updates": updates, "learner": learner, "heartbeat_age_s": ages,
            "env_steps": sum(w["env_steps"] for w in workers.values())}


def test_as_of_is_the_report_time_not_the_snapshot_time():
    observed = Observed(100.0, snapshot({"a": worker(32)}, 0, 0.0, {"a": 2.5, "learner": 0.1}))
    assert observed.as_of("a") == pytest.approx(97.5)
    assert observed.as_of("learner") == pytest.approx(99.9)


def test_window_subtracts_the_start_counters_over_each_reporters_own_times():
    # Robot a reported 1.0 s before the start snapshot and 3.0 s before the end one: its window
    # is (200 - 3) - (10 - 1) = 188 s. The learner reported 0.5 s before each: 190 s.
    start = Observed(10.0, snapshot({"a": worker(32, 0, acting_s=3.0)}, 5, 0.5, {"a": 1.0, "learner": 0.5}))
    end = Observed(200.0, snapshot({"a": worker(1912, 18, acting_s=185.0, waiting_s=1.88, inference_s=0.94)},
                                   385, 38.5, {"a": 3.0, "learner": 0.5}))
    figures = window_figures(start, end, ["a"], max_episode_steps=100, latencies_ms=[1.0, 2.0, 3.0])
    assert figures["window_s"] == pytest.approx(188.0)
    assert figures["env_steps"] == 1880 and figures["episodes"] == 18 and figures["updates"] == 380
    assert figures["env_steps_per_s_per_robot"] == pytest.approx(10.0)
    assert figures["gen_s_per_episode"] == pytest.approx(10.0)  # 100 steps at 10 steps/s
    assert figures["train_s_per_update"] == pytest.approx(190.0 / 380)
    assert figures["robot_duty_cycle"] == pytest.approx(182.0 / 188.0)
    assert figures["updates_per_env_step"] == pytest.approx((380 / 190.0) / 10.0)
    assert figures["update_compute_s"] == pytest.approx(0.1)
    assert figures["learner_busy"] == pytest.approx(38.0 / 190.0)
    assert figures["robot_waiting_share"] == pytest.approx(0.01)
    assert figures["robot_inference_share"] == pytest.approx(0.005)
    assert figures["inference_ms_p50"] == pytest.approx(2.0)
    assert set(FIGURES) <= set(figures)


def test_two_robots_average_their_rates_and_sum_their_steps():
    ages = {"a": 0.0, "b": 0.0, "learner": 0.0}
    start = Observed(0.0, snapshot({"a": worker(0), "b": worker(0)}, 0, 0.0, ages))
    end = Observed(100.0, snapshot({"a": worker(1000, 10, acting_s=90.0), "b": worker(500, 5, acting_s=45.0)},
                                   300, 30.0, ages))
    figures = window_figures(start, end, ["a", "b"], 100, [])
    # a makes an episode every 10 s, b every 20 s: 7.5 steps/s per robot, 100-step episodes.
    assert figures["gen_s_per_episode"] == pytest.approx(100 / 7.5)
    assert figures["robot_duty_cycle"] == pytest.approx(0.675)
    assert figures["updates_per_env_step"] == pytest.approx(300 / 1500)
    assert figures["inference_ms_p50"] is None and figures["inference_samples"] == 0


def test_no_updates_gives_no_training_figure_rather_than_infinity():
    ages = {"a": 0.0, "learner": 0.0}
    start = Observed(0.0, snapshot({"a": worker(10)}, 0, 0.0, ages))
    end = Observed(10.0, snapshot({"a": worker(110, 1, acting_s=10.0)}, 0, 0.0, ages))
    figures = window_figures(start, end, ["a"], 100, [])
    assert figures["train_s_per_update"] is None and figures["updates_per_env_step"] == 0.0


def test_a_robot_that_restarted_or_never_acted_is_refused():
    ages = {"a": 0.0, "learner": 0.0}
    start = Observed(0.0, snapshot({"a": worker(500)}, 0, 0.0, ages))
    with pytest.raises(FleetrlError, match="restarted"):
        window_figures(start, Observed(10.0, snapshot({"a": worker(32)}, 0, 0.0, ages)), ["a"], 100, [])
    with pytest.raises(FleetrlError, match="did not act"):
        window_figures(start, Observed(10.0, snapshot({"a": worker(500)}, 0, 0.0, ages)), ["a"], 100, [])


def test_episode_length_is_the_time_limit_unless_an_episode_succeeded():
    assert episode_steps(1150, 11, 0, 100) == 100.0  # the window cut an episode: steps still count
    assert episode_steps(1000, 0, 0, 100) == 100.0
    assert episode_steps(900, 10, 2, 100) == 90.0


def test_percentile_interpolates_and_is_none_when_empty():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile([4.0], 99) == 4.0
    assert percentile([], 50) is None


def test_speedup_is_sync_over_async_and_none_without_a_figure():
    result = speedup({"gen_s_per_episode": 20.0, "train_s_per_update": 0.6},
                     {"gen_s_per_episode": 10.0, "train_s_per_update": None})
    assert result == {"generation": 2.0, "training": None}


def test_snapshot_log_starts_once_every_robot_acted_and_the_learner_reported():
    log = SnapshotLog(["a", "b"])
    log.see(Observed(1.0, snapshot({"a": worker(32)}, 0, 0.0, {"a": 0.0})))
    log.see(Observed(2.0, snapshot({"a": worker(32), "b": worker(32)}, 0, 0.0, {"a": 0.0, "b": 0.0})))
    assert log.start is None  # the learner has not reported yet
    steady = Observed(3.0, snapshot({"a": worker(64), "b": worker(32)}, 0, 0.0, {"a": 0.0, "b": 0.0, "learner": 0.0}))
    log.see(steady)
    log.see(Observed(4.0, snapshot({"a": worker(96), "b": worker(64)}, 3, 0.3, {"a": 0.0, "b": 0.0, "learner": 0.0})))
    assert log.start is steady


def test_latencies_are_keyed_by_step_deduplicated_and_cut_to_the_window():
    log = SnapshotLog(["a"])
    ages = {"a": 0.0, "learner": 0.0}
    # Steps 1-4 acted at random (version 0); the window starts at step 6.
    log.see(Observed(0.0, snapshot({"a": worker(4, policy_version=0, inference_ms=[0.01] * 4)}, 0, 0.0, {"a": 0.0})))
    log.see(Observed(1.0, snapshot({"a": worker(6, inference_ms=[0.01] * 4 + [5.0, 6.0])}, 0, 0.0, ages)))
    # The same report seen twice, then a report whose list overlaps the previous one.
    log.see(Observed(1.5, snapshot({"a": worker(6, inference_ms=[0.01] * 4 + [5.0, 6.0])}, 0, 0.0, ages)))
    end = Observed(2.0, snapshot({"a": worker(9, inference_ms=[6.0, 7.0, 8.0, 9.0])}, 1, 0.1, ages))
    log.see(end)
    assert log.start.t == 1.0
    assert sorted(log.window_latencies(end)) == [7.0, 8.0, 9.0]  # steps 7, 8, 9


def test_random_steps_before_the_first_weights_are_left_out():
    log = SnapshotLog(["a"])
    ages = {"a": 0.0, "learner": 0.0}
    log.see(Observed(0.0, snapshot({"a": worker(2, policy_version=0, inference_ms=[0.01, 0.01])}, 0, 0.0, ages)))
    log.see(Observed(1.0, snapshot({"a": worker(4, policy_version=0, inference_ms=[0.01] * 4)}, 0, 0.0, ages)))
    end = Observed(2.0, snapshot({"a": worker(6, policy_version=1, inference_ms=[0.01] * 4 + [3.0, 4.0])}, 1, 0.1, ages))
    log.see(end)
    assert log.start.t == 0.0
    assert sorted(log.window_latencies(end)) == [3.0, 4.0]


@pytest.mark.parametrize("setting", ["state", "pixels"])
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_run_configs_differ_only_in_mode_and_pace_the_robots(setting, mode):
    config = run_config(setting, mode, 30.0, robots=2)
    other = run_config(setting, "async" if mode == "sync" else "sync", 30.0, robots=2)
    assert config.runtime.mode == mode and config.env.paced and config.env.robots == ["sim_panda"] * 2
    skip = {"name": True, "runtime": {"mode"}}
    assert config.model_dump(exclude=skip) == other.model_dump(exclude=skip)
    assert config.runtime.learning_starts <= 100 and config.runtime.sync_episodes_per_round == 1
    assert config.algorithm.batch_size <= 200  # the learner has a batch after two episodes
    assert (config.policy.type, config.env.kwargs["obs_mode"]) == (("mlp", "state") if setting == "state" else ("cnn", "pixels"))
    assert math.isfinite(config.runtime.max_wall_time_s)
