"""Discovery lists every robot, healthy or not, and never waits long for a dead server."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

import pytest

from fleetrl.core.errors import RobotAuthError, RobotConnectionError
from fleetrl.core.interfaces import Robot
from fleetrl.core.types import CameraSpec, Health
from fleetrl.hardware.discovery.inventory import RobotRecord, discover_robots, normalize_address
from fleetrl.hardware.discovery.mdns import Announcement
from fleetrl.hardware.node_config import NodeConfig
from fleetrl.hardware.robots.fake.robot import FakeArm, FakeArmConfig


def node(**data: object) -> NodeConfig:
    return NodeConfig.from_dict(dict(data))


class FakeServers:
    """A stand-in for `RemoteRobot.at`: addresses map to fake arms, dead ports or slow ones."""

    def __init__(self, token: str = "right") -> None:
        self.token = token
        self.arms: dict[str, FakeArm] = {}
        self.slow: dict[str, float] = {}
        self.probed: list[str] = []

    def serve(self, address: str, **config: object) -> FakeArm:
        arm = self.arms[address] = FakeArm(FakeArmConfig(**config))
        arm.connect()  # a robot server connects its robot when it starts
        return arm

    def __call__(self, address: str, token: str, timeout_s: float) -> Robot:
        self.probed.append(address)
        if address in self.slow:
            time.sleep(self.slow[address])  # a server that never answers within its deadline
        if address not in self.arms:
            raise RobotConnectionError(f"robot server {address} unavailable")
        if token != self.token:
            raise RobotAuthError(f"robot server {address} refused the token")
        return ServedFake(self.arms[address])


class ServedFake:
    """What a server client offers a probe: the spec and the served robot's health."""

    def __init__(self, arm: FakeArm) -> None:
        self.arm = arm
        self.spec = arm.spec

    def served_health(self) -> Health:
        return self.arm.health()


def by_name(records: list[RobotRecord]) -> dict[str, RobotRecord]:
    return {r.name: r for r in records}


def test_local_robots_are_listed_with_spec_cameras_and_health() -> None:
    records = discover_robots(node(robots=[{"type": "fake", "name": "a"}, {"type": "fake", "name": "b", "dof": 6}]))
    assert [r.name for r in records] == ["a", "b"]
    a = records[0]
    assert (a.kind, a.dof, a.source, a.address) == ("fake", 7, "local", None)
    assert a.cameras == [
        {"name": "wrist", "height": 128, "width": 128, "mount": "wrist"},
        {"name": "scene", "height": 128, "width": 128, "mount": "scene"},
    ]
    assert a.health["status"] == "ok" and a.health["ok"] is True and a.ok
    assert a.health["latency_ms"] is not None and records[1].dof == 6
    assert set(a.to_dict()) == {"name", "kind", "dof", "cameras", "source", "address", "health"}


def test_a_faulty_robot_is_listed_as_down() -> None:
    records = discover_robots(node(robots=[{"type": "fake", "name": "bad", "fail_health": True}]))
    assert records[0].health["status"] == "down" and "simulated fault" in records[0].health["detail"]
    assert not records[0].ok


def test_a_robot_that_fails_to_connect_is_listed_down_and_the_others_still_listed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = FakeArm._connect

    def connect(self: FakeArm) -> None:
        if self.spec.name == "unplugged":
            raise RobotConnectionError("no robot on /dev/ttyUSB0")
        original(self)

    monkeypatch.setattr(FakeArm, "_connect", connect)
    config = node(robots=[{"type": "fake", "name": "unplugged"}, {"type": "fake", "name": "fine"}])
    records = by_name(discover_robots(config))
    assert records["unplugged"].health["status"] == "down"
    assert "no robot on /dev/ttyUSB0" in records["unplugged"].health["detail"]
    assert records["unplugged"].dof == 7  # the spec is known without connecting
    assert records["fine"].ok


def test_a_robot_that_cannot_be_built_is_listed_down(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(self: FakeArm, config: FakeArmConfig) -> None:
        raise OSError("driver library missing")

    config = node(robots=[{"type": "fake", "name": "ghost"}])
    monkeypatch.setattr(FakeArm, "__init__", explode)
    (record,) = discover_robots(config)
    assert (record.name, record.kind, record.source) == ("ghost", "fake", "local")
    assert record.health["status"] == "down" and "driver library missing" in record.health["detail"]


def test_servers_healthy_unreachable_and_wrong_token() -> None:
    servers = FakeServers()
    servers.serve("10.0.0.1:7000", name="served", dof=6)
    servers.serve("10.0.0.3:7000", name="locked")
    config = node(
        servers=[
            {"address": "10.0.0.1:7000", "token": "right"},
            {"address": "10.0.0.2:7000", "name": "gone", "token": "right"},
            {"address": "10.0.0.3:7000", "name": "locked", "token_env": "LOCKED_TOKEN"},
        ]
    )
    records = discover_robots(config, {"LOCKED_TOKEN": "wrong"}, remote_factory=servers)
    served, gone, locked = records
    assert (served.name, served.dof, served.source, served.address, served.ok) == (
        "served", 6, "server", "10.0.0.1:7000", True
    )
    assert (gone.name, gone.source, gone.address, gone.health["status"]) == ("gone", "server", "10.0.0.2:7000", "down")
    assert "10.0.0.2:7000" in gone.health["detail"]
    assert locked.health["status"] == "down" and "refused token" in locked.health["detail"]


def test_token_comes_from_the_environment_variable_and_missing_token_is_not_probed() -> None:
    servers = FakeServers()
    servers.serve("h:1", name="one")
    config = node(servers=[{"address": "h:1"}, {"address": "h:2", "name": "tokenless", "token_env": "NOPE"}])
    one, tokenless = discover_robots(config, {"FLEETRL_ROBOT_TOKEN": "right"}, remote_factory=servers)
    assert one.ok and one.name == "one"
    assert tokenless.health["status"] == "disconnected" and "no token" in tokenless.health["detail"]
    assert servers.probed == ["h:1"]


def test_dead_servers_are_probed_concurrently_and_bounded_by_the_largest_timeout() -> None:
    servers = FakeServers()
    addresses = [f"10.0.1.{i}:7000" for i in range(6)]
    for address in addresses:
        servers.slow[address] = 5.0  # each would hang far past its 0.3 s deadline
    config = node(
        robots=[{"type": "fake", "name": "local"}],
        servers=[{"address": a, "token": "right", "timeout_s": 0.3} for a in addresses],
    )
    start = time.monotonic()
    records = discover_robots(config, remote_factory=servers)
    elapsed = time.monotonic() - start
    assert elapsed < 2.0, f"listing took {elapsed:.1f} s"
    assert records[0].ok and len(records) == 7
    for record in records[1:]:
        assert record.health["status"] == "down" and "no answer within 0.3 s" in record.health["detail"]


def announced(name: str, address: str) -> Announcement:
    return Announcement(name, "fake", 7, address, (CameraSpec("wrist", 64, 64, "wrist"),))


def fake_browser(found: list[Announcement]) -> object:
    def browse(timeout_s: float, interfaces: Sequence[str] | None) -> list[Announcement]:
        assert interfaces == ["127.0.0.1"]
        return found

    return browse


MDNS = {"browse": True, "browse_s": 0.1, "interfaces": ["127.0.0.1"]}


def test_mdns_finds_without_a_token_are_listed_disconnected_from_the_announcement() -> None:
    found = [announced("far", "10.0.0.9:7000")]
    (record,) = discover_robots(node(mdns=MDNS), {}, browse=fake_browser(found), remote_factory=FakeServers())
    assert (record.name, record.kind, record.dof, record.source, record.address) == (
        "far", "fake", 7, "mdns", "10.0.0.9:7000"
    )
    assert record.cameras == [{"name": "wrist", "height": 64, "width": 64, "mount": "wrist"}]
    assert record.health["status"] == "disconnected" and record.health["detail"] == "no token to probe"


def test_mdns_finds_are_probed_with_the_default_token_and_deduplicated_against_servers() -> None:
    servers = FakeServers()
    servers.serve("localhost:7000", name="configured")
    servers.serve("10.0.0.9:7000", name="announced-only")
    found = [announced("configured", "127.0.0.1:7000"), announced("announced-only", "10.0.0.9:7000")]
    config = node(servers=[{"address": "localhost:7000"}], mdns=MDNS)
    records = discover_robots(
        config, {"FLEETRL_ROBOT_TOKEN": "right"}, browse=fake_browser(found), remote_factory=servers
    )
    assert [(r.name, r.source) for r in records] == [("configured", "server"), ("announced-only", "mdns")]
    assert all(r.ok for r in records)


def test_a_failing_browse_still_lists_the_configured_robots() -> None:
    def broken(timeout_s: float, interfaces: Sequence[str] | None) -> list[Announcement]:
        raise OSError("no multicast route")

    (record,) = discover_robots(node(robots=[{"type": "fake"}], mdns=MDNS), browse=broken)
    assert record.ok


def test_probing_never_connects_or_disconnects_the_served_robot() -> None:
    servers = FakeServers()
    busy = servers.serve("h:1", name="busy")
    idle = servers.serve("h:2", name="idle")
    idle.disconnect()
    busy_record, idle_record = discover_robots(
        node(servers=[{"address": "h:1"}, {"address": "h:2"}]), {"FLEETRL_ROBOT_TOKEN": "right"}, remote_factory=servers
    )
    assert busy.is_connected and busy_record.ok
    assert not idle.is_connected and idle_record.health["status"] == "disconnected"


def test_normalize_address() -> None:
    assert normalize_address("LocalHost:80") == "127.0.0.1:80"
    assert normalize_address("[::1]:80") == "::1:80"
    assert normalize_address("junk") == "junk"


# -- against a real RobotServer and RemoteRobot, once they exist --------------------------------


@pytest.fixture
def served_fake() -> Iterator[tuple[str, FakeArm]]:
    server_module = pytest.importorskip("fleetrl.hardware.server.robot_server")
    arm = FakeArm(FakeArmConfig(name="served", dof=6))
    arm.connect()  # as `fleetrl robot-server` does before it serves
    server = server_module.RobotServer(arm, "s3cret", "127.0.0.1", 0)
    port = server.start()
    try:
        yield f"127.0.0.1:{port}", arm
    finally:
        server.stop(0.5)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_real_robot_server_ok_wrong_token_and_unreachable(served_fake: tuple[str, FakeArm]) -> None:
    address, arm = served_fake
    dead = f"127.0.0.1:{free_port()}"
    config = node(
        servers=[
            {"address": address, "token": "s3cret", "timeout_s": 2.0},
            {"address": address, "name": "wrong-token", "token": "guess", "timeout_s": 2.0},
            {"address": dead, "name": "dead", "token": "s3cret", "timeout_s": 1.0},
        ]
    )
    start = time.monotonic()
    ok, wrong, down = discover_robots(config, {})
    assert time.monotonic() - start < 4.0
    assert (ok.name, ok.kind, ok.dof, ok.source, ok.address, ok.health["status"]) == (
        "served", "fake", 6, "server", address, "ok"
    )
    assert [c["name"] for c in ok.cameras] == ["wrist", "scene"] and ok.health["latency_ms"] > 0
    assert wrong.name == "wrong-token" and wrong.health["status"] == "down"
    assert "refused token" in wrong.health["detail"]
    assert down.name == "dead" and down.address == dead and down.health["status"] == "down"
    assert dead in down.health["detail"]
    assert arm.is_connected, "listing the robots disconnected the served arm"
