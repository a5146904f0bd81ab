"""One client drives a served robot: the lease alone (a fake clock), then through a real server."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from fleetrl.core.errors import RobotBusyError, RobotConnectionError
from fleetrl.hardware.robots.fake import FakeArm, FakeArmConfig
from fleetrl.hardware.server import robot_pb2 as pb
from fleetrl.hardware.server.lease import LeaseHeld, NotHolder, RobotLease, client_of, new_client_id
from fleetrl.hardware.server.remote_robot import RemoteRobot, RemoteRobotConfig
from fleetrl.hardware.server.robot_server import RobotServer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_first_client_holds_the_robot_and_others_are_refused_by_name():
    clock = Clock()
    lease = RobotLease(idle_s=10.0, clock=clock)
    assert lease.acquire("a") is False and lease.holder == "a"
    assert lease.acquire("a") is False  # connecting again is idempotent
    clock.now += 9.0
    with pytest.raises(LeaseHeld, match="driven by client a .* last call 9.0 s ago"):
        lease.acquire("b")
    lease.check("a")
    with pytest.raises(NotHolder, match=r"another client \(a\)"):
        lease.check("b")
    assert lease.release("b") is False and lease.holder == "a"  # b cannot free a's robot
    assert lease.release("a") is True and lease.holder is None
    with pytest.raises(NotHolder, match="call Connect first"):
        lease.check("a")


def test_a_silent_holder_is_replaced_after_the_idle_time_and_every_call_keeps_it():
    clock = Clock()
    lease = RobotLease(idle_s=10.0, clock=clock)
    lease.acquire("a")
    clock.now += 8.0
    lease.check("a")  # a call: the idle time starts again
    clock.now += 8.0
    with pytest.raises(LeaseHeld):
        lease.acquire("b")
    clock.now += 2.0  # 10 s since a's last call
    assert lease.acquire("b") is True and lease.holder == "b"
    with pytest.raises(NotHolder):
        lease.check("a")


def test_an_unnamed_client_cannot_drive_and_ids_are_distinct():
    with pytest.raises(NotHolder, match="name itself"):
        RobotLease().acquire("")
    assert new_client_id() != new_client_id()
    assert client_of((("authorization", "Bearer x"), ("x-fleetrl-client", "h:1:ab"))) == "h:1:ab"
    assert client_of(None) == ""


# -- through a served fake arm -------------------------------------------------------------------


def client(server: RobotServer, token: str, busy_wait_s: float = 0.0) -> RemoteRobot:
    return RemoteRobot(RemoteRobotConfig(address=server.address, token=token, timeout_s=5.0, busy_wait_s=busy_wait_s))


def test_a_second_client_can_neither_drive_nor_stop_the_robot_the_first_drives(server, fake_arm, token):
    first, second = client(server, token), client(server, token)
    first.connect()
    first.reset(seed=0)
    with pytest.raises(RobotBusyError, match=f"driven by client {first.client_id}"):
        second.connect()
    # Calls a second client makes without connecting (as a buggy or stale client might):
    with pytest.raises(RobotConnectionError, match="not its holder"):
        second._rpc("SendAction", pb.ActionRequest(action=[0.0] * 7))
    second._rpc("Disconnect", pb.DisconnectRequest())
    assert fake_arm.is_connected  # the first client's robot was not stopped under it
    assert second.served_health().status == "ok" and second.spec == fake_arm.spec  # reading is open
    applied = first.send_action(np.zeros(7, np.float32))
    assert applied.shape == (7,)
    first.disconnect()
    assert not fake_arm.is_connected
    second.connect()  # free again
    second.reset(seed=1)
    second.disconnect()


def test_a_client_waits_for_a_robot_to_be_released_and_takes_over_a_silent_one(token):
    arm = FakeArm(FakeArmConfig())
    with RobotServer(arm, token, lease_idle_s=1.0) as server:
        first, waiting = client(server, token), client(server, token, busy_wait_s=10.0)
        first.connect()
        threading.Timer(0.5, first.disconnect).start()
        start = time.monotonic()
        waiting.connect()  # refused until the first disconnects, 0.5 s from now
        assert 0.4 < time.monotonic() - start < 5.0
        # The waiting client now holds the robot, then falls silent (a worker that died):
        stale = waiting
        replacement = client(server, token, busy_wait_s=10.0)
        start = time.monotonic()
        replacement.connect()  # gets the robot once the silent holder's 1 s idle time has passed
        assert 0.5 < time.monotonic() - start < 5.0
        with pytest.raises(RobotConnectionError, match="not its holder"):
            stale.send_action(np.zeros(7, np.float32))  # the replaced client's actions never arrive
        replacement.reset(seed=0)
        replacement.disconnect()
