"""Every RPC through `RemoteRobot` against a served fake arm, and every way a call can fail."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

from fleetrl.core.errors import ConfigError, RobotConnectionError, UnsafeActionError
from fleetrl.core.types import ACTION_DIM, Observation
from fleetrl.hardware.registry import make_robot
from fleetrl.hardware.robots.fake import FakeArm, FakeArmConfig
from fleetrl.hardware.server.remote_robot import RemoteRobot, RemoteRobotError
from fleetrl.hardware.server.robot_server import RobotServer


def free_port() -> int:
    """A port nothing listens on (bound once by the OS, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SlowArm(FakeArm):
    """A fake arm whose observations take `delay_s` seconds, like a driver that hangs."""

    delay_s = 2.0

    def _observe(self) -> Observation:
        time.sleep(self.delay_s)
        return super()._observe()


class BrokenArm(FakeArm):
    """A fake arm whose driver fails on every action."""

    def _apply_action(self, action: np.ndarray) -> None:
        raise RuntimeError("joint 4 controller fault")


@pytest.fixture
def custom_served(token: str) -> Iterator[tuple[RobotServer, FakeArm]]:
    arm = FakeArm(FakeArmConfig(name="arm-7", dof=6, control_hz=20.0))
    with RobotServer(arm, token) as server:
        yield server, arm


# -- every RPC -----------------------------------------------------------------------------------


def test_spec_before_connect_is_the_served_robots(custom_served, token: str) -> None:
    server, arm = custom_served
    robot = RemoteRobot.at(server.address, token)
    assert not robot.is_connected
    assert robot.spec == arm.spec
    assert not arm.is_connected  # fetching the spec does not connect the robot


def test_connect_reset_observe_act_health_disconnect(custom_served, token: str) -> None:
    server, arm = custom_served
    robot = RemoteRobot.at(server.address, token)
    with robot:
        assert robot.is_connected and arm.is_connected
        robot.connect()  # idempotent
        assert robot.spec == arm.spec
        obs = robot.reset(seed=3)
        assert obs.joint_pos.shape == (6,) and obs.ee_pos.shape == (3,) and obs.ee_quat.shape == (4,)
        assert set(obs.images) == {"wrist", "scene"} and obs.images["wrist"].dtype == np.uint8
        assert obs.images["scene"].shape == (128, 128, 3)
        applied = robot.send_action(np.array([0.01, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]))
        assert applied.dtype == np.float64 and applied.shape == (ACTION_DIM,)
        assert applied.tobytes() == arm.applied[-1].tobytes()
        after = robot.get_observation()
        np.testing.assert_array_equal(after.ee_pos, obs.ee_pos + applied[:3])
        assert after.gripper == 1.0
        health = robot.health()
        assert health.status == "ok" and health.latency_ms is not None and health.latency_ms >= 0
    assert not robot.is_connected and not arm.is_connected
    robot.disconnect()  # idempotent


def test_unseeded_reset(remote: RemoteRobot) -> None:
    remote.connect()
    assert remote.reset().ee_pos.shape == (3,)


def test_calls_before_connect_raise_locally(remote: RemoteRobot) -> None:
    for call in (remote.reset, remote.get_observation, lambda: remote.send_action(np.zeros(7))):
        with pytest.raises(RobotConnectionError, match="not connected"):
            call()
    assert remote.health().status == "disconnected"


def test_server_side_clipping_is_returned_as_the_applied_action(remote: RemoteRobot, fake_arm: FakeArm) -> None:
    remote.connect()
    remote.reset(seed=0)
    sent = np.array([0.5, 0.0, 0.0, 1.0, 0.0, 0.0, 2.0])
    applied = remote.send_action(sent)
    limits = fake_arm.limits
    assert np.linalg.norm(applied[:3]) == pytest.approx(limits.max_translation_per_step)
    assert np.linalg.norm(applied[3:6]) == pytest.approx(limits.max_rotation_per_step)
    assert applied[6] == limits.gripper_high
    assert applied.tobytes() == fake_arm.applied[-1].tobytes()
    assert fake_arm.clipped_steps == 1


@pytest.mark.parametrize(
    "action",
    [
        np.array([np.nan, 0, 0, 0, 0, 0, 0]),
        np.array([0, 0, np.inf, 0, 0, 0, 0]),
        np.array([0, 0, 0, 0, 0, 0, -np.inf]),
        np.zeros(6),
        np.zeros((1, 7)),
        ["a", "b", "c", "d", "e", "f", "g"],
    ],
    ids=["nan", "inf", "-inf", "short", "2-d", "not numeric"],
)
def test_unsafe_action_is_refused_before_it_is_sent(remote: RemoteRobot, fake_arm: FakeArm, action) -> None:
    remote.connect()
    remote.reset(seed=0)
    with pytest.raises(UnsafeActionError, match="action refused"):
        remote.send_action(action)
    assert fake_arm.applied == []


def test_health_of_a_faulty_served_robot(token: str) -> None:
    with RobotServer(FakeArm(FakeArmConfig(fail_health=True)), token) as server:
        with RemoteRobot.at(server.address, token) as robot:
            health = robot.health()
    assert health.status == "down" and "simulated fault" in health.detail


# -- failures ------------------------------------------------------------------------------------


def test_nothing_listening_fails_within_the_deadline() -> None:
    robot = RemoteRobot.at(f"127.0.0.1:{free_port()}", "token", timeout_s=1.0)
    start = time.monotonic()
    with pytest.raises(RobotConnectionError) as caught:
        robot.connect()
    elapsed = time.monotonic() - start
    assert elapsed < 1.0 + 0.5
    assert robot.address in str(caught.value) and "1 s" in str(caught.value)


def test_a_server_that_never_answers_fails_at_the_deadline() -> None:
    with socket.socket() as silent:  # accepts TCP connections (backlog) but never speaks gRPC
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        robot = RemoteRobot.at(f"127.0.0.1:{silent.getsockname()[1]}", "token", timeout_s=0.5)
        start = time.monotonic()
        with pytest.raises(RobotConnectionError) as caught:
            robot.connect()
        elapsed = time.monotonic() - start
        health = robot.health()
    assert 0.4 < elapsed < 0.5 + 1.0
    assert "0.5 s" in str(caught.value)
    assert health.status == "down"


def test_a_hung_robot_fails_the_call_at_its_deadline(token: str) -> None:
    arm = SlowArm(FakeArmConfig())
    with RobotServer(arm, token) as server:
        robot = RemoteRobot.at(server.address, token, timeout_s=0.5)
        robot.connect()
        start = time.monotonic()
        with pytest.raises(RobotConnectionError, match="did not answer GetObservation within its 0.5 s deadline"):
            robot.get_observation()
        assert time.monotonic() - start < 0.5 + 1.0
        robot.disconnect()


def test_an_action_whose_deadline_passes_in_the_queue_never_moves_the_robot(token: str) -> None:
    arm = SlowArm(FakeArmConfig())
    arm.delay_s = 1.5
    # `late` drives the robot: it takes the lease over once `busy` has been silent for 0.5 s
    # (the default 30 s made this test wait half a minute for nothing).
    with RobotServer(arm, token, lease_idle_s=0.5) as server:
        busy = RemoteRobot.at(server.address, token, timeout_s=5.0)
        late = RemoteRobot.at(server.address, token, timeout_s=0.3)
        busy.connect()
        late.connect()
        observer = threading.Thread(target=busy.get_observation, daemon=True)
        observer.start()
        time.sleep(0.2)  # let the slow observation take the robot's lock
        with pytest.raises(RobotConnectionError, match="deadline"):
            late.send_action(np.zeros(7))
        observer.join(timeout=5.0)
        assert not observer.is_alive()
        time.sleep(0.2)
        assert arm.applied == []


def test_health_of_a_dead_server_is_down_not_an_exception(fake_arm: FakeArm, token: str) -> None:
    server = RobotServer(fake_arm, token)
    server.start()
    robot = RemoteRobot.at(server.address, token, timeout_s=1.0)
    robot.connect()
    server.stop(grace_s=0.5)
    assert not fake_arm.is_connected  # stopping the server released the robot
    start = time.monotonic()
    health = robot.health()
    assert time.monotonic() - start < 1.0 + 0.5
    assert health.status == "down" and server.address in health.detail
    assert health.latency_ms is not None
    robot.disconnect()  # a dead link does not raise


def test_robot_not_connected_on_the_server_side(remote: RemoteRobot, fake_arm: FakeArm) -> None:
    remote.connect()
    fake_arm.disconnect()  # e.g. the server's operator released the arm
    with pytest.raises(RobotConnectionError, match="not connected"):
        remote.get_observation()


def test_a_robot_fault_keeps_its_message(token: str) -> None:
    with RobotServer(BrokenArm(FakeArmConfig()), token) as server:
        with RemoteRobot.at(server.address, token) as robot:
            robot.reset(seed=0)
            with pytest.raises(RemoteRobotError, match="INTERNAL.*RuntimeError: joint 4 controller fault"):
                robot.send_action(np.zeros(7))


def test_server_cannot_take_a_port_in_use(fake_arm: FakeArm, token: str) -> None:
    from fleetrl.hardware.server.robot_server import ServerStartError

    with RobotServer(fake_arm, token) as first:
        with pytest.raises(ServerStartError, match=str(first.port)):
            RobotServer(FakeArm(FakeArmConfig()), token, port=first.port).start()


# -- registry and config -------------------------------------------------------------------------


def test_remote_is_a_registry_robot(server: RobotServer, token: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLEETRL_ROBOT_TOKEN", token)
    robot = make_robot({"type": "remote", "address": server.address, "timeout_s": 2.0})
    assert isinstance(robot, RemoteRobot)
    with robot:
        assert robot.spec.kind == "fake"
        assert robot.reset(seed=1).ee_pos.shape == (3,)


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"type": "remote"}, "robot.address"),
        ({"type": "remote", "address": "no-port"}, "robot.address"),
        ({"type": "remote", "address": "h:1", "timeout_s": 0}, "robot.timeout_s"),
        ({"type": "remote", "address": "h:1", "tokn": "x"}, "robot.tokn: unknown key"),
    ],
)
def test_bad_remote_config_names_the_key(data, key) -> None:
    with pytest.raises(ConfigError, match=key):
        make_robot(data)


def test_token_is_not_shown_in_the_config_repr() -> None:
    robot = RemoteRobot.at("127.0.0.1:1", "very-secret")
    assert "very-secret" not in repr(robot.config) and "very-secret" not in repr(robot)


def test_served_health_reads_the_served_robot_without_connecting_the_client(server, fake_arm, token):
    from fleetrl.hardware.server.remote_robot import RemoteRobot

    fake_arm.connect()
    probe = RemoteRobot.at(server.address, token, timeout_s=2.0)
    assert probe.served_health().status == "ok"
    assert probe.health().status == "disconnected"  # this client is not connected...
    assert not probe.is_connected and fake_arm.is_connected  # ...and the served arm is untouched
    fake_arm.config = fake_arm.config.model_copy(update={"fail_health": True})
    assert probe.served_health().status == "down"
