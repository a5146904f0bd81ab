"""Announcing robot servers over mDNS and browsing for them, on loopback only.

Multicast on the loopback interface works on this machine with zeroconf bound to 127.0.0.1, so
no test traffic leaves the host; the two-host test runs inside network namespaces it creates and
deletes (root only). A responder holds back a record it multicast less than a second
ago (RFC 6762), so browses right after an announcement listen for 2 s.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator

import pytest
from zeroconf import IPVersion, ServiceInfo, Zeroconf

from fleetrl.core.types import CameraSpec
from fleetrl.hardware.discovery.inventory import discover_robots
from fleetrl.hardware.discovery.mdns import (
    SERVICE_TYPE,
    Announcement,
    RobotAnnouncer,
    announced_ipv4s,
    browse_robot_servers,
    decode_cameras,
    encode_cameras,
)
from fleetrl.hardware.node_config import NodeConfig
from fleetrl.hardware.robots.fake.robot import FakeArm, FakeArmConfig

LOOPBACK = ["127.0.0.1"]
BROWSE_S = 2.0
CAMERAS = (CameraSpec("wrist", 96, 128, "wrist"), CameraSpec("scene", 128, 128, "scene"))


def unique(prefix: str) -> str:
    """A name no other test run on this host announces at the same time."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def mine(found: list[Announcement], *names: str) -> dict[str, Announcement]:
    return {a.name: a for a in found if a.name in names}


def test_cameras_round_trip_through_the_txt_value() -> None:
    assert decode_cameras(encode_cameras(CAMERAS)) == CAMERAS
    assert encode_cameras(["front"]) == "front"
    assert decode_cameras("front") == (CameraSpec("front", 128, 128, "scene"),)
    assert decode_cameras("") == ()


def test_announced_address() -> None:
    assert announced_ipv4s("127.0.0.1") == ["127.0.0.1"]
    assert announced_ipv4s("localhost") == ["127.0.0.1"]
    everywhere = announced_ipv4s("0.0.0.0")
    assert everywhere and all(socket.inet_aton(a) for a in everywhere)
    assert everywhere == ["127.0.0.1"] or not any(a.startswith("127.") for a in everywhere)
    with pytest.raises(ValueError, match="IPv6"):
        announced_ipv4s("::1")
    with pytest.raises(ValueError, match="longer than 255"):
        RobotAnnouncer("x", "fake", 7, "127.0.0.1", 1, cameras=["c" * 300])


def test_announce_then_browse_on_loopback() -> None:
    panda, arx = unique("panda"), unique("arx")
    with (
        RobotAnnouncer(panda, "sim_panda", 7, "127.0.0.1", 50051, cameras=CAMERAS, interfaces=LOOPBACK),
        RobotAnnouncer(arx, "sim_arx", 6, "127.0.0.1", 50052, interfaces=LOOPBACK) as second,
    ):
        assert second.address == "127.0.0.1:50052"
        found = mine(browse_robot_servers(BROWSE_S, interfaces=LOOPBACK), panda, arx)
    assert found[panda] == Announcement(panda, "sim_panda", 7, "127.0.0.1:50051", CAMERAS)
    assert found[arx] == Announcement(arx, "sim_arx", 6, "127.0.0.1:50052", ())
    # Stopped announcers are gone for a new browser.
    assert mine(browse_robot_servers(0.5, interfaces=LOOPBACK), panda, arx) == {}


def test_an_announcer_in_another_process_is_found() -> None:
    name = unique("remote-arm")
    script = textwrap.dedent(
        f"""
        import sys
        from fleetrl.hardware.discovery.mdns import RobotAnnouncer
        with RobotAnnouncer({name!r}, "sim_arx", 6, "127.0.0.1", 50999, interfaces=["127.0.0.1"]):
            print("announced", flush=True)
            sys.stdin.readline()   # announce until the test closes our stdin
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "announced"
        found = mine(browse_robot_servers(BROWSE_S, interfaces=LOOPBACK), name)
        assert found[name].address == "127.0.0.1:50999" and found[name].dof == 6
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def test_other_protocol_versions_are_skipped() -> None:
    name = unique("future")
    info = ServiceInfo(
        SERVICE_TYPE,
        f"{name}.{SERVICE_TYPE}",
        addresses=[socket.inet_aton("127.0.0.1")],
        port=50100,
        properties={"name": name, "kind": "x", "dof": "7", "proto": "99"},
        server=f"{name}.local.",
    )
    zc = Zeroconf(interfaces=LOOPBACK, ip_version=IPVersion.V4Only)
    try:
        zc.register_service(info)
        assert mine(browse_robot_servers(BROWSE_S, interfaces=LOOPBACK), name) == {}
    finally:
        zc.unregister_service(info)
        zc.close()


@pytest.fixture
def announced_server() -> Iterator[tuple[str, str]]:
    """A fake arm served by a real RobotServer and announced on loopback: (name, address)."""
    server_module = pytest.importorskip("fleetrl.hardware.server.robot_server")
    name = unique("served")
    arm = FakeArm(FakeArmConfig(name=name, dof=6))
    arm.connect()  # as `fleetrl robot-server` does before it serves
    server = server_module.RobotServer(arm, "s3cret", "127.0.0.1", 0)
    port = server.start()
    try:
        with RobotAnnouncer(name, "fake", 6, "127.0.0.1", port, cameras=arm.spec.cameras, interfaces=LOOPBACK):
            yield name, f"127.0.0.1:{port}"
    finally:
        server.stop(0.5)


def test_discovery_probes_an_announced_server(announced_server: tuple[str, str]) -> None:
    name, address = announced_server
    config = NodeConfig.from_dict({"mdns": {"browse": True, "browse_s": BROWSE_S, "interfaces": LOOPBACK}})
    probed = {r.name: r for r in discover_robots(config, {"FLEETRL_ROBOT_TOKEN": "s3cret"})}
    assert probed[name].source == "mdns" and probed[name].address == address
    assert probed[name].health["status"] == "ok" and probed[name].dof == 6
    assert [c["name"] for c in probed[name].cameras] == ["wrist", "scene"]

    unprobed = {r.name: r for r in discover_robots(config, {})}
    assert unprobed[name].health == {
        "status": "disconnected", "ok": False, "detail": "no token to probe", "latency_ms": None
    }

    # A server also listed under `servers:` is listed once, as configured.
    both = NodeConfig.from_dict({**config.model_dump(include={"mdns"}), "servers": [{"address": address}]})
    records = [r for r in discover_robots(both, {"FLEETRL_ROBOT_TOKEN": "s3cret"}) if r.name == name]
    assert [(r.source, r.ok) for r in records] == [("server", True)]


# -- two hosts: network namespaces joined by a veth pair -----------------------------------------


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


@pytest.fixture
def two_hosts() -> Iterator[tuple[str, str]]:
    """Namespaces A (10.77.<n>.1) and B (10.77.<n>.2) on one veth link; deleted afterwards."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 to create network namespaces")
    tag = uuid.uuid4().hex[:6]
    ns_a, ns_b, subnet = f"flA{tag}", f"flB{tag}", 1 + int(tag, 16) % 250
    try:
        _ip("netns", "add", ns_a)
        _ip("netns", "add", ns_b)
        _ip("link", "add", f"va{tag}", "netns", ns_a, "type", "veth", "peer", "name", f"vb{tag}", "netns", ns_b)
        for ns, dev, host in ((ns_a, f"va{tag}", 1), (ns_b, f"vb{tag}", 2)):
            _ip("-n", ns, "addr", "add", f"10.77.{subnet}.{host}/24", "dev", dev)
            _ip("-n", ns, "link", "set", dev, "up")
            _ip("-n", ns, "link", "set", "lo", "up")
    except subprocess.CalledProcessError as err:
        for ns in (ns_a, ns_b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)
        pytest.skip(f"cannot create network namespaces here: {err.stderr!r}")
    try:
        yield ns_a, ns_b
    finally:
        for ns in (ns_a, ns_b):  # deleting a namespace deletes its end of the veth pair too
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)


def test_a_robot_announced_on_one_host_is_found_from_another(two_hosts: tuple[str, str]) -> None:
    ns_a, ns_b = two_hosts
    name = unique("veth-arm")
    announce = textwrap.dedent(
        f"""
        import socket, sys
        from fleetrl.hardware.discovery.mdns import RobotAnnouncer
        with RobotAnnouncer({name!r}, "sim_panda", 7, "0.0.0.0", 50051):  # every interface, outbound address
            print("announced", flush=True)
            sys.stdin.readline()
        """
    )
    browse = f"from fleetrl.hardware.discovery.mdns import browse_robot_servers as b; print(b({BROWSE_S}))"
    proc = subprocess.Popen(
        ["ip", "netns", "exec", ns_a, sys.executable, "-c", announce],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "announced"
        found = subprocess.run(
            ["ip", "netns", "exec", ns_b, sys.executable, "-c", browse],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
        assert f"name='{name}'" in found and "address='10.77." in found and ".1:50051'" in found
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
