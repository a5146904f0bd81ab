from fleetrl.runtime.hub import RunHub, WorkerStats


def test_newest_weights_win_and_older_versions_are_ignored():
    hub = RunHub()
    assert hub.weights(newer_than=0) is None
    hub.publish(2, ["w2"])
    hub.publish(1, ["w1"])  # late and older: ignored
    assert hub.weights(newer_than=0) == (2, ["w2"])
    assert hub.weights(newer_than=2) is None


def test_reports_add_up_and_a_restarted_worker_never_takes_counters_back():
    hub = RunHub(base_env_steps=100, base_episodes=3)
    hub.report(WorkerStats(name="a", env_steps=40, episodes=2))
    control = hub.report(WorkerStats(name="b", env_steps=10, episodes=1))
    assert control.env_steps == 150 and not control.stop
    hub.worker_restarted("a")
    hub.report(WorkerStats(name="a", env_steps=5))  # the new worker counts from zero
    snap = hub.snapshot()
    assert snap["env_steps"] == 155 and snap["episodes"] == 6


def test_stop_flag_and_learner_generation_reach_every_reporter():
    hub = RunHub()
    generation = hub.set_learner(["learner-1"])
    assert hub.learner() == (generation, ["learner-1"])
    assert hub.report_learner(10, {"backlog": 7.0}) is False
    control = hub.report(WorkerStats(name="a"))
    assert control.updates == 10 and control.learner_backlog == 7.0
    hub.request_stop()
    assert hub.report(WorkerStats(name="a")).stop and hub.report_learner(11, {})
    assert hub.set_learner(["learner-2"]) == generation + 1


def test_the_hub_stops_everyone_once_the_reported_steps_reach_the_budget():
    hub = RunHub(base_env_steps=100, step_budget=200)  # a resumed run: the budget counts its base
    assert not hub.report(WorkerStats(name="a", env_steps=60)).stop
    assert not hub.report(WorkerStats(name="b", env_steps=39)).stop  # 199 of 200
    assert hub.report(WorkerStats(name="b", env_steps=40)).stop  # 200: this reporter stops at once
    assert hub.report(WorkerStats(name="a", env_steps=60)).stop and hub.report_learner(5, {})
