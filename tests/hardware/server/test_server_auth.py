"""Only clients holding the server's token reach the robot; refusals say why."""

from __future__ import annotations

import grpc
import pytest

from fleetrl.core.errors import ConfigError, RobotAuthError
from fleetrl.hardware.robots.fake import FakeArm
from fleetrl.hardware.server import robot_pb2 as pb
from fleetrl.hardware.server import robot_pb2_grpc as pb_grpc
from fleetrl.hardware.server.auth import MISSING_TOKEN, WRONG_TOKEN, check_metadata, resolve_token
from fleetrl.hardware.server.remote_robot import RemoteRobot
from fleetrl.hardware.server.robot_server import RobotServer

TOKEN = "test-token-0123456789"  # the token the `server` fixture serves with


def test_right_token_works(remote: RemoteRobot) -> None:
    remote.connect()
    assert remote.spec.kind == "fake"
    assert remote.health().status == "ok"


def test_wrong_token_raises_auth_error_naming_server_and_reason(server: RobotServer, fake_arm: FakeArm) -> None:
    robot = RemoteRobot.at(server.address, "not-the-token", timeout_s=5.0)
    with pytest.raises(RobotAuthError) as caught:
        robot.connect()
    assert server.address in str(caught.value) and "wrong token" in str(caught.value)
    assert not fake_arm.is_connected  # the refused call never reached the robot


def test_missing_token_is_refused_with_its_own_message(server: RobotServer) -> None:
    with grpc.insecure_channel(server.address) as channel:
        stub = pb_grpc.RobotStub(channel)
        with pytest.raises(grpc.RpcError) as caught:
            stub.GetSpec(pb.GetSpecRequest(), timeout=5.0)
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "missing token" in caught.value.details()


def test_every_rpc_is_guarded(server: RobotServer) -> None:
    with grpc.insecure_channel(server.address) as channel:
        stub = pb_grpc.RobotStub(channel)
        calls = [
            (stub.GetSpec, pb.GetSpecRequest()),
            (stub.Connect, pb.ConnectRequest()),
            (stub.Reset, pb.ResetRequest(seed=0)),
            (stub.GetObservation, pb.GetObservationRequest()),
            (stub.SendAction, pb.ActionRequest(action=[0.0] * 7)),
            (stub.Health, pb.HealthRequest()),
            (stub.Disconnect, pb.DisconnectRequest()),
        ]
        for method, request in calls:
            with pytest.raises(grpc.RpcError) as caught:
                method(request, timeout=5.0, metadata=(("authorization", "Bearer nope"),))
            assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ((), MISSING_TOKEN),
        ((("authorization", "Basic abc"),), MISSING_TOKEN),
        ((("authorization", "Bearer "),), MISSING_TOKEN),
        ((("authorization", "Bearer wrong"),), WRONG_TOKEN),
        ((("authorization", f"Bearer {TOKEN}x"),), WRONG_TOKEN),
        ((("authorization", f"Bearer {TOKEN}"),), None),
    ],
)
def test_check_metadata(metadata, expected) -> None:
    assert check_metadata(metadata, TOKEN) == expected


def test_token_comes_from_flag_then_environment() -> None:
    assert resolve_token("flag", env={"FLEETRL_ROBOT_TOKEN": "env"}) == "flag"
    assert resolve_token(None, env={"FLEETRL_ROBOT_TOKEN": "env"}) == "env"
    with pytest.raises(ConfigError, match="--token.*FLEETRL_ROBOT_TOKEN"):
        resolve_token(None, env={})


def test_server_refuses_to_start_without_token(fake_arm: FakeArm) -> None:
    with pytest.raises(ConfigError, match="token"):
        RobotServer(fake_arm, "")


def test_client_without_any_token_fails_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLEETRL_ROBOT_TOKEN", raising=False)
    from fleetrl.hardware.registry import make_robot

    with pytest.raises(ConfigError, match="FLEETRL_ROBOT_TOKEN"):
        make_robot({"type": "remote", "address": "127.0.0.1:1"})
