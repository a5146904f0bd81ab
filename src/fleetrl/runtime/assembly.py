"""Assembling a run on Ray: the one place where components become Ray actors.

Placement follows resources, the way GPUs are placed: an env worker driving a local robot asks
for that robot's resource (`robot_sim_panda`, ...), so on a cluster it lands on the node that
owns the robot (nodes offer them with `ray start --resources=...`, see `fleetrl robots`); the
learner asks for a CPU (or a GPU when `runtime.device` is cuda). On one machine with no cluster,
Ray starts in-process and offers the robots named in the run config.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from fleetrl.buffer.shard_layout import SHARDS_DIR, open_when_free
from fleetrl.buffer.shard_reader import ShardReader
from fleetrl.buffer.shard_writer import ShardWriter
from fleetrl.comm.ray_links import RayEnvLinks, RayLearnerLinks, ray_weight_fetcher
from fleetrl.comm.ray_reward import RemoteReward
from fleetrl.hardware.registry import ROBOTS
from fleetrl.rewards.config import RewardEntry, in_own_worker
from fleetrl.rewards.host import RewardHost
from fleetrl.runtime.config import RunConfig
from fleetrl.runtime.env_factory import worker_label
from fleetrl.runtime.env_worker import EnvWorker
from fleetrl.runtime.hub import RunHub
from fleetrl.runtime.inference_worker import InferenceWorker
from fleetrl.runtime.learner_worker import LearnerWorker
from fleetrl.runtime.shard_access import RemoteShardReader, ShardServer, ShardWritingLinks, shard_name


def robot_type_of(entry: str | dict[str, Any]) -> str | None:
    """The registry type of a local robot entry of `env.robots`; None for a robot server address."""
    kind = entry.get("type") if isinstance(entry, dict) else entry
    return kind if kind in ROBOTS and kind != "remote" else None


def local_robot_resources(config: RunConfig) -> dict[str, float]:
    """Ray resources that an in-process cluster offers for the robots this run names."""
    kinds = Counter(k for k in map(robot_type_of, config.env.robots) if k is not None)
    resources: dict[str, float] = {f"robot_{kind}": float(n) for kind, n in kinds.items()}
    if kinds:
        resources["robot"] = float(sum(kinds.values()))
    return resources


def start_ray(config: RunConfig) -> None:
    """Join the configured cluster, or start an in-process one on loopback offering the robots."""
    if ray.is_initialized():
        return
    if config.runtime.ray_address:
        ray.init(address=config.runtime.ray_address, include_dashboard=False, log_to_driver=False)
        return
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # keep the local cluster on loopback
    # A raylet can register late on a loaded 2-core machine; Ray's default wait then fails start-up.
    os.environ.setdefault("RAY_raylet_start_wait_time_s", "120")
    ray.init(
        address="local",
        num_cpus=max(2, os.cpu_count() or 2),
        resources=local_robot_resources(config),
        include_dashboard=False,
        log_to_driver=False,
        _node_ip_address="127.0.0.1",
    )


def _where() -> dict:
    """This worker's process id and Ray node, for `workers.json` and placement tests."""
    return {"pid": os.getpid(), "node_id": ray.get_runtime_context().get_node_id()}


class _HubActor(RunHub):
    pass


class _EnvActor:
    def __init__(self, config: RunConfig, index: int, hub, inference, seed: int, buffer_path=None,
                 reward_worker=None) -> None:
        import torch

        torch.set_num_threads(1)  # many env workers share the machine's cores
        from fleetrl.policies import build_policy

        links = RayEnvLinks(hub, inference, config.runtime.channel_capacity, config.runtime.call_timeout_s)
        self.shard_writer = None
        if config.buffer.storage == "disk" and config.buffer.writer == "env":
            self.shard_writer = _env_shard_writer(config, index, buffer_path)
            links = ShardWritingLinks(links, self.shard_writer)
        factory = lambda obs_space, act_space: build_policy(config.policy, obs_space, act_space, seed=seed)  # noqa: E731
        own_reward = None
        if reward_worker is not None:
            own_reward = RemoteReward(reward_worker, worker_label(config.env, index), config.runtime.call_timeout_s)
        self.worker = EnvWorker(config, index, links, factory, seed, own_reward)

    def run(self) -> dict:
        stats = vars(self.worker.run())
        if self.shard_writer is not None:
            self.shard_writer.close()
        return stats

    def collect(self, episodes: int) -> dict:
        stats = vars(self.worker.collect(episodes))
        if self.shard_writer is not None:  # acknowledged before the learner's training phase reads it
            self.shard_writer.commit()
        return stats

    def where(self) -> dict:
        return _where()


class _LearnerActor:
    def __init__(self, config: RunConfig, observation_space, action_space, hub, seed: int, state=None,
                 buffer_path=None) -> None:
        links = RayLearnerLinks(hub, config.runtime.call_timeout_s)
        self.buffer_path, self.timeout_s = buffer_path, config.runtime.call_timeout_s
        self.worker = LearnerWorker(config, observation_space, action_space, links, seed, buffer_path)
        if state is not None:
            self.worker.load_state(state)

    def add_chunk(self, chunk: dict) -> int:
        return self.worker.add_chunk(chunk)

    def run(self) -> dict:
        return self.worker.run()

    def train(self, steps: int) -> dict:
        return self.worker.train(steps)

    def publish(self) -> int:
        return self.worker.publish()

    def continue_versions_from(self, floor: int) -> None:
        self.worker.continue_versions_from(floor)

    def state(self, include_buffer: bool = False) -> dict:
        return self.worker.state(include_buffer)

    def stats(self) -> dict:
        return self.worker.stats()

    def settle(self) -> dict:
        return self.worker.settle()

    def close(self) -> None:
        self.worker.close()

    def attach_shards(self, local: list[str], remote: list[tuple]) -> None:
        """Writer "env": read shards `local` from this node's disk and (server, shard) pairs remotely."""
        root = Path(self.buffer_path) / SHARDS_DIR
        sources = [ShardReader(root / name) for name in local]
        sources += [RemoteShardReader(server, name, self.timeout_s) for server, name in remote]
        self.worker.attach_sources(sources)

    def where(self) -> dict:
        return _where()


class _InferenceActor:
    def __init__(self, config: RunConfig, observation_space, action_space, hub, seed: int) -> None:
        import torch

        torch.set_num_threads(1)
        from fleetrl.policies import build_policy

        factory = lambda: build_policy(config.policy, observation_space, action_space, seed=seed)  # noqa: E731
        self.worker = InferenceWorker(factory, ray_weight_fetcher(hub, config.runtime.call_timeout_s),
                                      deterministic=config.algorithm.needs().deterministic_acting)

    def act(self, obs):
        return self.worker.act(obs)

    def where(self) -> dict:
        return _where()


def spawn_hub(base_env_steps: int, base_updates: int, base_episodes: int, step_budget: int | None = None):
    return ray.remote(num_cpus=0)(_HubActor).remote(base_env_steps, base_updates, base_episodes, step_budget)


def spawn_learner(config: RunConfig, observation_space, action_space, hub, seed: int, state=None, buffer_path=None):
    gpu = 1 if config.runtime.device.startswith("cuda") else 0
    actor = ray.remote(num_cpus=1, num_gpus=gpu, max_concurrency=4, max_restarts=0)(_LearnerActor)
    return actor.remote(config, observation_space, action_space, hub, seed, state, buffer_path)


def spawn_env_worker(config: RunConfig, index: int, hub, inference, seed: int, buffer_path=None, reward_worker=None):
    kind = robot_type_of(config.env.robots[index]) if config.env.is_fleetrl_task else None
    resources = {f"robot_{kind}": 1.0} if kind is not None else {}
    actor = ray.remote(num_cpus=0, resources=resources, max_restarts=0)(_EnvActor)
    return actor.remote(config, index, hub, inference, seed, buffer_path, reward_worker)


class _RewardActor(RewardHost):
    def __init__(self, entries: list[RewardEntry], success_key: str | None) -> None:
        import torch

        torch.set_num_threads(1)  # one model call at a time; the cores belong to robots and learner
        super().__init__(entries, success_key=success_key)

    def where(self) -> dict:
        return _where()


def spawn_reward_worker(config: RunConfig):
    """The run's reward worker, hosting the reward entries marked `worker: own`; None when there
    are none. It asks for a GPU when one of its rewards `needs_gpu`. Its only state is each env
    worker's current episode, so Ray restarts it if it dies (that episode's verdict is lost)."""
    entries = in_own_worker(config.rewards)
    if not entries:
        return None
    gpu = 1 if any(entry.needs_gpu for entry in entries) else 0
    actor = ray.remote(num_cpus=0, num_gpus=gpu, max_restarts=3)(_RewardActor)
    return actor.remote(entries, config.env.success_key)


def _env_shard_writer(config: RunConfig, index: int, buffer_path) -> ShardWriter:
    """The shard env worker `index` writes on its node (a restarted worker reopens the same one)."""
    if buffer_path is None:
        raise ValueError("buffer.writer 'env' needs the run's buffer folder")
    path = Path(buffer_path) / SHARDS_DIR / shard_name(worker_label(config.env, index))
    return open_when_free(lambda: ShardWriter(path, config.buffer.durability, config.buffer.compression))


def spawn_shard_server(buffer_path, node_id: str):
    """A ShardServer on node `node_id`, serving the env workers' shards written there."""
    strategy = NodeAffinitySchedulingStrategy(node_id=node_id, soft=False)
    actor = ray.remote(num_cpus=0, max_concurrency=4, max_restarts=0, scheduling_strategy=strategy)(ShardServer)
    return actor.remote(str(buffer_path))


def spawn_inference_worker(config: RunConfig, observation_space, action_space, hub, seed: int):
    actor = ray.remote(num_cpus=0, max_concurrency=8, max_restarts=0)(_InferenceActor)
    return actor.remote(config, observation_space, action_space, hub, seed)
