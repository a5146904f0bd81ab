"""Fixtures of the robot server tests: a fake arm served on a free localhost port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fleetrl.hardware.robots.fake import FakeArm, FakeArmConfig
from fleetrl.hardware.server.remote_robot import RemoteRobot
from fleetrl.hardware.server.robot_server import RobotServer

TOKEN = "test-token-0123456789"


@pytest.fixture
def token() -> str:
    return TOKEN


@pytest.fixture
def fake_arm() -> FakeArm:
    return FakeArm(FakeArmConfig())


@pytest.fixture
def server(fake_arm: FakeArm) -> Iterator[RobotServer]:
    with RobotServer(fake_arm, TOKEN) as running:
        yield running


@pytest.fixture
def remote(server: RobotServer) -> Iterator[RemoteRobot]:
    robot = RemoteRobot.at(server.address, TOKEN, timeout_s=5.0)
    yield robot
    robot.disconnect()
