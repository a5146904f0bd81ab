"""`env.success_key`: an env that reports success under its own name ("succeed", as gym-hil's
PandaPickCube does) is counted by the env worker, evaluation and the success reward when the key
is set, and by none of them when it is not."""

import gymnasium as gym
import numpy as np
import pytest

from fleetrl.core.messages import Control
from fleetrl.runtime.config import EnvConfig, parse_run_config
from fleetrl.runtime.env_factory import make_worker_env
from fleetrl.runtime.env_worker import EnvWorker
from fleetrl.runtime.evaluate import evaluate_policy


class SucceedEnv(gym.Env):
    """Three-step episodes whose last step reports info["succeed"] = True."""

    observation_space = gym.spaces.Box(-1, 1, (2,), np.float32)
    action_space = gym.spaces.Box(-1, 1, (1,), np.float32)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(2, np.float32), {}

    def step(self, action):
        self.t += 1
        return np.zeros(2, np.float32), 0.0, self.t >= 3, False, {"succeed": self.t >= 3}


gym.register("fleetrl_test/Succeed-v0", entry_point=SucceedEnv)
KEYS = [("succeed", 1.0), (None, 0.0)]


class Links:
    """An env worker's links that keep the chunks and never stop it."""

    def __init__(self):
        self.chunks = []

    def send_chunk(self, chunk):
        self.chunks.append(chunk)

    def report(self, stats):
        return Control(False, 0, 0, 0, 0, 0.0)

    def drain(self):
        pass

    def fetch_weights(self, newer_than):
        return None


class Still:
    def act(self, obs, deterministic=False):
        return np.zeros(1, np.float32)


@pytest.mark.parametrize(("key", "rate"), KEYS)
def test_evaluation_counts_successes_under_the_key(key, rate):
    config = EnvConfig(id="fleetrl_test/Succeed-v0", success_key=key)
    assert evaluate_policy(Still(), config, episodes=2, seed=0)["success_rate"] == rate


@pytest.mark.parametrize(("key", "rate"), KEYS)
def test_the_env_worker_counts_and_labels_successes_under_the_key(key, rate):
    config = parse_run_config({"env": {"id": "fleetrl_test/Succeed-v0", "success_key": key},
                               "buffer": {"storage": "memory"}, "runtime": {"chunk_size": 16}}, "test")
    links = Links()
    worker = EnvWorker(config, 0, links, None, seed=0)
    stats = worker.collect(episodes=2)
    assert stats.episodes == 2 and stats.successes == 2 * rate
    labels = np.concatenate([chunk["success"] for chunk in links.chunks])
    assert labels.tolist() == [0.0, 0.0, rate] * 2  # the step that reached the goal is labelled


@pytest.mark.parametrize(("key", "paid"), [("succeed", 5.0), (None, None)])
def test_the_success_reward_reads_the_key(key, paid):
    env = make_worker_env(EnvConfig(id="fleetrl_test/Succeed-v0", success_key=key), 0, rewards=[{"type": "success", "weight": 5.0}])
    env.reset(seed=0)
    zero = np.zeros(1, np.float32)
    if paid is None:  # without the key the env reports no success flag at all: an error, not 0.0 forever
        with pytest.raises(KeyError, match=r"info\['success'\] or info\['is_success'\].*env.success_key"):
            env.step(zero)
        return
    rewards = [env.step(zero)[1] for _ in range(3)]
    assert rewards == [0.0, 0.0, paid]
