"""Replacing a worker that is still alive (its loop raised, its process did not end): the
replacement must get what the old one held, here the learner's buffer shard."""

import time

import numpy as np
import pytest
import ray
from ray.exceptions import RayActorError

from fleetrl.core.transitions import ChunkBuilder
from fleetrl.runtime.config import parse_run_config
from fleetrl.runtime.run_dir import RunDir
from fleetrl.runtime.trainer import Trainer

pytestmark = pytest.mark.integration


def pendulum_chunk(observation_space, n: int) -> dict:
    builder = ChunkBuilder(observation_space, chunk_size=n)
    rng = np.random.default_rng(0)
    for _ in range(n):
        obs, next_obs = observation_space.sample(), observation_space.sample()
        builder.append(obs, rng.uniform(-1, 1, 1).astype(np.float32), 0.0, next_obs, False, False, 1, robot=0)
    return builder.flush()


def test_a_learner_replaced_while_alive_hands_its_buffer_shard_to_the_new_one(tmp_path):
    config = parse_run_config({"name": "replace", "env": {"id": "Pendulum-v1"}, "runtime": {"call_timeout_s": 60}}, "test")
    trainer = Trainer(config, RunDir.create(config, path=tmp_path / "run"))
    try:
        trainer.start()
        old = trainer.learner
        trainer.call(old.add_chunk.remote(pendulum_chunk(trainer.observation_space, 48)))
        start = time.monotonic()
        trainer.restart_learner()  # the old learner is alive and holds the shard open for writing
        took = time.monotonic() - start
        # Everything the old learner received was acknowledged and is the new learner's:
        assert trainer.call(trainer.learner.stats.remote())["buffer_transitions"] == 48
        with pytest.raises(RayActorError):
            ray.get(old.stats.remote(), timeout=30)  # the old one was ended, not left holding the shard
        assert took < 25  # not the 30 s a replacement waits for a shard that is never let go
    finally:
        trainer.shutdown()
