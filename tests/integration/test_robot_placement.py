"""Placement by resources on a two-node Ray cluster: the env worker goes where the robot is."""

import json

import pytest

from fleetrl.runtime.config import parse_run_config
from fleetrl.runtime.run_dir import RunDir
from fleetrl.runtime.trainer import Trainer

pytestmark = pytest.mark.integration


@pytest.fixture
def cluster():
    from ray.cluster_utils import Cluster

    # Ray waits a fixed 30 s for a new raylet to register (not configurable); on a loaded 2-core
    # machine the GCS can miss that. Starting the cluster is not what these tests check, so a
    # cluster that failed to start is torn down and started once more.
    for attempt in range(2):
        cluster = Cluster()
        try:
            cluster.add_node(num_cpus=2, node_ip_address="127.0.0.1", include_dashboard=False)  # the head
            robot_node = cluster.add_node(num_cpus=0, resources={"robot": 1, "robot_sim_panda": 1},
                                          node_ip_address="127.0.0.1")
            cluster.wait_for_nodes(timeout=60)
            break
        except Exception:  # noqa: BLE001 - Ray raises a bare Exception for a node that timed out
            cluster.shutdown()
            if attempt:
                raise
    try:
        yield cluster, robot_node
    finally:
        cluster.shutdown()


def test_env_worker_lands_on_the_robot_node_and_the_learner_elsewhere(cluster, tmp_path):
    cluster, robot_node = cluster
    config = parse_run_config(
        {
            "name": "placement",
            "env": {"id": "fleetrl/PickCube-v0", "robots": ["sim_panda"]},
            "runtime": {"ray_address": cluster.address, "call_timeout_s": 60},
        },
        "test",
    )
    trainer = Trainer(config, RunDir.create(config, path=tmp_path / "run"))
    try:
        trainer.start()
        where = json.loads((tmp_path / "run" / "workers.json").read_text())
    finally:
        trainer.shutdown()
    assert where["sim_panda#0"]["node_id"] == robot_node.node_id
    assert where["learner"]["node_id"] != robot_node.node_id


def test_env_worker_writes_its_shard_on_the_robot_node_and_the_learner_trains_from_it(cluster, tmp_path):
    """buffer.writer env: the data stays where it is produced; the learner, on the other node,
    reads it only through that node's shard server (it is not given the shard's folder)."""
    from fleetrl.runtime.async_runner import AsyncRun
    from fleetrl.runtime.progress import LiveProgress

    cluster, robot_node = cluster
    config = parse_run_config(
        {
            "name": "shards",
            "env": {"id": "fleetrl/PickCube-v0", "robots": ["sim_panda"]},
            "policy": {"hidden_sizes": [32, 32]},
            "algorithm": {"batch_size": 32},
            "buffer": {"writer": "env"},
            "runtime": {
                "ray_address": cluster.address, "call_timeout_s": 60, "total_env_steps": 800,
                "learning_starts": 200, "eval_every_s": 1000, "eval_episodes": 1, "max_wall_time_s": 150,
                "log_every_s": 1,
            },
        },
        "test",
    )
    trainer = Trainer(config, RunDir.create(config, path=tmp_path / "run"))
    try:
        trainer.start()
        with LiveProgress(800, 150, trainer.worker_names, log_every_s=1) as progress:
            code = AsyncRun(trainer).run(progress)
        stats = trainer.call(trainer.learner.stats.remote())
        servers = dict(trainer.shard_servers)
    finally:
        trainer.shutdown()
    assert code == 0, trainer.failure
    assert list(servers) == [robot_node.node_id]  # one shard server, on the robot node
    assert (tmp_path / "run" / "buffer" / "shards" / "sim_panda-0" / "index.sqlite").exists()
    assert not (tmp_path / "run" / "buffer" / "shards" / "learner").exists()  # the learner wrote nothing
    assert stats["buffer_transitions"] >= 600 and stats["updates"] > 0
