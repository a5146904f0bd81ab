"""The reward worker: rewards computed in a Ray actor of their own, for every env worker."""

import json
import time

import numpy as np
import pytest
import ray
from ray.exceptions import RayActorError
from run_from_dict import train_dict

from fleetrl.buffer.scan import iter_chunks
from fleetrl.comm.ray_reward import RemoteReward
from fleetrl.core.errors import ChannelTimeout, WorkerFailure
from fleetrl.envs.experts import expert_for
from fleetrl.runtime.assembly import spawn_reward_worker
from fleetrl.runtime.config import RunConfig
from fleetrl.runtime.env_factory import make_worker_env

pytestmark = pytest.mark.integration

REWARDS = [{"type": "task", "weight": 0.0}, {"type": "success", "weight": 2.0, "worker": "own"}]


@pytest.fixture(scope="module")
def local_ray():
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
    yield
    ray.shutdown()


def run_config(rewards) -> RunConfig:
    return RunConfig.model_validate({
        "name": "rewards", "rewards": rewards,
        "env": {"id": "fleetrl/PickCube-v0", "kwargs": {"obs_mode": "state"}, "robots": ["sim_panda"]},
    })


def test_an_expert_episode_is_rewarded_by_the_reward_worker(local_ray):
    config = run_config(REWARDS)
    worker = spawn_reward_worker(config)
    env = make_worker_env(config.env, 0, seed=0, rewards=config.rewards,
                          own_reward=RemoteReward(worker, "sim_panda#0", timeout_s=30))
    expert = expert_for(env)
    env.reset(seed=0)
    steps, rewards, successes = 0, [], []
    while True:
        _, reward, terminated, truncated, info = env.step(expert.act(env.unwrapped.last_observation))
        steps += 1
        rewards.append(reward)
        successes.append(info["success"])
        if terminated or truncated:
            break
    env.close()
    assert successes[-1] and rewards == [2.0 if s else 0.0 for s in successes]
    assert ray.get(worker.served.remote(), timeout=30) == {"sim_panda#0": steps}
    assert spawn_reward_worker(run_config([{"type": "task"}])) is None  # nothing marked own: no worker


def test_a_reward_worker_that_does_not_answer_in_time_or_is_gone_is_named(local_ray):
    worker = spawn_reward_worker(run_config([{"type": "task", "worker": "own"}]))
    ray.get(worker.served.remote(), timeout=30)  # started
    impatient = RemoteReward(worker, "sim_panda#0", timeout_s=1e-4)  # no Ray call returns in 0.1 ms
    with pytest.raises(ChannelTimeout, match=r"reward worker \(score for sim_panda#0\): no answer within"):
        impatient(None, np.zeros(7), None, {"task_reward": 1.0})
    ray.kill(worker)  # no restart; the kill takes effect asynchronously, so wait until it has
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            ray.get(worker.served.remote(), timeout=30)
        except RayActorError:
            break
        time.sleep(0.1)
    with pytest.raises(WorkerFailure, match=r"reward worker is gone \(reset for sim_panda#0\)"):
        RemoteReward(worker, "sim_panda#0", timeout_s=30).reset()


def test_a_run_takes_its_rewards_from_the_reward_worker(tmp_path):
    config = {
        "name": "reward_worker",
        "env": {"id": "fleetrl/PickCube-v0", "kwargs": {"obs_mode": "state", "reward": "shaped"}, "robots": ["sim_panda"]},
        "rewards": [{"type": "task", "weight": -1.0, "worker": "own"}],  # shaped is in (0, 1]: negative only from here
        "policy": {"hidden_sizes": [32, 32]},
        "algorithm": {"batch_size": 32},
        "runtime": {"total_env_steps": 400, "max_wall_time_s": 120, "learning_starts": 100, "log_every_s": 1,
                    "eval_every_s": 1000, "eval_episodes": 1, "call_timeout_s": 30},
    }
    result, run_dir = train_dict(config, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "reward" in json.loads((run_dir / "workers.json").read_text())
    rewards = np.concatenate([chunk["reward"] for _, _, chunk in iter_chunks(run_dir / "buffer")])
    assert len(rewards) >= 400 and rewards.max() < 0.0 and rewards.min() >= -1.0
