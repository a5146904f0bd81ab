"""`fleetrl robots` end to end, as a user runs it: the example fleet, a bad config, a dead server."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.smoke

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "fleet_local.yaml"


def fleetrl(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fleetrl.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


def sims_exist() -> bool:
    return all(importlib.util.find_spec(f"fleetrl.hardware.robots.{m}") for m in ("sim_panda", "sim_arx"))


@pytest.mark.skipif(not sims_exist(), reason="the sim_panda/sim_arx robot modules do not exist yet")
def test_example_fleet_lists_healthy_panda_and_arx_as_json() -> None:
    result = fleetrl("robots", "--config", str(EXAMPLE), "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)  # stdout holds the JSON object and nothing else
    assert payload["node"] == socket.gethostname()
    robots = {r["name"]: r for r in payload["robots"]}
    cameras = [
        {"name": "wrist", "height": 128, "width": 128, "mount": "wrist"},
        {"name": "scene", "height": 128, "width": 128, "mount": "scene"},
    ]
    for name, kind, dof in (("panda0", "sim_panda", 7), ("arx0", "sim_arx", 6)):
        robot = robots[name]
        assert (robot["kind"], robot["dof"], robot["source"], robot["address"]) == (kind, dof, "local", None)
        assert robot["health"]["status"] == "ok" and robot["health"]["ok"] is True
        assert robot["cameras"] == cameras
    assert payload["resources"] == {
        "robot": 2,
        "robot_sim_panda": 1,
        "robot_sim_arx": 1,
        "robot_name:panda0": 1,
        "robot_name:arx0": 1,
    }


@pytest.mark.skipif(not sims_exist(), reason="the sim_panda/sim_arx robot modules do not exist yet")
def test_example_fleet_as_a_table_with_resources() -> None:
    result = fleetrl("robots", "--config", str(EXAMPLE), "--resources")
    assert result.returncode == 0, result.stderr
    for text in ("panda0", "arx0", "sim_panda", "sim_arx", "ok", '"robot_sim_panda": 1', "ray start"):
        assert text in result.stdout


def test_a_bad_key_exits_2_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("robots:\n  - {type: fake, name: a, gripper_colour: red}\n")
    result = fleetrl("robots", "--config", str(path), "--json")
    assert result.returncode == 2
    assert "robots[0].gripper_colour" in result.stderr and "bad.yaml" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_server_is_listed_as_down(tmp_path: Path) -> None:
    if importlib.util.find_spec("fleetrl.hardware.server.remote_robot") is None:
        pytest.skip("the robot server client does not exist yet")
    address = f"127.0.0.1:{free_port()}"
    path = tmp_path / "node.yaml"
    path.write_text(
        f"robots:\n  - {{type: fake, name: here}}\n"
        f"servers:\n  - {{address: '{address}', name: far-arm, timeout_s: 1.0}}\n"
    )
    result = fleetrl("robots", "--config", str(path), "--json", env={"FLEETRL_ROBOT_TOKEN": "t0ken"})
    assert result.returncode == 0, result.stderr
    robots = {r["name"]: r for r in json.loads(result.stdout)["robots"]}
    assert robots["here"]["health"]["status"] == "ok"
    far = robots["far-arm"]
    assert (far["source"], far["address"], far["health"]["status"]) == ("server", address, "down")
    assert address in far["health"]["detail"]
    assert json.loads(result.stdout)["resources"] == {"robot": 1, "robot_fake": 1, "robot_name:here": 1}


def test_without_config_it_lists_what_mdns_finds_inside_a_private_namespace() -> None:
    """`fleetrl robots` with no config browses every interface: run it in a namespace with only
    loopback, next to an announced robot, so no multicast leaves the test."""
    import shutil
    import textwrap
    import uuid

    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 to create a network namespace")
    ns = f"flcli{uuid.uuid4().hex[:6]}"
    if subprocess.run(["ip", "netns", "add", ns], capture_output=True, timeout=10).returncode != 0:
        pytest.skip("cannot create a network namespace here")
    announce = textwrap.dedent(
        """
        import sys
        from fleetrl.hardware.discovery.mdns import RobotAnnouncer
        with RobotAnnouncer("ns-arm", "sim_arx", 6, "127.0.0.1", 50777, cameras=["wrist"]):
            print("announced", flush=True)
            sys.stdin.readline()
        """
    )
    proc = None
    try:
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True, timeout=10)
        in_ns = ["ip", "netns", "exec", ns, sys.executable]
        proc = subprocess.Popen([*in_ns, "-c", announce], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "announced"
        result = subprocess.run(
            [*in_ns, "-m", "fleetrl.cli.main", "robots", "--json"],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
            env={k: v for k, v in os.environ.items() if k != "FLEETRL_ROBOT_TOKEN"},
        )
        assert result.returncode == 0, result.stderr
        payload = json.loads(result.stdout)
        assert [(r["name"], r["kind"], r["dof"], r["source"], r["address"]) for r in payload["robots"]] == [
            ("ns-arm", "sim_arx", 6, "mdns", "127.0.0.1:50777")
        ]
        assert payload["robots"][0]["health"]["detail"] == "no token to probe"
        assert payload["resources"] == {}
    finally:
        if proc is not None:
            assert proc.stdin is not None
            proc.stdin.close()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)
