"""Robots offered as Ray custom resources schedule actors like GPUs do: one actor per arm.

Starts an in-process Ray on loopback (about 5 s) with the resources of a discovered fleet, and
shows that an actor asking for {"robot_sim_panda": 1} runs while a second one stays pending until
the first is gone. Every wait has a deadline.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fleetrl.core.types import Health
from fleetrl.hardware.discovery.inventory import RobotRecord, discover_robots
from fleetrl.hardware.node_config import NodeConfig
from fleetrl.hardware.resources import name_resource, robot_resources

pytestmark = pytest.mark.integration

FLEET = [
    RobotRecord("panda0", "sim_panda", 7, [], "local", None, Health("ok").to_dict()),
    RobotRecord("arx0", "sim_arx", 6, [], "local", None, Health("ok").to_dict()),
    RobotRecord("panda1", "sim_panda", 7, [], "local", None, Health("down", "e-stop").to_dict()),
]


@pytest.fixture(scope="module")
def ray_with_robots() -> Iterator[object]:
    ray = pytest.importorskip("ray")
    mp = pytest.MonkeyPatch()
    # Keep the single-node cluster on loopback (see MACHINE-NOTES: otherwise Ray picks eth0).
    mp.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    # Ray's own advice when a raylet registers late on a busy 2-core machine (seen in full runs).
    mp.setenv("RAY_raylet_start_wait_time_s", "120")
    resources = robot_resources(FLEET)
    ray.init(
        address="local",  # a fresh single-node cluster, even if another Ray runs on this machine
        num_cpus=1,
        resources=resources,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        log_to_driver=False,
    )
    try:
        yield ray
    finally:
        ray.shutdown()
        mp.undo()


def test_the_cluster_offers_the_healthy_robots(ray_with_robots: object) -> None:
    ray = ray_with_robots
    total = ray.cluster_resources()  # type: ignore[attr-defined]
    assert total["robot"] == 2 and total["robot_sim_panda"] == 1 and total["robot_sim_arx"] == 1
    assert total[name_resource("panda0")] == 1 and name_resource("panda1") not in total


def test_one_actor_per_panda_the_second_waits(ray_with_robots: object) -> None:
    ray = ray_with_robots

    @ray.remote(num_cpus=0, resources={"robot_sim_panda": 1})  # type: ignore[attr-defined]
    class PandaWorker:
        def ping(self) -> str:
            return "pong"

    first = PandaWorker.remote()
    assert ray.get(first.ping.remote(), timeout=60) == "pong"  # type: ignore[attr-defined]

    second = PandaWorker.remote()
    pending = second.ping.remote()
    ready, _ = ray.wait([pending], timeout=3.0)  # type: ignore[attr-defined]
    assert ready == [], "a second actor got the only Panda"

    ray.kill(first)  # type: ignore[attr-defined]  # the Panda is free again: the waiting actor gets it
    assert ray.get(pending, timeout=60) == "pong"  # type: ignore[attr-defined]
    ray.kill(second)  # type: ignore[attr-defined]


def test_an_actor_can_ask_for_one_robot_by_name(ray_with_robots: object) -> None:
    ray = ray_with_robots

    @ray.remote(num_cpus=0, resources={name_resource("arx0"): 1})  # type: ignore[attr-defined]
    def on_arx0() -> str:
        return "arx0"

    assert ray.get(on_arx0.remote(), timeout=60) == "arx0"  # type: ignore[attr-defined]


def test_discovered_fake_robots_feed_ray_init() -> None:
    records = discover_robots(NodeConfig.from_dict({"robots": [{"type": "fake", "name": "f0"}]}))
    assert robot_resources(records) == {"robot": 1, "robot_fake": 1, "robot_name:f0": 1}
