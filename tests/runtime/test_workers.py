"""Env and learner workers as plain Python, wired together in one process (no Ray)."""

import time

import numpy as np

from fleetrl.comm.weights import payload_to_weights
from fleetrl.policies import build_policy
from fleetrl.runtime.config import parse_run_config
from fleetrl.runtime.env_worker import EnvWorker
from fleetrl.runtime.hub import RunHub
from fleetrl.runtime.inference_worker import InferenceWorker
from fleetrl.runtime.learner_worker import LearnerWorker


def config(buffer=None, **runtime):
    return parse_run_config(
        {
            "env": {"id": "Pendulum-v1"},
            "policy": {"hidden_sizes": [16, 16]},
            "algorithm": {"batch_size": 32},
            "buffer": buffer or {"storage": "memory"},
            "runtime": {"learning_starts": 64, "chunk_size": 16, "publish_every": 5, **runtime},
        },
        "test",
    )


class InProcessLinks:
    """Env links and learner links over a hub and a learner in this process."""

    def __init__(self, hub: RunHub):
        self.hub = hub
        self.learner = None
        self.chunks = []

    # env side
    def send_chunk(self, chunk):
        self.chunks.append(chunk)
        if self.learner is not None:
            self.learner.add_chunk(chunk)

    def report(self, stats):
        return self.hub.report(stats)

    def drain(self):
        pass  # chunks reach the learner as they are sent

    def fetch_weights(self, newer_than):
        found = self.hub.weights(newer_than)
        return None if found is None else (found[0], payload_to_weights(found[1][0]))



class InProcessLearnerLinks:
    def __init__(self, hub: RunHub):
        self.hub = hub

    def publish(self, version, payload):
        self.hub.publish(version, [payload])

    def report(self, updates, stats):
        return self.hub.report_learner(updates, stats)


def test_env_worker_streams_chunks_with_versions_and_loads_newer_weights():
    cfg = config()
    hub = RunHub()
    links = InProcessLinks(hub)
    worker = EnvWorker(cfg, 0, links, lambda o, a: build_policy(cfg.policy, o, a), seed=0)
    learner = LearnerWorker(cfg, worker.env.observation_space, worker.env.action_space, InProcessLearnerLinks(hub), seed=0)
    links.learner = learner
    worker.collect(episodes=1)  # Pendulum episodes last 200 steps
    assert sum(len(c["reward"]) for c in links.chunks) == 200
    assert all((c["policy_version"] == 0).all() for c in links.chunks)  # no weights yet: explored
    learner.train(steps=10)
    assert hub.latest_version == learner.version > 0
    worker.collect(episodes=1)
    newest = links.chunks[-1]["policy_version"]
    assert (newest == learner.version).all()  # acting picked up the published weights
    assert worker.stats.episodes == 2 and worker.stats.acting_s > 0


def test_learner_waits_for_learning_starts_and_reports_backlog(tmp_path):
    cfg = config(buffer={"storage": "disk", "durability": "chunk"})
    hub = RunHub()
    links = InProcessLinks(hub)
    worker = EnvWorker(cfg, 0, links, None, seed=1)
    spaces = worker.env.observation_space, worker.env.action_space
    learner = LearnerWorker(cfg, *spaces, InProcessLearnerLinks(hub), seed=0, buffer_path=tmp_path / "buffer")
    links.learner = learner
    assert not learner.may_update()
    worker.collect(episodes=1)
    assert learner.may_update() and learner.backlog() == 200 - 64
    learner.step()
    assert learner.backlog() == 200 - 64 - 1
    assert learner.stats()["buffer_transitions"] == 200  # durability "chunk": acknowledged on arrival
    learner.close()


def test_a_new_learner_on_the_same_buffer_folder_has_every_acknowledged_transition(tmp_path):
    cfg = config(buffer={"storage": "disk"})
    hub = RunHub()
    links = InProcessLinks(hub)
    worker = EnvWorker(cfg, 0, links, None, seed=4)
    spaces = worker.env.observation_space, worker.env.action_space
    learner = LearnerWorker(cfg, *spaces, InProcessLearnerLinks(hub), seed=0, buffer_path=tmp_path / "buffer")
    links.learner = learner
    worker.collect(episodes=2)
    learner.close()  # commits the group that was still pending
    again = LearnerWorker(cfg, *spaces, InProcessLearnerLinks(RunHub()), seed=0, buffer_path=tmp_path / "buffer")
    try:
        assert again.stats()["buffer_transitions"] == len(again.replay) == 400
        assert again.replay.sample(32)["obs"].shape == (32, 3)
    finally:
        again.close()


def test_learner_state_round_trip_continues_versions_and_weights():
    cfg = config()
    hub = RunHub()
    links = InProcessLinks(hub)
    worker = EnvWorker(cfg, 0, links, None, seed=2)
    spaces = worker.env.observation_space, worker.env.action_space
    learner = LearnerWorker(cfg, *spaces, InProcessLearnerLinks(hub), seed=0)
    links.learner = learner
    worker.collect(episodes=1)
    learner.train(steps=5)
    state = learner.state()
    fresh = LearnerWorker(cfg, *spaces, InProcessLearnerLinks(RunHub()), seed=0)
    fresh.load_state(state)
    assert fresh.version == learner.version and fresh.algorithm.updates == learner.algorithm.updates
    for key, value in learner.algorithm.policy_weights().items():
        assert np.array_equal(value.numpy(), fresh.algorithm.policy_weights()[key].numpy())
    assert fresh.warmup == cfg.algorithm.batch_size  # its replay was not saved: refill a batch first


def test_inference_worker_swaps_weights_without_blocking_act():
    cfg = config()
    hub = RunHub()
    links = InProcessLinks(hub)
    worker = EnvWorker(cfg, 0, links, None, seed=3)
    spaces = worker.env.observation_space, worker.env.action_space
    learner = LearnerWorker(cfg, *spaces, InProcessLearnerLinks(hub), seed=0)
    inference = InferenceWorker(lambda: build_policy(cfg.policy, *spaces), links.fetch_weights, poll_s=0.01)
    try:
        obs = spaces[0].sample()
        action, version = inference.act(obs)
        assert version == 0 and action.size == 0  # no weights yet: the env worker explores
        links.learner = learner
        worker.collect(episodes=1)
        learner.train(steps=5)
        deadline = time.monotonic() + 5.0
        while inference.version != learner.version and time.monotonic() < deadline:
            time.sleep(0.01)
        action, version = inference.act(obs)
        assert version == learner.version and action.shape == (1,)
    finally:
        inference.close()
