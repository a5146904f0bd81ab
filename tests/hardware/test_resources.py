"""Healthy robots become Ray custom resources; down robots and mDNS finds do not."""

from __future__ import annotations

import json
import shlex
import sys

from fleetrl.core.types import Health
from fleetrl.hardware.discovery.inventory import RobotRecord
from fleetrl.hardware.resources import (
    kind_resource,
    name_resource,
    ray_start_args,
    ray_start_command,
    robot_resources,
)


def record(name: str, kind: str, status: str = "ok", source: str = "local") -> RobotRecord:
    return RobotRecord(name, kind, 7, [], source, None, Health(status).to_dict())


FLEET = [record("panda0", "sim_panda"), record("arx0", "sim_arx")]


def test_two_healthy_robots() -> None:
    assert robot_resources(FLEET) == {
        "robot": 2,
        "robot_sim_panda": 1,
        "robot_sim_arx": 1,
        "robot_name:panda0": 1,
        "robot_name:arx0": 1,
    }


def test_kinds_are_counted_and_unhealthy_robots_left_out() -> None:
    records = [
        record("p0", "sim_panda"),
        record("p1", "sim_panda", "degraded"),
        record("p2", "sim_panda", "down"),
        record("p3", "sim_panda", "disconnected"),
        record("s0", "sim_panda", source="server"),
    ]
    resources = robot_resources(records)
    assert resources["robot"] == 3 and resources["robot_sim_panda"] == 3
    assert "robot_name:p2" not in resources and "robot_name:p3" not in resources
    assert all(isinstance(v, float) and v.is_integer() for v in resources.values())


def test_mdns_finds_are_not_offered_unless_asked() -> None:
    seen = [record("far", "sim_arx", source="mdns")]
    assert robot_resources(seen) == {}
    assert robot_resources(seen, sources=("mdns",)) == {"robot": 1, "robot_sim_arx": 1, "robot_name:far": 1}


def test_names_are_reduced_to_safe_characters() -> None:
    assert kind_resource("sim panda/v2") == "robot_sim_panda_v2"
    assert name_resource("lab arm #1") == "robot_name:lab_arm__1"
    assert name_resource("my_group_1") == "robot_name:my-group-1"  # not a placement-group name
    assert name_resource("arx-0.left") == "robot_name:arx-0.left"


def test_ray_start_args_is_one_json_argument() -> None:
    (arg,) = ray_start_args(FLEET)
    flag, _, payload = arg.partition("=")
    assert flag == "--resources"
    assert json.loads(payload) == {k: int(v) for k, v in robot_resources(FLEET).items()}
    assert shlex.split(ray_start_command(FLEET)) == ["ray", "start", arg]
    assert ray_start_args([record("x", "y", "down")]) == []


def test_no_ray_import() -> None:
    assert "fleetrl.hardware.resources" in sys.modules
    import subprocess

    code = "import sys, fleetrl.hardware.resources; print('ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "False"
