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

    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 2, "node_ip_address": "127.0.0.1", "include_dashboard": False},
    )
    robot_node = cluster.add_node(num_cpus=0, resources={"robot": 1, "robot_sim_panda": 1}, node_ip_address="127.0.0.1")
    cluster.wait_for_nodes(timeout=60)
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
